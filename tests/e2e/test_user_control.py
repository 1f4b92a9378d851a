"""The user in control: manual trigger, the key from a command, custom actions, model shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine

from .conftest import TOKEN, start_editor, stop_editor
from .test_code_actions import actions, single_edit


async def test_manual_trigger_makes_no_automatic_model_call(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("return a * b"),
                                configuration={"spark": {"completion": {"trigger": "manual"}}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        for column in range(4, 8):
            editor.insert(uri, 1, column, "r")
            assert await editor.inline(uri, 1, column + 1) == []
        assert editor.model_calls() == 0
        assert await editor.inline(uri, 1, 8, invoked=True)  # an explicit request still runs
        assert editor.model_calls() == 1
    finally:
        await stop_editor(editor)


async def test_the_key_command_is_reread_on_401_and_never_shown(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    script = tmp_path / "key.sh"  # a password manager whose key was rotated after the first read
    script.write_text(
        f'echo run >> "{runs}"\n'
        f'if [ "$(wc -l < "{runs}")" -eq 1 ]; then echo stale-key-0123456789abcdef; '
        f"else echo {TOKEN}; fi\necho 'second line is ignored'\n"
    )
    log = tmp_path / "server.log"
    editor = await start_editor(
        tmp_path, ScriptedEngine.reply("return a * b"), env={"OPENAI_API_KEY": ""},
        init_options={"model": {"apiKeyCommand": f"sh {script}"}},
        server_args=("--log-level", "DEBUG", "--log-file", str(log)),
    )
    try:
        await editor.wait_state("ready", timeout=30)
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        assert await editor.inline(uri, 1, 4, invoked=True)
        assert runs.read_text().count("run") == 2  # once at start, once after the 401
        stats = await editor.stats()
        assert stats["status"]["endpointUrl"].startswith("ws://127.0.0.1:")
        assert stats["status"]["model"] == "gpt-5.3-codex-spark"
        shown = [
            log.read_text(), str(stats), str(editor.statuses),
            str(editor.client.log_messages), str(editor.client.messages),
        ]
        for text in shown:
            assert TOKEN not in text and "stale-key-0123456789abcdef" not in text
    finally:
        await stop_editor(editor)


async def test_a_failing_key_command_says_so_without_its_output(tmp_path: Path) -> None:
    editor = await start_editor(
        tmp_path, ScriptedEngine.reply("x"), env={"OPENAI_API_KEY": ""},
        init_options={"model": {"apiKeyCommand": "printf 'sk-%s' leaked-0123456789ab; exit 3"}},
    )
    try:
        await editor.wait_state("error")
        stats = await editor.stats()
        assert "apiKeyCommand failed with exit status 3" in stats["status"]["detail"]
        assert "sk-leaked" not in str(stats) + str(editor.client.messages)
    finally:
        await stop_editor(editor)


SHOUT = "Rewrite the comments of this {language} code in upper case: {selection}"


async def test_a_custom_action_is_listed_for_its_languages_and_edits_minimally(
    tmp_path: Path,
) -> None:
    engine = ScriptedEngine(Script(replies=(
        Reply(when="Task: Rewrite the comments of this python code in upper case: x = 1  # one",
              text="x = 1  # ONE\ny = 2\n"),
    ), default=Reply(text="")))
    custom = [{"title": "Shout comments", "instruction": SHOUT, "languages": ["python"]},
              {"title": "Explain here", "instruction": "Explain", "needsSelection": False,
               "languages": ["lua"], "kind": "quickfix"}]
    editor = await start_editor(tmp_path, engine,
                                configuration={"spark": {"actions": {"custom": custom}}})
    try:
        await editor.wait_state("ready")
        py = editor.open("a.py", "x = 1  # one\ny = 2\nz = 3\n")
        js = editor.open("a.js", "let x = 1; // one\n", "javascript")
        lua = editor.open("a.lua", "local x = 1 -- one\n", "lua")
        async def titles(uri: str, end: tuple[int, int]) -> list[str]:
            return [a.title for a in await actions(editor, uri, (0, 0), end)]

        assert "Spark: Shout comments" in await titles(py, (2, 0))
        assert "Spark: Explain here" not in await titles(py, (2, 0))
        assert "Spark: Shout comments" not in await titles(js, (1, 0))  # not its language
        assert "Spark: Shout comments" not in await titles(py, (0, 0))  # no selection
        lua_actions = await actions(editor, lua, (0, 0), (0, 0))  # needs no selection
        assert [(a.title, a.kind) for a in lua_actions if "Explain" in a.title] == [
            ("Spark: Explain here", "quickfix")]
        assert editor.model_calls() == 0  # listing is free
        shout = next(a for a in await actions(editor, py, (0, 0), (2, 0))
                     if a.title == "Spark: Shout comments")
        resolved = await editor.client.code_action_resolve_async(shout)
        change, edits = single_edit(resolved)
        assert change.text_document.version == 1
        # Only the changed line is replaced; y = 2 (selected, unchanged) is left alone.
        assert [(e.range.start.line, e.range.end.line, e.new_text) for e in edits] == [
            (0, 1, "x = 1  # ONE\n")]
    finally:
        await stop_editor(editor)


async def test_status_names_the_model_and_endpoint(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("x"))
    try:
        await editor.wait_state("ready")
        for _ in range(50):
            if any(s.get("endpointUrl") for s in editor.statuses):
                break
            await asyncio.sleep(0.05)
        status = editor.statuses[-1]
        assert status["model"] == "gpt-5.3-codex-spark" and status["endpoint"] == "remote"
        assert status["endpointUrl"] == editor.model.url.split("?")[0]
        assert TOKEN not in str(editor.statuses)
    finally:
        await stop_editor(editor)
