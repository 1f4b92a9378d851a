"""Editors that speak plain LSP (Emacs' Eglot, Helix, Kakoune) as well as VS Code and Neovim.

Each test reproduces what a real editor did (issue 22): a client that re-resolves an action it
got back without an edit, a model connection that keeps dropping, an editor without the
client-side ``spark.promptEdit`` command, a declined ``workspace/applyEdit``, and completion
menus filtered by the word before the cursor.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from spark_lsp.modelserver.engines.scripted import (
    ErrorSpec,
    FaultSpec,
    Reply,
    Script,
    ScriptedEngine,
)

from .conftest import Editor, start_editor, stop_editor
from .test_code_actions import BROKEN, actions, diagnostic, edit_by_instruction

DECLINED = FaultSpec(
    error=ErrorSpec(status=400, code="unsupported_task", message="local model: no edits")
)
DROPPED = FaultSpec(drop_after_deltas=0)


async def _fix_action(editor: Editor, uri: str, line: int = 3, message: str = "expected ':'"
                      ) -> types.CodeAction:
    listed = await actions(editor, uri, (line, 0), (line, 0), [diagnostic(line, message)])
    return next(a for a in listed if a.title.startswith("Spark: Fix"))


# -- 1. a failed resolve: an error, never the action unchanged; no loop of model calls -----------


async def test_a_failed_resolve_is_an_error_and_is_not_recomputed(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("x", fault=DECLINED),
                                profile="eglot")
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        fix = await _fix_action(editor, uri)
        with pytest.raises(JsonRpcException) as failed:
            await editor.client.code_action_resolve_async(fix)
        assert "no edits" in str(failed.value)
        assert editor.model_calls() == 1
        # Eglot 30 resolved such an action again and again (1,578 times in 5 s).
        for _ in range(20):
            with pytest.raises(JsonRpcException):
                await editor.client.code_action_resolve_async(fix)
        assert editor.model_calls() == 1
        assert not [m for m in editor.client.messages if "internal error" in m.message]
    finally:
        await stop_editor(editor)


async def test_identical_resolves_in_flight_share_one_model_call(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("def area(w, h):\n", ttft_ms=300)
    editor = await start_editor(tmp_path, engine, profile="eglot")
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        fix = await _fix_action(editor, uri)
        resolved = await asyncio.gather(
            *(editor.client.code_action_resolve_async(fix) for _ in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(r, types.CodeAction) and r.edit is not None for r in resolved), (
            resolved
        )
        assert editor.model_calls() == 1
    finally:
        await stop_editor(editor)


# -- 2. a failing endpoint: a circuit breaker, said once ----------------------------------------


async def test_a_dropping_endpoint_trips_the_breaker_and_is_said_once(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("x", fault=DROPPED),
                                profile="eglot")
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN + "".join(f"x{i} = (\n" for i in range(12)))
        for line in range(12):  # twelve different picks: none of them is a re-resolve
            fix = await _fix_action(editor, uri, 8 + line, f"problem {line}")
            with pytest.raises(JsonRpcException):
                await editor.client.code_action_resolve_async(fix)
        calls = editor.model_calls()
        # Three failed picks open the breaker; a pick's call is never resent on a fresh link.
        assert calls == 3, calls
        paused = [s for s in editor.statuses if "paused" in (s.get("detail") or "")]
        assert len(paused) == 1, editor.statuses
        assert paused[0]["state"] in ("offline", "error")
        said = [m.message for m in editor.client.log_messages if "paused" in m.message]
        assert len(said) == 1, said
        popups = [m.message for m in editor.client.messages]
        assert len(popups) == len(set(popups)), popups
    finally:
        await stop_editor(editor)


async def test_completions_stop_calling_a_dropping_endpoint(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("x", fault=DROPPED),
                                init_options={"completion": {"debounceMs": 0,
                                                             "prefetchOnAccept": False}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("ops.py", "def sub(a, b):\n    return \n")
        for _ in range(15):
            assert await editor.inline(uri, 1, 11, invoked=True) == []
        assert editor.model_calls() <= 6, editor.model_calls()
        said = [m.message for m in editor.client.log_messages if "paused" in m.message]
        assert len(said) == 1, said
        stats = await editor.stats()
        assert stats["status"]["state"] in ("offline", "error")
        assert stats["breaker"]["open"] is True and stats["breaker"]["refused"] >= 9
    finally:
        await stop_editor(editor)


async def test_a_refusal_is_said_once_in_the_models_words(tmp_path: Path) -> None:
    """Issue 23: a refusal used to end as an empty suggestion with nothing saying why."""
    engine = ScriptedEngine.reply("x", fault=FaultSpec(refusal="I can't help with that."))
    editor = await start_editor(tmp_path, engine)
    try:
        await editor.wait_state("ready")
        uri = editor.open("ops.py", "def sub(a, b):\n    return \n")
        for _ in range(3):
            assert await editor.inline(uri, 1, 11, invoked=True) == []
        popups = [m.message for m in editor.client.messages if "refused" in m.message]
        assert popups == ["the model refused: I can't help with that."], popups
    finally:
        await stop_editor(editor)


# -- 3. actions that need a client command, and selections ---------------------------------------


async def test_prompt_edit_only_for_clients_that_announce_it(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply(""), profile="eglot")
    announced = await start_editor(
        tmp_path, ScriptedEngine.reply(""),
        init_options={"experimental": {"clientCommands": ["spark.promptEdit"]}},
    )
    try:
        for each in (editor, announced):
            await each.wait_state("ready")
        titles = {a.title for a in await actions(editor, editor.open("geo.py", BROKEN),
                                                    (3, 0), (5, 0))}
        assert "Spark: Simplify" in titles and "Spark: Edit selection…" not in titles
        listed = await actions(announced, announced.open("geo.py", BROKEN), (3, 0), (5, 0))
        prompt = next(a for a in listed if a.title == "Spark: Edit selection…")
        assert prompt.command is not None and prompt.command.command == "spark.promptEdit"
    finally:
        await stop_editor(announced)
        await stop_editor(editor)


async def test_the_word_under_the_cursor_is_not_a_selection(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply(""), profile="eglot")
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        async def selection_actions(start: tuple[int, int], end: tuple[int, int]) -> set[str]:
            listed = await actions(editor, uri, start, end)
            return {a.title for a in listed if not a.title.startswith("Spark: Fix")}

        # Eglot sends the symbol at point as the range when nothing is selected.
        assert await selection_actions((4, 11), (4, 12)) == set()  # "w" of "return w * h"
        assert await selection_actions((3, 4), (3, 8)) == set()  # "area"
        assert await selection_actions((3, 5), (3, 7)) == set()  # inside "area"
        wider = {a.title for a in await actions(editor, uri, (3, 4), (3, 9))}  # "area("
        assert "Spark: Simplify" in wider
    finally:
        await stop_editor(editor)


# -- 4. a declined workspace/applyEdit ----------------------------------------------------------


def _answer_apply_edit(
    editor: Editor, answer: Callable[[types.ApplyWorkspaceEditParams], Any]
) -> None:
    """Replace the harness's always-applying handler with ``answer``."""
    editor.client.protocol.fm.features[types.WORKSPACE_APPLY_EDIT] = answer


def _cancelled(params: types.ApplyWorkspaceEditParams) -> Any:
    raise JsonRpcException(message="User cancelled server edit")  # Emacs 28, answering "n"


def _refused(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
    return types.ApplyWorkspaceEditResult(applied=False, failure_reason="declined by the user")


@pytest.mark.parametrize("answer", [_cancelled, _refused], ids=["error-reply", "not-applied"])
async def test_a_declined_edit_is_a_normal_outcome(
    tmp_path: Path, answer: Callable[[types.ApplyWorkspaceEditParams], Any]
) -> None:
    engine = ScriptedEngine(Script(default=Reply(text="def AREA(w, h)\n    return w * h\n")))
    editor = await start_editor(tmp_path, engine)
    try:
        await editor.wait_state("ready")
        _answer_apply_edit(editor, answer)
        assert await edit_by_instruction(editor, editor.open("geo.py", BROKEN)) is False
        await asyncio.sleep(0.2)  # a popup or a traceback would follow the reply
        assert editor.client.messages == []
        logged = [(m.type, m.message) for m in editor.client.log_messages]
        assert not [m for _, m in logged if "internal error" in m or "Traceback" in m], logged
        assert any(t == types.MessageType.Info and "not apply" in m for t, m in logged), logged
    finally:
        await stop_editor(editor)


# -- 5. completion items that survive word-prefix filtering --------------------------------------

WORD = re.compile(r"\w*$")


def eglot_filter(items: list[types.CompletionItem], line_text: str) -> list[types.CompletionItem]:
    """What Eglot, Helix and Kakoune show: items whose filterText (or label) starts with the
    word before the cursor, best ``sortText`` first."""
    word = WORD.search(line_text)
    prefix = word.group(0) if word else ""
    kept = [i for i in items if (i.filter_text or i.label).startswith(prefix)]
    return sorted(kept, key=lambda i: i.sort_text or i.label)


def applied(line_text: str, item: types.CompletionItem) -> str:
    """The line after applying ``item``'s textEdit (one-line edits on the cursor's line)."""
    edit = item.text_edit
    assert isinstance(edit, types.TextEdit)
    start, end = edit.range.start.character, edit.range.end.character
    return line_text[:start] + edit.new_text + line_text[end:]


@pytest.mark.parametrize(
    ("line_text", "suggestion", "word"),
    [("    ret", "urn a - b", "ret"), ("    return a", " - b", "a"), ("    return ", "a - b", "")],
    ids=["word-start", "after-a-word", "after-a-space"],
)
async def test_fallback_completion_survives_prefix_filtering(
    tmp_path: Path, line_text: str, suggestion: str, word: str
) -> None:
    options = {"completion": {"debounceMs": 0, "prefetchOnAccept": False}}
    editor = await start_editor(tmp_path, ScriptedEngine.reply(suggestion), profile="eglot",
                                init_options=options)
    try:
        await editor.wait_state("ready")
        uri = editor.open("ops.py", f"def sub(a, b):\n{line_text}")
        result = await editor.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=len(line_text)),
                context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
        assert isinstance(result, types.CompletionList) and result.items
        shown = eglot_filter(result.items, line_text)
        assert shown, result.items
        item = shown[0]
        assert applied(line_text, item) == line_text + suggestion
        assert isinstance(item.text_edit, types.TextEdit)
        assert item.text_edit.range.start.character == len(line_text) - len(word)
        assert item.text_edit.new_text == word + suggestion
        assert item.label.startswith(word) and (item.filter_text or "").startswith(word)
        assert item.preselect is True and item.sort_text is not None
    finally:
        await stop_editor(editor)
