"""An editor pointed at a server that only speaks HTTP (as vLLM or Ollama do) gets completions."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp.modelserver.engines.scripted import ScriptedEngine

from .conftest import start_editor, stop_editor


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_inline_completion_over_an_http_only_endpoint(tmp_path: Path, api: str) -> None:
    engine = ScriptedEngine.reply("return a * b")
    editor = await start_editor(
        tmp_path, engine, model_config={"http_port": 0}, env={"SPARK_LSP_API": api}
    )
    try:
        await editor.wait_state("ready")
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        items = await editor.inline(uri, 1, 4, invoked=True)
        assert [item.insert_text for item in items] == ["return a * b"]
        assert editor.model.stats.http_connections_total >= 1
        assert editor.model.stats.connections_total == 0  # no WebSocket was opened
        sent = [m for m in editor.model.stats.received if m.get("generate") is not False]
        assert "previous_response_id" not in sent[-1]  # nothing chains over HTTP
    finally:
        await stop_editor(editor)
