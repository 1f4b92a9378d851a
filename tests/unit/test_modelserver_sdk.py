"""The bundled model server is a valid peer for the official ``openai`` client.

The client is the real package, on loopback, with ``_strict_response_validation=True``: every
HTTP body and SSE event it parses is validated against its own pydantic types. WebSocket mode is
not validated by the package itself (it only constructs events), so every raw frame, and every
raw SSE event and chat chunk too, is validated here in pydantic's strict mode against the type
the package declares for its ``type``: a field the real API always sends and we omit fails.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, get_args

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.responses.responses_server_event import ResponsesServerEvent
from pydantic import BaseModel

from spark_lsp.modelserver.engines.scripted import ErrorSpec, FaultSpec, ScriptedEngine
from spark_lsp.modelserver.server import ModelServer
from tests.modelserver_helpers import TOKEN, running

MODEL = "gpt-5.3-codex-spark"
TERMINAL = ("response.completed", "response.incomplete", "response.failed", "error")
JSON = dict[str, Any]


def _by_type(union: Any) -> dict[str, type[BaseModel]]:
    """The members of a discriminated union of events, keyed by their ``type`` literal."""
    members = get_args(get_args(union)[0])
    return {get_args(m.model_fields["type"].annotation)[0]: m for m in members}


STREAM_EVENTS = _by_type(ResponseStreamEvent)
WS_EVENTS = _by_type(ResponsesServerEvent)


def strictly(model: type[BaseModel], raw: str | bytes) -> BaseModel:
    """``raw`` validated against ``model`` in strict mode (a clear error naming the field)."""
    return model.model_validate_json(raw, strict=True)


def check_stream_event(raw: str | bytes) -> JSON:
    """Validate one Responses event as a ``ResponseStreamEvent``; returns it parsed."""
    event: JSON = json.loads(raw)
    model = STREAM_EVENTS.get(event["type"])
    assert model is not None, f"not a Responses stream event type: {event['type']!r}"
    strictly(model, raw)
    return event


def check_ws_event(raw: str | bytes) -> JSON:
    """A WebSocket frame must be both a stream event and a ``ResponsesServerEvent``."""
    event = check_stream_event(raw)
    strictly(WS_EVENTS[event["type"]], raw)
    return event


@asynccontextmanager
async def sdk(engine: ScriptedEngine) -> AsyncIterator[tuple[ModelServer, AsyncOpenAI]]:
    """The bundled server (WebSocket and HTTP) and the official client, strict, no retries."""
    async with running(engine, http_port=0) as server:
        client = AsyncOpenAI(
            api_key=TOKEN,
            base_url=server.http_url,
            websocket_base_url=server.url.removesuffix("/responses"),
            max_retries=0,
            timeout=10,
            _strict_response_validation=True,
        )
        async with client:
            yield server, client


async def ws_turn(client: AsyncOpenAI, requests: Iterable[JSON], ends: int = 1) -> list[JSON]:
    """Send ``requests`` through ``responses.connect()``; every raw frame until ``ends`` ends."""
    events: list[JSON] = []
    async with client.responses.connect() as connection:
        for request in requests:
            await connection.send({"type": "response.create", **request})  # type: ignore[misc]
        while ends:
            raw = await connection.recv_bytes()
            event = check_ws_event(raw)
            assert connection.parse_event(raw).type == event["type"]
            events.append(event)
            ends -= event["type"] in TERMINAL
    return events


def request(text: str = "hi", **fields: Any) -> JSON:
    return {"model": MODEL, "input": text, "store": False, **fields}


def text_of(events: Iterable[JSON]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


USER_MESSAGES: Any = [{"role": "user", "content": "x"}]
LONG = "alpha beta gamma delta epsilon " * 12


@pytest.mark.parametrize(
    ("fault", "fields", "ending"),
    [
        (None, {}, "response.completed"),
        (None, {"max_output_tokens": 16}, "response.incomplete"),
        (FaultSpec(error=ErrorSpec(after_deltas=2)), {}, "response.failed"),
        (FaultSpec(error=ErrorSpec(429, "rate_limit_exceeded", "slow", 2.5)), {}, "error"),
        (FaultSpec(reasoning_tokens=1000), {"max_output_tokens": 64}, "response.incomplete"),
        (FaultSpec(refusal="I can't help with that."), {}, "response.completed"),
    ],
    ids=["completed", "incomplete", "failed", "rate-limited", "reasoning-only", "refusal"],
)
async def test_every_websocket_event_validates_against_the_sdk_types(
    fault: FaultSpec | None, fields: JSON, ending: str
) -> None:
    async with sdk(ScriptedEngine.reply(LONG, fault=fault)) as (_, client):
        events = await ws_turn(client, [request(**fields)])
    assert events[-1]["type"] == ending
    numbers = [e["sequence_number"] for e in events]
    assert numbers == list(range(len(events)))


async def test_websocket_errors_outside_a_response_and_lanes_validate() -> None:
    async with sdk(ScriptedEngine.reply("one two")) as (_, client):
        events = await ws_turn(
            client,
            [
                request(stream_id="a"),
                request(previous_response_id="resp_unknown", stream_id="b"),
                request(generate=False),
            ],
            ends=3,
        )
    error = next(e for e in events if e["type"] == "error")
    assert error["error"]["code"] == "previous_response_not_found"
    assert error["stream_id"] == "b" and error["code"] == "previous_response_not_found"
    assert text_of(e for e in events if e.get("stream_id") == "a") == "one two"


async def test_a_rate_limit_error_carries_its_wait_where_the_sdk_types_put_it() -> None:
    fault = FaultSpec(error=ErrorSpec(429, "rate_limit_exceeded", "slow down", 2.5))
    async with sdk(ScriptedEngine.reply("x", fault=fault)) as (_, client):
        (error,) = await ws_turn(client, [request()])
    assert error["status"] == 429
    assert error["error"]["headers"] == {"retry-after": "2.5"}


async def test_reasoning_that_uses_the_budget_ends_incomplete_with_no_text() -> None:
    async with sdk(ScriptedEngine.reply(LONG, fault=FaultSpec(reasoning_tokens=500))) as (_, c):
        events = await ws_turn(c, [request(max_output_tokens=64)])
        streamed = await ws_turn(c, [request()])
    response = events[-1]["response"]
    assert text_of(events) == ""
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["usage"]["output_tokens_details"]["reasoning_tokens"] == 64
    assert text_of(streamed) == LONG  # without a limit, the text follows the reasoning
    details = streamed[-1]["response"]["usage"]["output_tokens_details"]
    assert details["reasoning_tokens"] == 500


async def test_a_refusal_is_a_refusal_part_not_text() -> None:
    fault = FaultSpec(refusal="I can't help with that.")
    async with sdk(ScriptedEngine.reply("a * b", fault=fault)) as (_, client):
        events = await ws_turn(client, [request()])
    assert text_of(events) == ""
    refused = "".join(e["delta"] for e in events if e["type"] == "response.refusal.delta")
    assert refused == "I can't help with that."
    message = events[-1]["response"]["output"][0]
    assert message["content"] == [{"type": "refusal", "refusal": "I can't help with that."}]


async def test_responses_over_sse_validate_in_the_sdk_and_raw() -> None:
    async with sdk(ScriptedEngine.reply("one two three")) as (_, client):
        stream = await client.responses.create(model=MODEL, input="hi", stream=True)
        typed = [event async for event in stream]
        async with client.responses.with_streaming_response.create(
            model=MODEL, input="hi", stream=True, max_output_tokens=16
        ) as response:
            raw = [line[6:] async for line in response.iter_lines() if line.startswith("data: ")]
    assert typed[-1].type == "response.completed"
    assert typed[-1].response.output_text == "one two three"
    assert [check_stream_event(r)["type"] for r in raw][-1] == "response.completed"


async def test_a_server_failure_mid_stream_is_a_valid_sse_error_event() -> None:
    fault = FaultSpec(error=ErrorSpec(after_deltas=1))
    async with sdk(ScriptedEngine.reply("one two", fault=fault)) as (_, client):
        stream = await client.responses.create(model=MODEL, input="hi", stream=True)
        typed = [event async for event in stream]
    assert typed[-1].type == "response.failed"
    assert typed[-1].response.error is not None
    assert typed[-1].response.error.code == "server_error"


async def test_chat_chunks_validate_in_the_sdk_and_raw() -> None:
    async with sdk(ScriptedEngine.reply("one two")) as (_, client):
        messages: Any = [{"role": "user", "content": "hi"}]
        stream = await client.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
        async with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=messages, stream=True
        ) as response:
            raw = [line[6:] async for line in response.iter_lines() if line.startswith("data: ")]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    assert raw[-1] == "[DONE]"
    for body in raw[:-1]:
        strictly(ChatCompletionChunk, body)


async def test_a_chat_refusal_streams_as_refusal_deltas() -> None:
    fault = FaultSpec(refusal="No.")
    async with sdk(ScriptedEngine.reply("a * b", fault=fault)) as (_, client):
        messages: Any = [{"role": "user", "content": "hi"}]
        stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks) == "No."
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == ""


async def test_a_non_streaming_response_is_a_valid_response_object() -> None:
    async with sdk(ScriptedEngine.reply(LONG)) as (server, client):
        whole = await client.responses.create(model=MODEL, input="hi")
        cut = await client.responses.with_raw_response.create(
            model=MODEL, input="hi", max_output_tokens=16, stream=False
        )
    assert whole.status == "completed" and whole.output_text == LONG
    assert whole.usage is not None and whole.usage.output_tokens > 0
    assert [m["stream"] for m in server.stats.received if "stream" in m] == [False]
    parsed = strictly(Response, cut.text)
    assert isinstance(parsed, Response)
    assert parsed.status == "incomplete" and parsed.incomplete_details is not None
    assert parsed.incomplete_details.reason == "max_output_tokens"
    assert len(parsed.output_text) < len(LONG)


async def test_a_non_streaming_chat_completion_is_valid() -> None:
    async with sdk(ScriptedEngine.reply(LONG)) as (_, client):
        messages: Any = [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "x"},
        ]
        whole = await client.chat.completions.create(model=MODEL, messages=messages)
        cut = await client.chat.completions.with_raw_response.create(
            model=MODEL, messages=messages, max_tokens=16
        )
    assert whole.choices[0].message.content == LONG
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage is not None and whole.usage.completion_tokens > 0
    parsed = strictly(ChatCompletion, cut.text)
    assert isinstance(parsed, ChatCompletion)
    assert parsed.choices[0].finish_reason == "length"


async def test_a_non_streaming_chat_refusal_is_the_message_refusal() -> None:
    fault = FaultSpec(refusal="I can't help with that.")
    async with sdk(ScriptedEngine.reply("a * b", fault=fault)) as (_, client):
        messages: Any = [{"role": "user", "content": "x"}]
        completion = await client.chat.completions.create(model=MODEL, messages=messages)
    message = completion.choices[0].message
    assert message.refusal == "I can't help with that." and message.content is None


async def test_non_streaming_failures_are_http_errors_the_sdk_raises() -> None:
    limited = FaultSpec(error=ErrorSpec(429, "rate_limit_exceeded", "slow down", 2.5))
    async with sdk(ScriptedEngine.reply("x", fault=limited)) as (_, client):
        with pytest.raises(openai.RateLimitError) as caught:
            await client.responses.create(model=MODEL, input="hi")
    assert caught.value.response.headers["retry-after"] == "2.5"
    broken = FaultSpec(error=ErrorSpec(after_deltas=1))
    async with sdk(ScriptedEngine.reply("one two", fault=broken)) as (_, client):
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model=MODEL, messages=USER_MESSAGES)


async def test_deltas_of_any_text_on_a_lane_are_valid_json_events() -> None:
    tricky = 'say "hi" \\ back\n\ttab é 🙂 </script>'
    async with sdk(ScriptedEngine.reply(tricky)) as (_, client):
        events = await ws_turn(client, [request(stream_id="lane-1")])
    assert text_of(events) == tricky
    assert {e["stream_id"] for e in events} == {"lane-1"}
