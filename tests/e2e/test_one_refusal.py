"""One refusal for every model call: with completions off, typing makes no model call at all.

Each way of switching completions off (the status-bar toggle, ``spark.completion.trigger:
manual``, the language switched off, the file excluded) is tested the same way: a client that
shows next edits, with the ready-on-accept prefetch on, types and asks for ghost text; the
model server must receive nothing: no completion, no prefetch, no next-edit prediction.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from tests.e2e.conftest import Editor, start_editor, stop_editor

SOURCE = "def area(w, h):\n    return w * h\n\n\nprint(area(2, 3))\n"
NEXT_EDIT = {"experimental": {"nextEdit": True}, "nextEdit": {"debounceMs": 50}}
TOGGLE = "spark.toggleCompletions"


async def toggle(editor: Editor) -> Any:
    return await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=TOGGLE)
    )


def model_requests(editor: Editor) -> list[dict[str, Any]]:
    """Every request the model received, warm-ups included."""
    return [m for m in editor.model.stats.received if m.get("type") == "response.create"]


async def type_and_ask(editor: Editor, uri: str) -> None:
    """Rename ``w`` to ``width`` key by key, asking for ghost text after each key, then pause
    well past the next-edit debounce; a round trip at the end flushes what was sent."""
    editor.replace(uri, (0, 9, 0, 10), "")
    for i, char in enumerate("width"):
        editor.insert(uri, 0, 9 + i, char)
        assert await editor.inline(uri, 0, 10 + i) == []
    await asyncio.sleep(0.5)
    await editor.stats()


OFF: dict[str, tuple[dict[str, Any], str, bool]] = {
    # name: (initializationOptions, file name, toggle after start)
    "toggle": ({}, "area.py", True),
    "manual": ({"completion": {"trigger": "manual"}}, "area.py", False),
    "language": ({"completion": {"languages": {"python": False}}}, "area.py", False),
    "excluded": ({}, ".env", False),
}


@pytest.mark.parametrize("way", list(OFF))
async def test_typing_with_completions_off_makes_no_model_call(tmp_path: Path, way: str) -> None:
    init, name, toggled = OFF[way]
    editor = await start_editor(
        tmp_path, ScriptedEngine.reply("return a * b"), init_options={**NEXT_EDIT, **init},
        prefetch=True,
    )
    try:
        await editor.wait_state("ready")
        if toggled:
            assert await toggle(editor) == {"enabled": False}
        uri = editor.open(name, SOURCE)
        before = len(model_requests(editor))
        await type_and_ask(editor, uri)
        assert model_requests(editor)[before:] == []
        assert (await editor.stats())["nextEdit"]["counters"].get("proposals", 0) == 0
    finally:
        await stop_editor(editor)


@pytest.mark.parametrize("way", ["toggle", "manual"])
async def test_an_explicit_request_with_completions_off_makes_one_call_and_no_prefetch(
    tmp_path: Path, way: str
) -> None:
    init, name, toggled = OFF[way]
    editor = await start_editor(
        tmp_path, ScriptedEngine.reply("return a * b"), init_options={**NEXT_EDIT, **init},
        prefetch=True,
    )
    try:
        await editor.wait_state("ready")
        if toggled:
            await toggle(editor)
        uri = editor.open(name, "def mul(a, b):\n    \n")
        items = await editor.inline(uri, 1, 4, invoked=True)
        assert [item.insert_text for item in items] == ["return a * b"]
        await asyncio.sleep(0.5)  # a prefetch would start right after the answer
        await editor.stats()
        assert editor.model_calls() == 1
    finally:
        await stop_editor(editor)


async def test_positions_outside_the_document_make_no_model_call(tmp_path: Path) -> None:
    editor = await start_editor(
        tmp_path, ScriptedEngine.reply("return a * b"), init_options=NEXT_EDIT, prefetch=True
    )
    try:
        await editor.wait_state("ready")
        uri = editor.open("area.py", SOURCE)
        before = len(model_requests(editor))
        for invoked in (False, True):
            assert await editor.inline(uri, 40, 0, invoked=invoked) == []
        params = {"textDocument": {"uri": uri}, "position": {"line": 40, "character": 0}}
        assert await editor.client.protocol.send_request_async("spark/nextEdit", params) is None
        await editor.stats()
        assert model_requests(editor)[before:] == []
    finally:
        await stop_editor(editor)


async def test_a_prediction_scheduled_before_the_toggle_is_not_sent_after_it(
    tmp_path: Path,
) -> None:
    """The refusal is asked again when the typing pause ends: switching completions off
    during the pause stops the prediction the last key scheduled."""
    init = {"experimental": {"nextEdit": True}, "nextEdit": {"debounceMs": 400}}
    editor = await start_editor(tmp_path, ScriptedEngine.reply("return a * b"), init_options=init)
    try:
        await editor.wait_state("ready")
        uri = editor.open("area.py", SOURCE)
        before = len(model_requests(editor))
        editor.replace(uri, (0, 9, 0, 10), "width")  # schedules a prediction in 400 ms
        assert await toggle(editor) == {"enabled": False}
        await asyncio.sleep(0.8)
        await editor.stats()
        assert model_requests(editor)[before:] == []
        assert (await editor.stats())["nextEdit"]["counters"].get("refused") == 1
    finally:
        await stop_editor(editor)
