"""Next-edit suggestions end to end: a real server process, a real LSP client, the model server.

The scripted model answers next-edit prompts the way a chat model does (the window rewritten,
in a code fence); everything between (history, prompt, anchoring, filters, versions,
cancellation, the notification) is the real server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcException, JsonRpcInvalidParams

from benchmarks.common import to_plain
from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine
from spark_lsp.shared.prompt_format import TASK_NEXT_EDIT
from tests.e2e.conftest import Editor, start_editor, stop_editor

SOURCE = "def area(w, h):\n    return w * h\n\n\nprint(area(2, 3))\n"
RENAMED = "def area(width, h):\n    return width * h\n\n\nprint(area(2, 3))\n"
OPT_IN = {"experimental": {"nextEdit": True}, "nextEdit": {"debounceMs": 150}}
AVAILABLE = "spark/nextEditAvailable"


def next_edit_engine(reply: str, **timing: float) -> ScriptedEngine:
    """Completions get a fixed line; next-edit prompts get ``reply`` fenced, as chat models do."""
    fenced = Reply(text=f"```python\n{reply}```", when=TASK_NEXT_EDIT)
    return ScriptedEngine(Script(replies=(fenced,), default=Reply(text="pass"), **timing))


async def opened(tmp_path: Path, engine: ScriptedEngine, init: Any = OPT_IN) -> Editor:
    editor = await start_editor(tmp_path, engine, init_options=init)
    await editor.wait_state("ready")
    return editor


def change(editor: Editor, uri: str, rng: tuple[int, int, int, int], text: str) -> None:
    """One didChange replacing ``rng`` with ``text``; the client's copy follows."""
    editor.texts[uri] = apply(editor.texts[uri], [(rng, text)])
    editor.replace(uri, rng, text)


def apply(text: str, edits: list[tuple[tuple[int, int, int, int], str]]) -> str:
    """Apply edits given in (line, character) ranges of ``text`` (ASCII: characters = units)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, character: int) -> int:
        return starts[min(line, len(lines))] + character

    spans = sorted(((offset(r[0], r[1]), offset(r[2], r[3]), t) for r, t in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def wire_edits(result: dict[str, Any]) -> list[tuple[tuple[int, int, int, int], str]]:
    out = []
    for edit in result["edits"]:
        s, e = edit["range"]["start"], edit["range"]["end"]
        out.append(((s["line"], s["character"], e["line"], e["character"]), edit["newText"]))
    return out


async def rename_w_to_width(editor: Editor, uri: str) -> None:
    """Delete ``w`` in the signature, then type ``width`` key by key."""
    change(editor, uri, (0, 9, 0, 10), "")
    for i, char in enumerate("width"):
        await asyncio.sleep(0.01)
        change(editor, uri, (0, 9 + i, 0, 9 + i), char)


async def next_edit(editor: Editor, uri: str, version: int | None = None) -> dict[str, Any] | None:
    document: dict[str, Any] = {"uri": uri}
    if version is not None:
        document["version"] = version
    params = {"textDocument": document, "position": {"line": 0, "character": 14}}
    result = await editor.client.protocol.send_request_async("spark/nextEdit", params)
    return None if result is None else to_plain(result)


def notifications(editor: Editor) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    editor.client.feature(AVAILABLE)(lambda params: seen.append(to_plain(params)))
    return seen


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


def next_edit_prompts(editor: Editor) -> list[dict[str, Any]]:
    return [
        m
        for m in editor.model.stats.received
        if m.get("type") == "response.create"
        and str(m.get("instructions", "")).startswith(TASK_NEXT_EDIT)
    ]


async def test_renaming_a_parameter_proposes_renaming_its_uses(tmp_path: Path) -> None:
    editor = await opened(tmp_path, next_edit_engine(RENAMED))
    try:
        experimental = to_plain(editor.result.capabilities.experimental)
        assert experimental["spark"]["nextEdit"]["request"] == "spark/nextEdit"
        seen = notifications(editor)
        uri = editor.open("area.py", SOURCE)
        await rename_w_to_width(editor, uri)
        version = editor.versions[uri]
        await until(lambda: seen)
        assert seen[-1]["textDocument"] == {"uri": uri, "version": version}
        assert seen[-1]["range"]["start"]["line"] == 1
        result = await next_edit(editor, uri, version)
        assert result is not None and result["version"] == version
        assert apply(editor.texts[uri], wire_edits(result)) == RENAMED
        at = {"line": 1, "character": 12}
        assert result["edits"] == [{"range": {"start": at, "end": at}, "newText": "idth"}]
        prompts = next_edit_prompts(editor)
        assert len(prompts) == 1, "one model call after the pause, not one per key"
        text = str(prompts[0]["input"][-1]["content"][0]["text"])
        assert "-def area(w, h):\n+def area(width, h):" in text
        assert "<region>\n" in text and "    return w * h\n" in text
    finally:
        await stop_editor(editor)


async def test_a_stale_version_is_refused(tmp_path: Path) -> None:
    editor = await opened(tmp_path, next_edit_engine(RENAMED))
    try:
        seen = notifications(editor)
        uri = editor.open("area.py", SOURCE)
        await rename_w_to_width(editor, uri)
        await until(lambda: seen)
        old = editor.versions[uri]
        change(editor, uri, (4, 0, 4, 0), "# ")  # a newer version exists now
        with pytest.raises(JsonRpcException) as refused:
            await next_edit(editor, uri, old)
        assert refused.value.code == JsonRpcContentModified.CODE
        fresh = await next_edit(editor, uri, editor.versions[uri])
        assert fresh is None or fresh["version"] == editor.versions[uri]
        with pytest.raises(JsonRpcException) as malformed:
            await editor.client.protocol.send_request_async("spark/nextEdit", {"textDocument": 5})
        assert malformed.value.code == JsonRpcInvalidParams.CODE
        assert "spark/nextEdit needs {textDocument: {uri" in str(malformed.value)
    finally:
        await stop_editor(editor)


async def test_the_next_key_cancels_a_running_prediction(tmp_path: Path) -> None:
    engine = next_edit_engine(RENAMED, tokens_per_second=40)  # ~1 s for the reply
    editor = await opened(tmp_path, engine)
    try:
        seen = notifications(editor)
        uri = editor.open("area.py", SOURCE)
        await rename_w_to_width(editor, uri)
        await until(lambda: next_edit_prompts(editor))
        change(editor, uri, (4, 17, 4, 17), "  # m²")  # typed while the model streams
        await until(lambda: len(next_edit_prompts(editor)) == 2)
        await until(lambda: seen)
        stats = (await editor.stats())["nextEdit"]["counters"]
        assert stats["cancelled_calls"] >= 1
        assert [n["textDocument"]["version"] for n in seen] == [editor.versions[uri]]
    finally:
        await stop_editor(editor)


async def test_a_client_that_did_not_opt_in_never_gets_the_notification(tmp_path: Path) -> None:
    editor = await opened(tmp_path, next_edit_engine(RENAMED), init={"nextEdit": {"debounceMs": 0}})
    try:
        seen = notifications(editor)
        uri = editor.open("area.py", SOURCE)
        await rename_w_to_width(editor, uri)
        await asyncio.sleep(0.6)
        await editor.stats()  # a round trip: anything sent before it has arrived
        assert seen == []
        assert next_edit_prompts(editor) == []
        assert not editor.statuses or all(s["state"] != "error" for s in editor.statuses)
    finally:
        await stop_editor(editor)


async def typed_s_after_return(editor: Editor) -> str:
    """Open ``total.py`` with an empty ``return``, type ``s`` after it, and wait for the one
    prediction (``sum(items)``) to be ready; returns the document's URI."""
    uri = editor.open("total.py", "def total(items):\n    return \n")
    change(editor, uri, (1, 11, 1, 11), "s")
    for _ in range(200):
        counters = (await editor.stats())["nextEdit"]["counters"]
        if counters.get("proposals"):
            break
        await asyncio.sleep(0.02)
    assert counters.get("proposals") == 1, counters
    return uri


async def test_an_insertion_at_the_cursor_is_an_ordinary_inline_item(tmp_path: Path) -> None:
    reply = "def total(items):\n    return sum(items)\n"
    editor = await opened(tmp_path, next_edit_engine(reply))
    try:
        seen = notifications(editor)
        uri = await typed_s_after_return(editor)
        items = await editor.inline(uri, 1, 12)
        assert [item.insert_text for item in items] == ["um(items)"]
        assert seen == [], "an insertion at the cursor is ghost text, not a next-edit proposal"
    finally:
        await stop_editor(editor)


async def test_an_insertion_at_the_cursor_is_a_completion_item_without_inline_completion(
    tmp_path: Path,
) -> None:
    """A client without ghost text (Eglot, Helix, JetBrains) that opted in gets the ready
    insertion from ``textDocument/completion``, as the inline client gets it as ghost text:
    not announced (it is no next-edit proposal), and not asked of the model a second time."""
    reply = "def total(items):\n    return sum(items)\n"
    editor = await start_editor(
        tmp_path, next_edit_engine(reply), profile="eglot", init_options=OPT_IN
    )
    try:
        await editor.wait_state("ready")
        seen = notifications(editor)
        uri = await typed_s_after_return(editor)
        calls = editor.model_calls()
        result = await editor.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=12),
                context=types.CompletionContext(
                    trigger_kind=types.CompletionTriggerKind.TriggerCharacter,
                    trigger_character=" ",
                ),
            )
        )
        assert isinstance(result, types.CompletionList)
        assert [item.text_edit.new_text for item in result.items if item.text_edit] == [
            "sum(items)"
        ]
        assert editor.model_calls() == calls, "the ready prediction answers; no model call"
        assert seen == []
    finally:
        await stop_editor(editor)


async def test_an_excluded_file_is_never_sent(tmp_path: Path) -> None:
    editor = await opened(tmp_path, next_edit_engine(RENAMED))
    try:
        seen = notifications(editor)
        uri = editor.open(".env", "w = 1\nprint(w)\n", language="python")  # nothing secret
        change(editor, uri, (0, 0, 0, 1), "width")
        await asyncio.sleep(0.6)
        assert await next_edit(editor, uri, editor.versions[uri]) is None
        assert next_edit_prompts(editor) == [] and seen == []
    finally:
        await stop_editor(editor)
