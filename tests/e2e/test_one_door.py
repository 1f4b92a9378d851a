"""Every way in goes through the one door: an excluded file never reaches the model.

For each entry (code actions and their resolve and command paths, edit by instruction,
``spark-lsp complete``; inline completion in ``test_context.py``) an excluded file makes no
request the model server can see, and the status, a message or the exit line says why.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from spark_lsp.engine.messages import ActionSpec
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer
from spark_lsp.shared.privacy import RECHECK_IGNORE_FILES_S
from tests.modelserver_helpers import TOKEN, running

from .conftest import Editor, start_editor, stop_editor

SECRET_LINE = "DB_PASSWORD=hunter2secret\n"
CODE = "def area(w, h):\n    return w * h\n"


def received_text(model: ModelServer) -> str:
    """Everything the model server was sent, as one string."""
    return "\n".join(str(message) for message in model.stats.received)


def requests(model: ModelServer) -> list[dict[str, Any]]:
    """The generating requests (a ``generate: false`` warm-up or probe asks for no text)."""
    return [
        m
        for m in model.stats.received
        if m.get("type") == "response.create" and m.get("generate") is not False
    ]


async def code_actions(editor: Editor, uri: str) -> list[types.CodeAction]:
    diagnostic = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=5)
        ),
        message="expected ':'",
        source="pyright",
    )
    result = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=1, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def execute(editor: Editor, command: str, argument: Any) -> Any:
    return await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[argument])
    )


async def test_actions_and_edits_on_excluded_files_never_reach_the_model(
    tmp_path: Path,
) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("def area(width, h):\n"))
    try:
        await editor.wait_state("ready")
        (tmp_path / ".gitignore").write_text("scratch/\n")
        ignored = editor.open("scratch/notes.py", CODE + SECRET_LINE)
        dotenv = editor.open(".env", SECRET_LINE, "dotenv")
        for uri in (ignored, dotenv):
            assert await code_actions(editor, uri) == []  # nothing offered...
            spec = ActionSpec("simplify", uri, 1, 0, 0, 1, 0).to_data()
            forged = types.CodeAction(title="Spark: Simplify", data=spec)
            with pytest.raises(JsonRpcException, match="not sent to the model"):
                await editor.client.code_action_resolve_async(forged)  # ...or computed
            assert await execute(editor, "spark.applyAction", spec) is False
            selection = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
            edit = {"uri": uri, "range": selection, "instruction": "rename w to width"}
            assert await execute(editor, "spark.editSelection", edit) is False
        assert requests(editor.model) == [] and "hunter2secret" not in received_text(editor.model)
        assert editor.applied == []
        said = [m.message for m in editor.client.messages]
        assert any("not sent to the model: excluded by .gitignore" in m for m in said), said
        assert any("not sent to the model: .env looks like a secrets file" in m for m in said)
        stats = await editor.stats()
        assert stats["status"]["detail"].startswith("this file is not sent to the model")
        allowed = editor.open("geo.py", CODE)  # the same requests on an allowed file do run
        edit = {"uri": allowed, "range": selection, "instruction": "rename w to width"}
        assert await execute(editor, "spark.editSelection", edit) is True
        assert len(requests(editor.model)) == 1
    finally:
        await stop_editor(editor)


async def test_an_edited_gitignore_applies_without_restart(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("return 1"))
    try:
        await editor.wait_state("ready")
        uri = editor.open("draft.py", "def main():\n    \n")
        assert await editor.inline(uri, 1, 4, invoked=True)
        assert len(requests(editor.model)) == 1
        (tmp_path / ".gitignore").write_text("draft.py\n")
        await asyncio.sleep(RECHECK_IGNORE_FILES_S + 0.1)  # the policy re-reads within this
        editor.insert(uri, 1, 4, "x")
        assert await editor.inline(uri, 1, 5, invoked=True) == []
        assert len(requests(editor.model)) == 1
        detail = (await editor.stats())["status"]["detail"]
        assert detail == "this file is not sent to the model: excluded by .gitignore/.sparkignore"
    finally:
        await stop_editor(editor)


# -- spark-lsp complete ------------------------------------------------------------------------


async def complete(location: str, cwd: Path, model: ModelServer) -> tuple[int, str, str]:
    """Run ``spark-lsp complete`` against ``model``; (exit code, stdout, stderr)."""
    env = {**os.environ, "SPARK_LSP_ENDPOINT": model.url, "OPENAI_API_KEY": TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spark_lsp",
        "complete",
        location,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_spark_lsp_complete_refuses_excluded_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("local/\n")
    (tmp_path / "local").mkdir()
    (tmp_path / ".env").write_text(SECRET_LINE + "OPENAI_KEY=sk-proj-abcdefghijklmnopqrstuvwx\n")
    (tmp_path / "local" / "app.py").write_text(CODE + SECRET_LINE)
    async with running(ScriptedEngine.reply("return 1")) as model:
        env_file = await complete(".env:1:6", tmp_path, model)
        ignored = await complete("local/app.py:2:5", tmp_path, model)
        assert model.stats.connections_total == 0 and list(model.stats.received) == []
    code, out, err = env_file
    assert (code, out) == (1, "")
    reason = "this file is not sent to the model: .env looks like a secrets file"
    assert err == f"spark-lsp: .env: {reason}\n"
    code, out, err = ignored
    assert (code, out) == (1, "")
    assert err.strip().endswith("excluded by .gitignore/.sparkignore")
    assert len(err.splitlines()) == 1


async def test_spark_lsp_complete_sends_what_the_language_server_would(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pkg").mkdir()
    source = CODE + SECRET_LINE + "\n\ndef main():\n    \n"
    (tmp_path / "pkg" / "app.py").write_text(source)
    async with running(ScriptedEngine.reply("return area(2, 3)")) as model:
        code, out, err = await complete("pkg/app.py:7:5", tmp_path, model)
        sent = requests(model)
    assert (code, out, err) == (0, "return area(2, 3)\n", "")
    assert len(sent) == 1, sent
    assert str(sent[0].get("prompt_cache_key", "")).startswith("spark-lsp-")
    text = received_text(model)
    assert "hunter2secret" not in text and "«redacted»" in text
    assert "pkg/app.py" in text  # named relative to the workspace root, as in the editor
