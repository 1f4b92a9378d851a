"""Backends as they really answer: recorded-style streams replayed through the real transports.

Each file in ``tests/fixtures/streams/`` is a response body written from a public API reference
or a server's source (its opening ``: Shape:`` comment says which). Every one is served by a raw
loopback server — whole, and cut into 7-byte pieces (HTTP chunks, or WebSocket fragments) — to a
real ``ModelSession``; the Responses streams go over WebSocket mode as well. What must hold:
rate limits wait as long as the server asked, in the message or the headers (issue 23 items
1–2); a trailing ``[DONE]`` keeps the socket (3); a refusal is a ``ModelRefused`` with the
model's words (4); text cut by the output limit is flagged, and the engine offers it only up
to its last complete line (6); only choice 0 of a Chat stream counts (7); reasoning never shows.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.errors import ModelRefused, RateLimited, SparkError
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.model.session import ModelSession
from tests.counter import loaded_counter
from tests.hostile import (
    RawHttpServer,
    RawWebSocketServer,
    always,
    chunked,
    chunks_of,
    http_head,
    open_session,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "streams"
REFUSAL = "the model refused: I'm sorry, I can't help with that."


@dataclass(frozen=True)
class Expect:
    """What a session must make of one fixture."""

    api: str = "responses"
    text: str | None = None
    error: type[SparkError] | None = None
    match: str = ""
    retry_after: float | None = None
    cut: bool = False


EXPECT = {
    "openai_responses_text.sse": Expect(text="return a + b\n"),
    "openai_responses_rate_limited.sse": Expect(
        error=RateLimited, match="try again in 11.054s", retry_after=11.054
    ),
    "responses_error_nested_too_many_requests.sse": Expect(error=RateLimited, retry_after=90.0),
    "responses_error_flat_rate_limit.sse": Expect(error=RateLimited, retry_after=0.25),
    "openrouter_responses_done.sse": Expect(text="items.sort()"),
    "openai_responses_refusal.sse": Expect(error=ModelRefused, match=REFUSAL),
    "openai_responses_incomplete.sse": Expect(text='config = load()\nreturn {"', cut=True),
    "openai_chat_refusal.sse": Expect(api="chat", error=ModelRefused, match=REFUSAL),
    "vllm_chat_length.sse": Expect(api="chat", text='for row in rows:\n    print(row["', cut=True),
    "ollama_chat_length.sse": Expect(api="chat", text="x = 1\ny = [", cut=True),
    "llamacpp_chat_length.sse": Expect(api="chat", text="if ok:\n    run(", cut=True),
    "deepseek_reasoning_content.sse": Expect(api="chat", text="sum(values)"),
    "groq_reasoning.sse": Expect(api="chat", text="for i in range(n):"),
    "mistral_content_list.sse": Expect(api="chat", text="[x * 2 for x in xs]"),
    "gateway_multi_choice.sse": Expect(api="chat", text="alpha beta"),
}
RESPONSES = sorted(name for name, expect in EXPECT.items() if expect.api == "responses")


def request() -> CreateRequest:
    return CreateRequest(input_texts=("x",), model="m", max_output_tokens=64)


def http_reply(body: bytes, *, sevens: bool) -> list[bytes]:
    """The whole response: one write with a length, or 7-byte chunks written one by one."""
    if not sevens:
        return [http_head(200, "Content-Type: text/event-stream", f"Content-Length: {len(body)}")
                + body]  # fmt: skip
    pieces = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in chunks_of(body)]
    return [http_head(200, "Transfer-Encoding: chunked"), *pieces, chunked()]


def ws_frames(body: bytes, *, sevens: bool) -> list[Any]:
    """The events of an SSE body as WebSocket frames (whole, or in 7-character fragments)."""
    frames = [
        line.removeprefix("data: ")
        for line in body.decode().splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
    return [[frame[i : i + 7] for i in range(0, len(frame), 7)] if sevens else frame
            for frame in frames]  # fmt: skip


async def outcome(session: ModelSession) -> tuple[str | SparkError, bool]:
    """The text of one response (or its error) and whether it was cut by the budget."""
    try:
        async with session.stream(request()) as response:
            return await asyncio.wait_for(response.text(), 10), response.cut
    except SparkError as exc:
        return exc, False


def check(name: str, got: str | SparkError, cut: bool, session: ModelSession) -> None:
    expect = EXPECT[name]
    if expect.error is None:
        assert got == expect.text and cut is expect.cut, (got, cut)
        return
    assert isinstance(got, expect.error), got
    assert expect.match in str(got), got
    if expect.retry_after is not None:
        assert isinstance(got, RateLimited)
        assert got.retry_after == pytest.approx(expect.retry_after)
        assert session.cooldown_left() > 0  # the next keys do not hit the limit again
        waits = f"retrying in {math.ceil(expect.retry_after)} s"
        assert session.status.detail is not None and waits in session.status.detail


def test_every_fixture_cites_its_source_and_has_an_expectation() -> None:
    names = {path.name for path in FIXTURES.glob("*.sse")}
    assert names == set(EXPECT)
    for name in names:
        assert (FIXTURES / name).read_text().startswith(": Shape: "), name


@pytest.mark.parametrize("sevens", [False, True], ids=["whole", "7-byte-chunks"])
@pytest.mark.parametrize("name", sorted(EXPECT))
async def test_fixture_over_http(name: str, sevens: bool) -> None:
    reply = http_reply((FIXTURES / name).read_bytes(), sevens=sevens)

    server = await RawHttpServer(always(reply)).start()
    session = await open_session(server.url, transport="http", api=EXPECT[name].api)
    try:
        got, cut = await outcome(session)
        check(name, got, cut, session)
        if EXPECT[name].error is None:  # a kept-alive socket serves the next requests
            for _ in range(2):
                assert (await outcome(session))[0] == got
            assert server.connections == 1
    finally:
        await session.close()
        await server.close()


@pytest.mark.parametrize("sevens", [False, True], ids=["whole", "7-char-fragments"])
@pytest.mark.parametrize("name", RESPONSES)
async def test_responses_fixture_over_websocket(name: str, sevens: bool) -> None:
    frames = ws_frames((FIXTURES / name).read_bytes(), sevens=sevens)

    server = await RawWebSocketServer(always(frames)).start()
    session = await open_session(server.url, transport="websocket", pool_size=1)
    try:
        got, cut = await outcome(session)
        check(name, got, cut, session)
    finally:
        await session.close()
        await server.close()


async def test_a_429_body_names_the_wait_when_no_header_does() -> None:
    body = (
        b'{"error": {"message": "Rate limit reached for gpt-4.1-mini on requests per min. '
        b'Please try again in 1m30s.", "type": "requests", "code": "rate_limit_exceeded"}}'
    )
    reply = [http_head(429, f"Content-Length: {len(body)}", reason="Too Many Requests") + body]

    server = await RawHttpServer(always(reply)).start()
    session = await open_session(server.url, transport="http")
    try:
        got, _ = await outcome(session)
        assert isinstance(got, RateLimited) and got.retry_after == 90.0
        assert session.cooldown_left() > 60
    finally:
        await session.close()
        await server.close()


# -- the engine offers a cut reply up to its last complete line (issue 23 item 6) --------------


@pytest.mark.parametrize(
    ("name", "document", "line", "column", "expected"),
    [
        ("ollama_chat_length.sse", "import os\n\n", 1, 0, "x = 1"),
        ("openai_responses_text.sse", "def add(a, b):\n    \n", 1, 4, "return a + b"),
    ],
)
async def test_the_engine_offers_a_cut_reply_only_up_to_its_last_complete_line(
    name: str, document: str, line: int, column: int, expected: str
) -> None:
    reply = http_reply((FIXTURES / name).read_bytes(), sevens=True)

    server = await RawHttpServer(always(reply)).start()
    session = await open_session(server.url, transport="http", api=EXPECT[name].api)
    options = CompletionOptions("m", 64, 2048, True)
    pipeline = CompletionPipeline(lambda: session, ContextBuilder(), lambda: options)
    doc = DocumentIndex(document, loaded_counter(), version=1)
    try:
        query = CompletionQuery("file:///w/f.py", "f.py", "python", doc, line, column, True)
        suggestion = await pipeline.complete(query)
        assert suggestion is not None and suggestion.text == expected
        cut_count = pipeline.stats.counters["cut_replies"]
        assert cut_count == (1 if EXPECT[name].cut else 0)
    finally:
        await session.close()
        await server.close()
