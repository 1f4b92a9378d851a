"""Inline completions end to end: real server process, real client, real model server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig
from spark_lsp.shared.prompt_format import CURSOR

from .conftest import TOKEN, Editor, start_editor, stop_editor


def last_prompt(editor: Editor) -> str:
    received = [m for m in editor.model.stats.received if m.get("generate") is not False]
    message = received[-1]
    return "".join(part["text"] for item in message["input"] for part in item["content"])


async def test_capabilities_are_advertised(editor: Editor) -> None:
    caps = editor.result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.execute_command_provider is not None
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental


async def test_suggestion_text_and_range(editor: Editor) -> None:
    uri = editor.open("calc.py", "def mul(a, b):\n    \n")
    items = await editor.inline(uri, 1, 4, invoked=True)
    assert [item.insert_text for item in items] == ["return a * b"]
    here = types.Position(line=1, character=4)
    assert items[0].range == types.Range(start=here, end=here)
    assert last_prompt(editor).endswith("def mul(a, b):\n    " + CURSOR + "\n")


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the negotiated position encoding's code units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2  # an emoji counts twice


async def test_non_ascii_positions_use_the_negotiated_encoding(editor: Editor) -> None:
    line = 'greeting = "héllo 😀" + '
    uri = editor.open("greet.py", "# ünïcødé\n" + line + "\n")
    encoding = str(editor.result.capabilities.position_encoding or "utf-16")
    column = units(line, encoding)
    items = await editor.inline(uri, 1, column, invoked=True)
    assert items and items[0].range is not None
    assert items[0].range.start == types.Position(line=1, character=column)
    assert (line + CURSOR) in last_prompt(editor)


async def test_crlf_document(editor: Editor) -> None:
    uri = editor.open("win.py", "def mul(a, b):\r\n    \r\nprint(1)\r\n")
    items = await editor.inline(uri, 1, 4, invoked=True)
    assert [item.insert_text for item in items] == ["return a * b"]
    assert ("def mul(a, b):\r\n    " + CURSOR + "\r\nprint(1)") in last_prompt(editor)


async def test_burst_of_keys_makes_few_model_calls(editor: Editor) -> None:
    uri = editor.open("burst.py", "\n")
    typed = "result = compute_total(items, tax_rate) + shipping_cost(cart)"[:60]
    assert len(typed) == 60 and not "return a * b".startswith(typed[-1])
    pending: list[asyncio.Task[list[types.InlineCompletionItem]]] = []
    for column, char in enumerate(typed):
        editor.insert(uri, 0, column, char)
        pending.append(asyncio.create_task(editor.inline(uri, 0, column + 1)))
        await asyncio.sleep(0.04)
    answers = await asyncio.gather(*pending)
    assert answers[-1] and answers[-1][0].insert_text == "return a * b"
    assert editor.model_calls() <= 3, editor.model_calls()


async def test_typing_through_a_suggestion_makes_no_calls(editor: Editor) -> None:
    uri = editor.open("through.py", "def mul(a, b):\n    \n")
    first = await editor.inline(uri, 1, 4, invoked=True)
    assert first[0].insert_text == "return a * b"
    calls = editor.model_calls()
    for i, char in enumerate("return "):
        editor.insert(uri, 1, 4 + i, char)
        items = await editor.inline(uri, 1, 5 + i)
        assert items[0].insert_text == "return a * b"[i + 1 :]
    assert editor.model_calls() == calls


async def test_cancel_request_is_honoured(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("return a * b", ttft_ms=3000)
    editor = await start_editor(tmp_path, engine)
    try:
        await editor.wait_state("ready")
        uri = editor.open("slow.py", "def mul(a, b):\n    \n")
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        future = asyncio.ensure_future(  # the call is a coroutine: start it now
            editor.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="slow-1"
            )
        )
        await asyncio.sleep(0.3)
        editor.client.cancel_request(types.CancelParams(id="slow-1"))
        try:
            result = await asyncio.wait_for(future, 2)
            assert not result or not result.items
        except Exception as exc:  # -32800 RequestCancelled
            assert "cancel" in str(exc).lower()
        engine.script = ScriptedEngine.reply("fast answer").script
        items = await asyncio.wait_for(editor.inline(uri, 1, 4, invoked=True), 3)
        assert items[0].insert_text == "fast answer"
    finally:
        await stop_editor(editor)


async def test_model_down_then_recovery(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("return a * b")
    editor = await start_editor(tmp_path, engine)
    try:
        await editor.wait_state("ready")
        port = editor.model.port
        await editor.model.close()
        uri = editor.open("down.py", "def mul(a, b):\n    \n")
        await editor.wait_state("offline", timeout=10)
        for _ in range(5):
            assert await editor.inline(uri, 1, 4, invoked=True) == []
        unreachable = [m for m in editor.client.messages if "unreachable" in m.message]
        assert len(unreachable) == 1
        assert all(TOKEN not in m.message for m in editor.client.messages)
        editor.model = ModelServer(ServerConfig(token=TOKEN, port=port), engine)
        await editor.model.start()
        await editor.wait_state("ready", timeout=20)
        items = await editor.inline(uri, 1, 4, invoked=True)
        assert items[0].insert_text == "return a * b"
    finally:
        await stop_editor(editor)


async def test_bad_settings_warn_and_keep_defaults(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("return a * b")
    editor = await start_editor(
        tmp_path, engine, configuration={"spark": {"completion": {"debounceMs": "fast"}}}
    )
    try:
        await editor.wait_state("ready")
        warnings = [m.message for m in editor.client.messages]
        assert any("spark.completion.debounceMs" in w for w in warnings), warnings
        stats = await editor.stats()
        assert stats["settings"]["completion"]["debounceMs"] is None
        uri = editor.open("ok.py", "def mul(a, b):\n    \n")
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == "return a * b"
    finally:
        await stop_editor(editor)


async def test_invalid_positions_and_unknown_documents(editor: Editor) -> None:
    uri = editor.open("small.py", "x = 1\n")
    assert await editor.inline(uri, 99, 0, invoked=True) == []
    assert await editor.inline(editor.uri("never-opened.py"), 0, 0, invoked=True) == []
    items = await editor.inline(uri, 0, 500, invoked=True)  # past the end of the line: clamped
    assert all(item.insert_text for item in items)
