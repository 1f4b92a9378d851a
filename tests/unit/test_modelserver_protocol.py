"""Conformance of the bundled model server with the Responses WebSocket-mode protocol."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from spark_lsp.model.protocol import (
    CreateRequest,
    ResponseFinished,
    decode_event,
    encode_create,
)
from spark_lsp.modelserver.engines.base import EngineRequest, Plan
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from tests.modelserver_helpers import (
    RecordingEngine,
    ask,
    client,
    collect,
    create,
    http_get,
    lane,
    recv_json,
    response_id,
    running,
    text_of,
    types,
)

EVENT_ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 3,
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


async def test_events_come_in_order_with_rising_sequence_numbers() -> None:
    async with running(ScriptedEngine.reply("one two")) as server, client(server) as ws:
        events = await ask(ws, stream=True)
    assert types(events) == EVENT_ORDER
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert text_of(events) == "one two"
    completed = events[-1]["response"]
    assert completed["output"][0]["content"][0]["text"] == "one two"
    usage = completed["usage"]
    assert usage["output_tokens"] == 3
    assert usage["input_tokens"] > 0 and usage["input_tokens_details"]["cached_tokens"] == 0


async def test_the_client_encoder_and_decoder_round_trip_through_the_server() -> None:
    request = CreateRequest(input_texts=("a", "b"), instructions="x", max_output_tokens=64)
    async with running() as server, client(server) as ws:
        await ws.send(encode_create(request.with_stream_id("c1")))
        finished = [decode_event(json.dumps(e)) for e in await collect(ws)][-1]
    assert isinstance(finished, ResponseFinished)
    assert finished.status == "completed" and finished.stream_id == "c1"


@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({"frobnicate": 1}, "unknown_parameter", "frobnicate"),
        ({"max_output_tokens": 15}, "integer_below_min_value", "max_output_tokens"),
        ({"max_output_tokens": "many"}, "invalid_type", "max_output_tokens"),
        ({"previous_response_id": "resp_nope"}, "previous_response_not_found", None),
        ({"input": 42}, "invalid_value", "input"),
    ],
)
async def test_invalid_requests_get_nested_errors_and_the_connection_survives(
    fields: dict[str, Any], code: str, param: str | None
) -> None:
    async with running() as server, client(server) as ws:
        [error] = await ask(ws, **fields)
        assert error["type"] == "error" and error["status"] == 400
        assert error["error"]["type"] == "invalid_request_error"
        assert error["error"]["code"] == code
        assert error["error"]["param"] == (param or "previous_response_id")
        assert error["error"]["message"]
        assert types(await ask(ws))[-1] == "response.completed"


async def test_documented_fields_are_accepted_and_minimum_output_is_16() -> None:
    extra: dict[str, Any] = {
        "stream": True,
        "background": False,
        "temperature": 0.2,
        "top_p": 1,
        "metadata": {"k": "v"},
        "prompt_cache_key": "ws-1",
        "store": False,
        "max_output_tokens": 16,
        "include": [],
        "service_tier": "auto",
        "user": "u",
        "truncation": "auto",
    }
    async with running() as server, client(server) as ws:
        assert types(await ask(ws, **extra))[-1] == "response.completed"


async def test_output_beyond_max_output_tokens_ends_incomplete() -> None:
    reply = "word " * 40  # 80 pieces
    async with running(ScriptedEngine.reply(reply)) as server, client(server) as ws:
        events = await ask(ws, max_output_tokens=16)
    assert types(events)[-1] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert types(events).count("response.output_text.delta") == 16


async def test_malformed_json_gets_invalid_json_and_the_connection_stays_open() -> None:
    async with running() as server, client(server) as ws:
        await ws.send("{not json")
        error = await recv_json(ws)
        assert error["type"] == "error" and error["error"]["code"] == "invalid_json"
        await ws.send(json.dumps({"type": "response.cancel"}))
        assert (await recv_json(ws))["error"]["param"] == "type"
        assert types(await ask(ws))[-1] == "response.completed"


async def test_lanes_run_in_parallel_and_tag_every_event() -> None:
    engine = ScriptedEngine.reply("a b c", ttft_ms=300)
    async with running(engine) as server, client(server) as ws:
        started = time.monotonic()
        await ws.send(create(stream_id="one"))
        await ws.send(create(stream_id="two"))
        events = await collect(ws, ends=2)
        elapsed = time.monotonic() - started
    assert all(e["stream_id"] in ("one", "two") for e in events)
    first_delta = types(events).index("response.output_text.delta")
    assert types(events[:first_delta]).count("response.created") == 2
    for name in ("one", "two"):
        assert types(lane(events, name))[-1] == "response.completed"
        assert text_of(lane(events, name)) == "a b c"
    assert elapsed < 0.55  # sequential lanes would need at least 0.6 s


async def test_one_lane_and_the_default_lane_are_fifo() -> None:
    engine = ScriptedEngine.reply("x y", ttft_ms=50)
    async with running(engine) as server, client(server) as ws:
        for stream_id in ("L", "L", None, None):
            fields = {"stream_id": stream_id} if stream_id else {}
            await ws.send(create(**fields))
        events = await collect(ws, ends=4)
    for name in ("L", None):
        kinds = types(lane(events, name))
        first_end = kinds.index("response.completed")
        assert kinds.index("response.created", 1) > first_end
        assert kinds.count("response.completed") == 2


async def test_responses_beyond_the_in_flight_cap_wait_for_a_slot() -> None:
    engine = ScriptedEngine.reply("x", ttft_ms=150)
    async with running(engine, max_in_flight=2) as server, client(server) as ws:
        for name in ("a", "b", "c"):
            await ws.send(create(stream_id=name))
        events = await collect(ws, ends=3)
    third_created = [i for i, e in enumerate(events) if e["type"] == "response.created"][2]
    assert "response.completed" in types(events[:third_created])


async def test_the_33rd_lane_is_refused_and_the_others_keep_working() -> None:
    async with running() as server, client(server) as ws:
        for index in range(32):
            await ws.send(create(stream_id=f"lane-{index}"))
        await collect(ws, ends=32)
        [error] = await ask(ws, stream_id="lane-32")
        assert error["error"]["code"] == "websocket_stream_limit_reached"
        assert error["stream_id"] == "lane-32"
        assert types(await ask(ws, stream_id="lane-7"))[-1] == "response.completed"


@pytest.mark.parametrize("stream_id", ["", "has space", "x" * 257, 7])
async def test_invalid_stream_ids_are_refused(stream_id: object) -> None:
    async with running() as server, client(server) as ws:
        [error] = await ask(ws, stream_id=stream_id)
    assert error["error"]["code"] == "invalid_stream_id"


async def test_an_error_is_scoped_to_its_lane() -> None:
    engine = ScriptedEngine.reply("slow reply here", ttft_ms=150)
    async with running(engine) as server, client(server) as ws:
        await ws.send(create(stream_id="good"))
        await ws.send(create(stream_id="bad", bogus=True))
        events = await collect(ws, ends=2)
    assert types(lane(events, "bad")) == ["error"]
    assert types(lane(events, "good"))[-1] == "response.completed"


async def test_without_lanes_stream_id_is_an_unknown_parameter() -> None:
    async with running(lanes=False) as server, client(server) as ws:
        [error] = await ask(ws, stream_id="c1")
        assert error["error"]["code"] == "unknown_parameter"
        assert error["error"]["param"] == "stream_id"
        assert "stream_id" not in error
        assert types(await ask(ws))[-1] == "response.completed"


async def test_previous_response_id_chains_the_full_context() -> None:
    engine = RecordingEngine("answer")
    async with running(engine) as server, client(server) as ws:
        first = response_id(await ask(ws, "one", stream_id="a"))
        await ask(ws, "two", stream_id="a", previous_response_id=first, instructions="i")
    chained = engine.requests[-1]
    assert chained.input_texts == ("one", "answer", "two")
    assert chained.instructions == "i"


async def test_only_the_latest_response_of_a_lane_is_kept() -> None:
    async with running(RecordingEngine()) as server, client(server) as ws:
        first = response_id(await ask(ws, "one"))
        await ask(ws, "two", previous_response_id=first)
        [error] = await ask(ws, "three", previous_response_id=first)
    assert error["error"]["code"] == "previous_response_not_found"


async def test_a_new_lane_forks_a_parent_and_leaves_it_in_place() -> None:
    engine = RecordingEngine("r")
    async with running(engine) as server, client(server) as ws:
        parent = response_id(await ask(ws, "base", stream_id="a"))
        await ask(ws, "fork", stream_id="b", previous_response_id=parent)
        await ask(ws, "again", stream_id="a", previous_response_id=parent)
    assert engine.requests[1].input_texts == ("base", "r", "fork")
    assert engine.requests[2].input_texts == ("base", "r", "again")


async def test_a_failed_turn_evicts_the_response_it_referenced() -> None:
    engine = RecordingEngine("r")
    async with running(engine) as server, client(server) as ws:
        parent = response_id(await ask(ws, "base"))
        await ask(ws, "x", previous_response_id=parent, max_output_tokens=1)
        [error] = await ask(ws, "y", previous_response_id=parent)
    assert error["error"]["code"] == "previous_response_not_found"


async def test_chains_are_per_connection() -> None:
    async with running() as server:
        async with client(server) as ws:
            parent = response_id(await ask(ws))
        async with client(server) as ws:
            [error] = await ask(ws, previous_response_id=parent)
    assert error["error"]["code"] == "previous_response_not_found"


async def test_generate_false_prepares_a_chainable_response_without_output() -> None:
    engine = RecordingEngine("out")
    async with running(engine) as server, client(server) as ws:
        warm = await ask(ws, "stable context", generate=False)
        assert types(warm) == ["response.created", "response.in_progress", "response.completed"]
        assert warm[-1]["response"]["output"] == []
        assert warm[-1]["response"]["usage"]["output_tokens"] == 0
        await ask(ws, "cursor", previous_response_id=response_id(warm))
    assert [r.input_texts for r in engine.requests] == [("stable context", "cursor")]
    assert server.stats.requests_total == 2 and server.stats.generate_requests == 1


async def test_long_prompts_report_cached_tokens_in_128_token_steps() -> None:
    stable = "def function_number_%d(): pass\n"
    prompt = "".join(stable % i for i in range(300))  # ~9000 chars
    async with running() as server, client(server) as ws:
        first = await ask(ws, prompt + "tail one")
        second = await ask(ws, prompt + "tail two")
        short = await ask(ws, "short")
    usages = [events[-1]["response"]["usage"] for events in (first, second, short)]
    cached = [usage["input_tokens_details"]["cached_tokens"] for usage in usages]
    assert cached[0] == 0 and cached[2] == 0
    assert cached[1] >= 1024 and cached[1] % 128 == 0
    assert cached[1] <= usages[1]["input_tokens"]


async def test_the_connection_ends_at_its_age_limit() -> None:
    async with running(max_age_s=0.2) as server, client(server) as ws:
        error = await recv_json(ws)
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    assert error["error"]["code"] == "websocket_connection_limit_reached"
    assert ws.close_code == 1001


async def test_messages_over_the_size_limit_close_the_connection() -> None:
    async with running(max_message_bytes=4096) as server, client(server) as ws:
        await ws.send(create("x" * 10_000))
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    assert ws.close_code == 1009


async def test_permessage_deflate_is_negotiated() -> None:
    async with running() as server, client(server) as ws:
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")


@pytest.mark.parametrize(("token", "status"), [("wrong", 401), ("", 401)])
async def test_upgrades_need_the_bearer_token(token: str, status: int) -> None:
    async with running() as server:
        with pytest.raises(InvalidStatus) as caught:
            async with client(server, token=token):
                pass
    assert caught.value.response.status_code == status
    assert json.loads(caught.value.response.body)["error"]["code"] == "invalid_api_key"


async def test_http_routes_answer_404_401_and_426() -> None:
    async with running() as server:
        assert (await http_get(server, "/v1/chat"))[0] == 404
        assert (await http_get(server, "/v1/responses", token=None))[0] == 401
        status, body = await http_get(server, "/v1/responses")
        assert status == 426 and body["error"]["code"] == "upgrade_required"
        assert (await http_get(server, "/v1/spark/stats", token="nope"))[0] == 401


async def test_stats_count_connections_requests_and_keep_the_bodies() -> None:
    async with running() as server:
        async with client(server) as ws:
            await ask(ws, "first", stream_id="s")
            await ask(ws, "warm", generate=False)
            status, stats = await http_get(server, "/v1/spark/stats")
        await asyncio.sleep(0.05)
        assert server.stats.connections_open == 0
    assert status == 200
    assert stats["connections_total"] == 1 and stats["connections_open"] == 1
    assert stats["requests_total"] == 2 and stats["generate_requests"] == 1
    assert stats["received"][0]["stream_id"] == "s"
    assert stats["received"][1]["input"][0]["content"][0]["text"] == "warm"


async def test_stats_keep_only_the_last_bodies() -> None:
    async with running(received_history=3) as server, client(server) as ws:
        for index in range(5):
            await ask(ws, f"n{index}")
    texts = [m["input"][0]["content"][0]["text"] for m in server.stats.received]
    assert texts == ["n2", "n3", "n4"]


async def test_the_server_refuses_connections_beyond_its_limit() -> None:
    async with running(max_connections=1) as server, client(server):
        with pytest.raises(InvalidStatus) as caught:
            async with client(server):
                pass
    assert caught.value.response.status_code == 503


async def test_closing_the_server_closes_clients_with_going_away() -> None:
    async with running() as server, client(server) as ws:
        await server.close()
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    assert ws.close_code == 1001


class BrokenEngine(ScriptedEngine):
    """An engine with a bug: the server must fail that request only."""

    def plan(self, request: EngineRequest) -> Plan:
        if "crash" in request.last_text:
            raise RuntimeError("engine bug")
        return super().plan(request)


async def test_an_engine_bug_fails_only_its_request() -> None:
    async with running(BrokenEngine.reply("fine")) as server, client(server) as ws:
        [error] = await ask(ws, "crash", stream_id="a")
        assert (error["status"], error["error"]["code"]) == (500, "server_error")
        assert error["stream_id"] == "a"
        assert text_of(await ask(ws, "again", stream_id="a")) == "fine"


async def test_an_unbounded_max_output_tokens_is_capped() -> None:
    """10^18 on a repetitive prompt used to run for ever (and on after the client left)."""
    engine = RecordingEngine("x " * 10)
    async with running(engine) as server, client(server) as ws:
        events = await ask(ws, max_output_tokens=10**18)
    assert types(events)[-1] == "response.completed"
    limit = engine.requests[-1].max_output_tokens
    assert limit is not None and limit <= server.config.max_output_tokens


async def test_stats_are_counters_and_bounded_samples() -> None:
    """75 requests of 4 MiB used to stay whole in memory (and in the stats body)."""
    big = "y" * (3 * 2**20)
    async with running(ScriptedEngine.reply("ok")) as server, client(server) as ws:
        for _ in range(6):
            await ask(ws, big)
        status, body = await http_get(server, "/v1/spark/stats")
    assert status == 200 and body["requests_total"] == 6
    assert len(json.dumps(body)) < 8 * 2**20
    assert "truncated" in json.dumps(body["received"][-1])
