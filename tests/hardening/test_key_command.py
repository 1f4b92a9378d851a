"""spark.model.apiKeyCommand through a real server: restarts while it runs, and bad keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from spark_lsp.modelserver.engines.scripted import ScriptedEngine

from . import TOKEN, launch, popups, stop_editor

REPLY = "return a * b"
DOC = "def mul(a, b):\n    \n"


async def test_settings_changes_during_a_slow_key_command_leave_one_session(
    tmp_path: Path,
) -> None:
    script = tmp_path / "key.sh"
    script.write_text(f"sleep 1\necho {TOKEN}\n")
    root = tmp_path / "ws"
    root.mkdir()
    editor = await launch(
        root,
        ScriptedEngine.reply(REPLY),
        init_options={"model": {"apiKeyCommand": f"sh {script}", "connections": 1}},
        env={"OPENAI_API_KEY": ""},
    )
    try:
        for n in range(6):  # each change of spark.model restarts the model side
            editor.client.set_configuration({"spark": {"model": {"name": f"model-{n}"}}})
            editor.client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=None)
            )
            await asyncio.sleep(0.15)
        await editor.wait_state("ready", timeout=30)
        uri = editor.open("calc.py", DOC)
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == REPLY
        received = [m for m in editor.model.stats.received if m.get("type") == "response.create"]
        assert received[-1]["model"] == "model-5"
        # Superseded starts finish their key read within a second or two: give them the time.
        await asyncio.sleep(3)
        assert editor.model.stats.connections_open == 1
        assert popups(editor) == [], popups(editor)
    finally:
        await stop_editor(editor)


async def test_an_invisible_character_in_the_commands_key_is_one_clear_message(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    editor = await launch(
        root,
        ScriptedEngine.reply(REPLY),
        init_options={"model": {"apiKeyCommand": "printf 'e2e-secret\\342\\200\\213token\\n'"}},
    )
    try:
        await editor.wait_state("error")
        uri = editor.open("calc.py", DOC)
        for _ in range(3):
            assert await editor.inline(uri, 1, 4, invoked=True) == []
        shown = popups(editor)
        assert len(shown) == 1 and "ZERO WIDTH SPACE" in shown[0], shown
        assert "apiKeyCommand" in shown[0] and "internal error" not in shown[0]
        assert editor.model.stats.connections_total == 0
    finally:
        await stop_editor(editor)

