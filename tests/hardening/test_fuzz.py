"""Fuzzing: random edits and malformed messages into the language server; malformed events into
the model client. Nothing may crash, the server's view of each document must equal a reference
model, and every bad request must come back as a JSON-RPC error that says what was wrong.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from websockets.asyncio.server import ServerConnection, serve

from spark_lsp.errors import AuthError, ProtocolError, RateLimited, SparkError
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.protocol import CreateRequest, Usage, decode_event
from spark_lsp.model.session import ModelSession, SessionOptions
from spark_lsp.modelserver.encoder import ResponseEncoder
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.shared.prompt_format import CURSOR
from tests.clients.lsp_stdio import LspProcess

from . import Editor, last_prompt, launch, stop_editor

# -- a reference model of LSP document sync (UTF-16 positions, clamped) -----------------------

BREAK = re.compile(r"\r\n|\r|\n")
ALPHABET = ["a", "b", "x", "y", " ", "=", "(", ")", "\t", "é", "😀", "\x00", "\n", "\r\n", "\r"]


def line_spans(text: str) -> list[tuple[int, int]]:
    """(start offset, content length) of each line; \\n, \\r\\n and a lone \\r end a line."""
    spans, start = [], 0
    for match in BREAK.finditer(text):
        spans.append((start, match.start() - start))
        start = match.end()
    spans.append((start, len(text) - start))
    return spans


def utf16_index(content: str, units: int) -> int:
    """UTF-16 offset → str index, clamped; inside a surrogate pair snaps to its start."""
    index = used = 0
    while index < len(content):
        width = 2 if ord(content[index]) > 0xFFFF else 1
        if used + width > units:
            break
        used += width
        index += 1
    return index


def offset_of(text: str, line: int, character: int) -> int:
    spans = line_spans(text)
    if line >= len(spans):
        return len(text)
    start, length = spans[line]
    return start + utf16_index(text[start : start + length], character)


def apply(text: str, rng: tuple[int, int, int, int] | None, new: str) -> str:
    if rng is None:
        return new
    a, b = offset_of(text, rng[0], rng[1]), offset_of(text, rng[2], rng[3])
    a, b = min(a, b), max(a, b)
    return text[:a] + new + text[b:]


def random_text(r: random.Random, most: int = 8) -> str:
    return "".join(r.choice(ALPHABET) for _ in range(r.randint(0, most)))


def random_position(r: random.Random, text: str) -> tuple[int, int]:
    spans = line_spans(text)
    line = r.randint(0, len(spans) + 1)  # sometimes past the end
    return line, r.randint(0, 12)  # often past the line's end, sometimes inside an emoji


def change(editor: Editor, uri: str, version: int, changes: list[tuple[Any, str]]) -> None:
    events: list[types.TextDocumentContentChangeEvent] = []
    for rng, text in changes:
        if rng is None:
            events.append(types.TextDocumentContentChangeWholeDocument(text=text))
        else:
            start = types.Position(line=rng[0], character=rng[1])
            end = types.Position(line=rng[2], character=rng[3])
            events.append(
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=start, end=end), text=text
                )
            )
    editor.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=events,
        )
    )


async def check_view(editor: Editor, uri: str, text: str, r: random.Random) -> None:
    """Complete at a random in-range position: the model must see exactly the reference text."""
    spans = line_spans(text)
    line = r.randrange(len(spans))
    character = r.randint(0, 10)
    calls = editor.model_calls()
    items = await editor.inline(uri, line, character, invoked=True)
    assert items == []  # the model answers "" (so nothing is cached and every check is fresh)
    assert editor.model_calls() == calls + 1
    at = offset_of(text, line, character)
    view = text[:at] + CURSOR + text[at:]
    prompt = last_prompt(editor)
    assert prompt.endswith(view), (uri, line, character, text, prompt)


async def test_random_edits_keep_the_server_view_equal_to_the_reference(tmp_path: Path) -> None:
    r = random.Random(20260212)
    editor = await launch(
        tmp_path,
        ScriptedEngine.reply(""),
        configuration={"spark": {"completion": {"contextTokens": 16000}}},
    )
    try:
        await editor.wait_state("ready")
        docs: dict[str, str] = {}
        versions: dict[str, int] = {}
        names = [editor.uri(f"f{i}.py") for i in range(3)]
        for uri in names:
            docs[uri] = "def f(a):\r\n    return a\n\n😀 = 1\rend"
            versions[uri] = 1
            editor.client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=uri, language_id="python", version=1, text=docs[uri]
                    )
                )
            )
        checked = 0
        for step in range(800):
            uri = r.choice(names)
            roll = r.random()
            if uri not in docs:  # closed: edits and requests are ignored, then it reopens
                change(editor, uri, 99, [((0, 0, 0, 0), "ignored")])
                assert await editor.inline(uri, 0, 0, invoked=True) == []
                docs[uri], versions[uri] = random_text(r, 30), 1
                editor.client.text_document_did_open(
                    types.DidOpenTextDocumentParams(
                        text_document=types.TextDocumentItem(
                            uri=uri, language_id="python", version=1, text=docs[uri]
                        )
                    )
                )
            elif roll < 0.6:
                batch: list[tuple[Any, str]] = []
                for _ in range(r.randint(1, 3)):
                    rng = (*random_position(r, docs[uri]), *random_position(r, docs[uri]))
                    batch.append((rng, random_text(r)))
                if len(docs[uri]) > 1500 or r.random() < 0.03:  # keep documents small
                    batch.append((None, random_text(r, 40)))
                for rng, new in batch:
                    docs[uri] = apply(docs[uri], rng, new)
                versions[uri] += 1
                change(editor, uri, versions[uri], batch)
            elif roll < 0.95:
                await check_view(editor, uri, docs[uri], r)
                checked += 1
            else:
                editor.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(
                        text_document=types.TextDocumentIdentifier(uri=uri)
                    )
                )
                del docs[uri]
                calls = editor.model_calls()
                assert await editor.inline(uri, 0, 0, invoked=True) == []
                assert editor.model_calls() == calls
            if step % 50 == 0:
                assert (await editor.stats())["documents"] == len(docs)
        for uri, text in docs.items():
            await check_view(editor, uri, text, r)
        assert checked >= 150
        # Past-the-end positions answer empty without calling the model.
        calls = editor.model_calls()
        uri = next(iter(docs))
        assert await editor.inline(uri, 10_000, 0, invoked=True) == []
        assert editor.model_calls() == calls
        assert [m.message for m in editor.client.messages] == []
    finally:
        await stop_editor(editor)


async def test_megabyte_lines_and_nul_bytes(tmp_path: Path) -> None:
    editor = await launch(tmp_path, ScriptedEngine.reply(""))
    try:
        await editor.wait_state("ready")
        uri = editor.open("big.py", "head\nx = 1\n")
        text = "head\nx = 1\n"
        big = ("ab\x00😀 " * 200_000)[: 1 << 20]
        change(editor, uri, 2, [((1, 0, 1, 0), big)])
        text = apply(text, (1, 0, 1, 0), big)
        column = len(big[:4000].encode("utf-16-le")) // 2
        items = await asyncio.wait_for(editor.inline(uri, 1, column, invoked=True), 60)
        assert items == []
        prompt = last_prompt(editor)
        assert (big[3900:4000] + CURSOR) in prompt
        assert len(prompt) < 200_000  # the window, not the megabyte
        at_end = len(big.encode("utf-16-le")) // 2 + 5  # past the end of the huge line
        await asyncio.wait_for(editor.inline(uri, 1, at_end, invoked=True), 60)
        assert (big[-100:] + "x = 1" + CURSOR) in last_prompt(editor)
        cut = (1, 0, 1, len(big) * 2)  # past the line's end: clamped, the whole line goes
        change(editor, uri, 3, [(cut, "")])
        text = apply(text, cut, "")
        assert text == "head\n\n"
        await asyncio.wait_for(editor.inline(uri, 1, 5, invoked=True), 60)
        assert last_prompt(editor).endswith("head\n" + CURSOR + "\n")
        assert (await editor.stats())["documents"] == 1
    finally:
        await stop_editor(editor)


# -- malformed JSON-RPC, over raw stdio --------------------------------------------------------


def raw_request(server: LspProcess, method: str, params: Any) -> dict[str, Any]:
    server._next_id += 1
    request_id = server._next_id
    server.send({"id": request_id, "method": method, "params": params})
    deadline = time.monotonic() + 15
    while True:
        message = server.receive(deadline - time.monotonic())
        if "method" in message and "id" in message:
            server.send({"id": message["id"], "result": None})
        elif "method" in message:
            server.notifications.append(message)
        elif message.get("id") == request_id:
            return message


POSITION = {"line": 0, "character": 0}
DOC = {"uri": "file:///nowhere/a.py"}
MALFORMED: list[tuple[str, Any]] = [
    ("textDocument/inlineCompletion", {}),
    ("textDocument/inlineCompletion", None),
    ("textDocument/inlineCompletion", [1, 2, 3]),
    (
        "textDocument/inlineCompletion",
        {"textDocument": {"uri": 5}, "position": {"line": -1, "character": "x"}, "context": {}},
    ),
    ("textDocument/completion", "a string"),
    ("textDocument/codeAction", {"textDocument": DOC}),
    ("codeAction/resolve", [1]),
    ("workspace/executeCommand", {"command": 42}),
    ("spark/definitelyNotAMethod", {}),
    ("spark/nextEdit", {}),
    ("spark/nextEdit", None),
    ("spark/nextEdit", {"textDocument": {"uri": 5}, "position": POSITION}),
    ("spark/nextEdit", {"textDocument": {**DOC, "version": "1"}, "position": POSITION}),
]


def test_malformed_requests_get_json_rpc_errors_and_the_server_lives(tmp_path: Path) -> None:
    env = {**os.environ, "SPARK_LSP_ENDPOINT": "ws://127.0.0.1:9/v1/responses"}
    server = LspProcess([sys.executable, "-m", "spark_lsp", "--stdio"], env, tmp_path)
    try:
        server.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        server.notify("initialized", {})
        for method, params in MALFORMED:
            answer = raw_request(server, method, params)
            assert "error" in answer, (method, answer)
            assert answer["error"]["code"] in (-32602, -32601), answer
            assert method in answer["error"]["message"] or "Command" in answer["error"]["message"]
        # Notifications cannot be answered: they are ignored, and nothing else breaks.
        server.notify("textDocument/didChange", {"textDocument": {"uri": 3}, "contentChanges": 1})
        server.notify("textDocument/didOpen", {})
        server.notify("textDocument/didClose", {"textDocument": {}})
        server.notify("$/somethingUnknown", {"x": 1})
        unopened = {"uri": "file:///nowhere/never.py", "version": 2}
        edit = {"range": {"start": POSITION, "end": POSITION}, "text": "x"}
        server.notify(
            "textDocument/didChange", {"textDocument": unopened, "contentChanges": [edit]}
        )
        out_of_range = {"line": 2**31 - 1, "character": 2**31 - 1}
        params = {"textDocument": DOC, "position": out_of_range, "context": {"triggerKind": 1}}
        assert raw_request(server, "textDocument/inlineCompletion", params)["result"] == {
            "items": []
        }
        unknown = {"textDocument": DOC, "position": out_of_range}
        assert raw_request(server, "spark/nextEdit", unknown)["result"] is None
        stats = raw_request(server, "spark/stats", {})["result"]
        assert stats["documents"] == 0
        assert server.proc.poll() is None
        popups = [
            n["params"]["message"]
            for n in server.notifications
            if n["method"] == "window/showMessage"
        ]
        assert not any("internal error" in p for p in popups), popups
    finally:
        assert server.close() == 0


# -- model events: the sans-I/O decoder --------------------------------------------------------

VALID_EVENTS = [
    {"type": "response.created", "response": {"id": "resp_1"}, "sequence_number": 0},
    {"type": "response.output_text.delta", "delta": "hi", "stream_id": "l0"},
    {
        "type": "response.completed",
        "response": {
            "id": "resp_1",
            "status": "completed",
            "usage": {"input_tokens": 3, "input_tokens_details": {"cached_tokens": 0}},
        },
    },
    {"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max"}}},
    {"type": "error", "status": 400, "error": {"code": "x", "message": "m", "param": None}},
    {"type": "error", "code": "flat", "message": "m"},
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated_event(draw: st.DrawFn) -> str | bytes:
    event = json.loads(json.dumps(draw(st.sampled_from(VALID_EVENTS))))
    for _ in range(draw(st.integers(0, 3))):
        keys = list(event)
        action = draw(st.sampled_from(["drop", "retype", "nest"]))
        key = draw(st.sampled_from(keys)) if keys else "type"
        if action == "drop":
            event.pop(key, None)
        elif action == "retype":
            event[key] = draw(json_values)
        elif isinstance(event.get(key), dict) and event[key]:
            inner = draw(st.sampled_from(list(event[key])))
            event[key][inner] = draw(json_values)
    raw = json.dumps(event)
    form = draw(st.sampled_from(["whole", "truncated", "bytes", "bad-utf8"]))
    if form == "truncated":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if form == "bytes":
        return raw.encode()
    if form == "bad-utf8":
        return raw.encode()[:5] + b"\xff\xfe" + raw.encode()[5:]
    return raw


@settings(max_examples=400, deadline=None)
@given(st.one_of(mutated_event(), json_values.map(json.dumps), st.binary(max_size=40)))
def test_decode_event_raises_only_protocol_errors(frame: str | bytes) -> None:
    try:
        decode_event(frame)
    except ProtocolError:
        pass


# -- model events: a raw server sending malformed frames to a real ModelSession ----------------


class RawModel:
    """A Responses WebSocket endpoint that prefixes one response with chosen frames."""

    def __init__(self) -> None:
        self.bad: list[str | bytes] = []
        self.port = 0

    async def handle(self, ws: ServerConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            encoder = ResponseEncoder(f"resp_{time.monotonic_ns()}", "m")
            bad, self.bad = self.bad, []
            try:
                if message.get("generate") is False:
                    for event in encoder.opening(generate=False):
                        await ws.send(event)
                    for event in encoder.closing(Usage(), generate=False):
                        await ws.send(event)
                    continue
                for event in encoder.opening()[:1]:
                    await ws.send(event)
                for frame in bad:
                    await ws.send(frame)
                encoder.open_part("output_text")  # only the delta is sent after the bad frames
                await ws.send(encoder.delta("ok"))
                for event in encoder.closing(Usage()):
                    await ws.send(event)
            except Exception:  # the client hung up on us after a bad frame: fine
                return


def _frames() -> st.SearchStrategy[list[str | bytes]]:
    safe = mutated_event().filter(_not_auth_or_rate_limit)
    return st.lists(safe, min_size=1, max_size=3)


def _not_auth_or_rate_limit(frame: str | bytes) -> bool:
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    return not re.search(r"40[13]|429|api_key|unauthorized|rate_limit", text)


async def _scenario(frames: list[str | bytes]) -> None:
    model = RawModel()
    async with serve(model.handle, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        connect = ConnectOptions(url=f"ws://127.0.0.1:{port}/v1/responses", connect_timeout=3)
        options = SessionOptions(connect=connect, model="m", lanes=False, stall_timeout_s=0.5)
        session = ModelSession(options)
        session.start()
        try:
            assert await session.wait_ready(5)
            model.bad = frames
            request = CreateRequest(input_texts=("x",), model="m")
            try:
                await asyncio.wait_for(session.complete(request), 10)
            except (AuthError, RateLimited):
                raise
            except SparkError:
                pass  # failing cleanly is fine; hanging or another exception is not
            assert await asyncio.wait_for(session.complete(request), 10) == "ok"
        finally:
            await session.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_frames())
def test_malformed_model_frames_fail_one_request_and_the_next_succeeds(
    frames: list[str | bytes],
) -> None:
    asyncio.run(_scenario(frames))
