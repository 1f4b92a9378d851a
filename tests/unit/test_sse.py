"""Server-sent events and Chat Completions chunks, decoded without a socket."""

from __future__ import annotations

import json

import pytest

from spark_lsp.errors import RateLimited
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    ResponseFinished,
    ResponseStarted,
    TextDelta,
    Usage,
)
from spark_lsp.model.sse import ChatDecoder, SseParser, encode_chat, http_error_event


def test_events_split_across_reads_with_crlf_comments_and_multiline_data() -> None:
    parser = SseParser()
    assert parser.feed(b": keep-alive\r\nevent: response.created\r\ndata: {\"a\"") == []
    assert parser.feed(b":1}\r\n\r\ndata: one\ndata: two\n\n") == [
        ("response.created", '{"a":1}'),
        (None, "one\ntwo"),
    ]


def chunk(**fields: object) -> str:
    return json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", **fields})


def test_a_chat_stream_as_vllm_sends_it() -> None:
    decoder = ChatDecoder()
    events = decoder.feed(chunk(choices=[{"index": 0, "delta": {"role": "assistant"}}]))
    events += decoder.feed(chunk(choices=[{"index": 0, "delta": {"content": "a * "}}]))
    events += decoder.feed(chunk(choices=[{"index": 0, "delta": {"content": "b"},
                                           "finish_reason": "stop"}]))  # fmt: skip
    events += decoder.feed(chunk(choices=None, usage={
        "prompt_tokens": 9, "completion_tokens": 2, "prompt_tokens_details": None}))  # fmt: skip
    events += decoder.feed("[DONE]")
    assert events == [
        ResponseStarted("chatcmpl-1"),
        TextDelta("a * "),
        TextDelta("b"),
        ResponseFinished("completed", "chatcmpl-1", Usage(input_tokens=9, output_tokens=2)),
    ]


def test_a_chat_stream_cut_by_its_budget_is_incomplete() -> None:
    decoder = ChatDecoder()
    decoder.feed(chunk(choices=[{"delta": {"content": "x"}, "finish_reason": "length"}]))
    finished = decoder.feed("[DONE]")[0]
    assert isinstance(finished, ResponseFinished)
    assert (finished.status, finished.incomplete_reason) == ("incomplete", "max_output_tokens")


def test_an_error_chunk_mid_stream_is_an_error_event() -> None:
    decoder = ChatDecoder()
    [event] = decoder.feed(json.dumps({"error": {"message": "overloaded", "code": "server_error"}}))
    assert isinstance(event, ErrorEvent) and event.code == "server_error"


def test_an_http_429_keeps_its_retry_after_header() -> None:
    body = json.dumps({"error": {"message": "slow down", "code": "rate_limit_exceeded"}})
    event = http_error_event(429, body.encode(), {"retry-after": "12", "content-type": "x"})
    error = event.to_exception()
    assert isinstance(error, RateLimited) and error.retry_after == 12


def test_a_non_json_error_page_still_says_what_happened() -> None:
    event = http_error_event(502, b"<html>Bad Gateway</html>", {})
    assert event.status == 502 and "Bad Gateway" in event.message


def test_chat_requests_carry_one_user_message_and_a_budget() -> None:
    request = CreateRequest(input_texts=("stable", "volatile"), model="m", instructions="sys",
                            max_output_tokens=64)  # fmt: skip
    body = json.loads(encode_chat(request))
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "stable\n\nvolatile"},
    ]
    assert body["stream"] is True and body["max_tokens"] == 64
    assert body["stream_options"] == {"include_usage": True}


LONG_LINE_FEED = """
from spark_lsp.model.sse import SseParser
parser = SseParser()
events = []
for _ in range(7000):
    events += parser.feed(b"x" * 1024)
events += parser.feed(b"\\n\\ndata: a\\n\\n")
assert len(events) == 1 and events[0] == (None, "a"), events
"""


def test_a_long_line_arriving_in_small_pieces_is_split_in_linear_time() -> None:
    """7 MB of one line in 1 kB pieces: each piece searched alone, not the whole line again
    (searching from the start on every piece took minutes of CPU)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", LONG_LINE_FEED], check=True, timeout=20)


def test_a_line_or_event_over_the_cap_is_refused() -> None:
    from spark_lsp.errors import ReplyTooLarge

    with pytest.raises(ReplyTooLarge, match="line over 100 bytes"):
        SseParser(max_bytes=100).feed(b"data: " + b"x" * 200)
    parser = SseParser(max_bytes=100)
    with pytest.raises(ReplyTooLarge, match="event over 100 bytes"):
        for _ in range(20):
            parser.feed(b"data: " + b"y" * 10 + b"\n")
