"""Alternatives on request, the "thinking" status and acceptance figures, end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from spark_lsp.modelserver.engines.scripted import FaultSpec, Reply, Script, ScriptedEngine

from .conftest import NO_PREFETCH, Editor, start_editor, stop_editor

#: Each extra call is told which suggestion it is: the scripted model answers by that note.
VARIED = Script(
    replies=(
        Reply(text="return a * b", when="this is suggestion 2"),
        Reply(text="return a * b  ", when="this is suggestion 3"),
        Reply(text="return mul_two(a, b)", when="this is suggestion 4"),
    ),
    default=Reply(text="return a * b"),
)


async def started(tmp_path: Path, engine: ScriptedEngine, **completion: Any) -> Editor:
    """An editor with these ``spark.completion`` settings (and no prefetch: calls are counted)."""
    options = {"completion": {**NO_PREFETCH["completion"], **completion}}
    editor = await start_editor(tmp_path, engine, init_options=options)
    await editor.wait_state("ready")
    return editor


async def accept(editor: Editor, item: types.InlineCompletionItem, *extra: Any) -> Any:
    """Run the item's command as an editor does on accept (with ``extra`` arguments)."""
    assert item.command is not None
    return await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=item.command.command, arguments=[*(item.command.arguments or []), *extra]
        )
    )


async def test_an_explicit_request_offers_distinct_alternatives(tmp_path: Path) -> None:
    editor = await started(tmp_path, ScriptedEngine(VARIED), alternatives=4)
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        items = await editor.inline(uri, 1, 4, invoked=True)
        # Four calls; the second repeats the first and the third differs only by trailing
        # blanks, which the filters strip: duplicates after filtering are dropped.
        assert [i.insert_text for i in items] == ["return a * b", "return mul_two(a, b)"]
        assert editor.model_calls() == 4
        ids = {tuple(i.command.arguments or ()) for i in items if i.command}
        assert len(ids) == 1  # one suggestion shown, whichever alternative is taken
    finally:
        await stop_editor(editor)


async def test_typing_makes_one_model_call_and_one_item(tmp_path: Path) -> None:
    editor = await started(tmp_path, ScriptedEngine(VARIED), alternatives=4)
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        items = await editor.inline(uri, 1, 4)
        assert [i.insert_text for i in items] == ["return a * b"]
        assert editor.model_calls() == 1
    finally:
        await stop_editor(editor)


async def test_one_alternative_means_one_call_when_asked(tmp_path: Path) -> None:
    editor = await started(tmp_path, ScriptedEngine(VARIED), alternatives=1)
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        assert len(await editor.inline(uri, 1, 4, invoked=True)) == 1
        assert editor.model_calls() == 1
    finally:
        await stop_editor(editor)


def states(editor: Editor) -> list[str]:
    return [status["state"] for status in editor.statuses]


async def test_a_slow_model_shows_thinking_then_ready(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("return a * b", ttft_ms=900)
    editor = await started(tmp_path, engine, thinkingAfterMs=200)
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        before = len(editor.statuses)
        request = asyncio.create_task(editor.inline(uri, 1, 4))
        await asyncio.sleep(0.6)
        assert states(editor)[before:] == ["thinking"]
        assert (await editor.stats())["status"]["state"] == "thinking"
        assert [i.insert_text for i in await request] == ["return a * b"]
        await asyncio.sleep(0.1)
        assert states(editor)[before:] == ["thinking", "ready"]
    finally:
        await stop_editor(editor)


async def test_slow_alternatives_show_thinking_even_when_the_main_one_is_cached(
    tmp_path: Path,
) -> None:
    slow_second = Script(
        replies=(
            Reply(
                text="return b * a",
                when="this is suggestion 2",
                fault=FaultSpec(stall_after_deltas=0, stall_s=1.0),
            ),
        ),
        default=Reply(text="return a * b"),
    )
    editor = await started(
        tmp_path, ScriptedEngine(slow_second), alternatives=2, thinkingAfterMs=200
    )
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        assert len(await editor.inline(uri, 1, 4)) == 1  # the main one, now cached
        before = len(editor.statuses)
        items = await editor.inline(uri, 1, 4, invoked=True)
        assert [i.insert_text for i in items] == ["return a * b", "return b * a"]
        await asyncio.sleep(0.1)
        assert states(editor)[before:] == ["thinking", "ready"]
    finally:
        await stop_editor(editor)


async def test_a_fast_answer_sends_no_status(tmp_path: Path) -> None:
    editor = await started(tmp_path, ScriptedEngine.reply("return a * b", ttft_ms=20))
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        before = len(editor.statuses)
        for line in range(3):
            editor.insert(uri, 1, 4, " ")
            assert await editor.inline(uri, 1, 5 + line, invoked=True)
        await asyncio.sleep(0.5)
        assert editor.statuses[before:] == []
    finally:
        await stop_editor(editor)


async def test_accepts_are_counted_per_language_without_text(tmp_path: Path) -> None:
    editor = await started(tmp_path, ScriptedEngine.reply("return a * b"))
    try:
        py = editor.open("calc.py", "def mul(a, b):\n    \n")
        js = editor.open("calc.js", "function mul(a, b) {\n  \n}\n", "javascript")
        (item,) = await editor.inline(py, 1, 4, invoked=True)
        assert await accept(editor, item) == {"counted": True}
        assert await accept(editor, item) == {"counted": False}  # once per suggestion
        (shown_js,) = await editor.inline(js, 1, 2, invoked=True)
        assert await accept(editor, shown_js, "partial") == {"counted": True}
        acceptance = (await editor.stats())["acceptance"]
        python = acceptance["languages"]["python"]
        assert (python["shown"], python["accepted"], python["partiallyAccepted"]) == (1, 1, 0)
        assert python["acceptanceRate"] == 1.0 and python["latencyMs"]["p50"] > 0
        javascript = acceptance["languages"]["javascript"]
        assert (javascript["shown"], javascript["accepted"], javascript["partiallyAccepted"]) == (
            1,
            0,
            1,
        )
        assert acceptance["total"]["shown"] == 2 and acceptance["total"]["acceptanceRate"] == 0.5
        assert "return" not in str(acceptance)
    finally:
        await stop_editor(editor)


async def test_typing_through_a_suggestion_counts_it_once(tmp_path: Path) -> None:
    editor = await started(tmp_path, ScriptedEngine.reply("return a * b"))
    try:
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        (first,) = await editor.inline(uri, 1, 4)
        editor.insert(uri, 1, 4, "ret")
        (rest,) = await editor.inline(uri, 1, 7)
        assert rest.insert_text == "urn a * b"
        assert rest.command == first.command
        assert await accept(editor, rest) == {"counted": True}
        python = (await editor.stats())["acceptance"]["languages"]["python"]
        assert (python["shown"], python["accepted"]) == (1, 1)
    finally:
        await stop_editor(editor)


async def test_a_bad_accept_argument_is_ignored(editor: Editor) -> None:
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="spark.didAccept", arguments=["x"])
    )
    assert result == {"counted": False}
    assert (await editor.stats())["acceptance"]["total"]["accepted"] == 0
