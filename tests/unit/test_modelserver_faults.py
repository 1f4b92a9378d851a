"""The scripted engine: script format, pacing, and every injectable fault, over a real socket."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus

from benchmarks.common import set_default_reply
from spark_lsp.errors import AuthError, ConfigError, RateLimited
from spark_lsp.model.protocol import ErrorEvent, decode_event
from spark_lsp.modelserver.engines.scripted import (
    ErrorSpec,
    FaultSpec,
    Reply,
    Script,
    ScriptedEngine,
    split_pieces,
)
from tests.modelserver_helpers import (
    RecordingEngine,
    ask,
    client,
    collect,
    create,
    recv_json,
    response_id,
    running,
    text_of,
    types,
)

EXAMPLE_SCRIPT = {
    "ttft_ms": 150,
    "tokens_per_second": 1000,
    "replies": [
        {"when": "alpha", "text": "A!", "fault": None},
        {"when": "boom", "text": "", "fault": {"error": {"status": 429, "code": "rate_limited"}}},
    ],
    "default": {"text": "default reply", "fault": None},
}


def test_scripts_load_from_json(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(EXAMPLE_SCRIPT))
    script = Script.load(path)
    assert script.ttft_ms == 150 and script.tokens_per_second == 1000
    assert script.replies[1].fault == FaultSpec(error=ErrorSpec(status=429, code="rate_limited"))
    assert script.default == Reply(text="default reply")


@pytest.mark.parametrize(
    "data",
    [{"replies": [{"txt": "typo"}]}, {"default": {"fault": {"explode": 1}}}, {"replies": 3}],
)
def test_bad_scripts_are_config_errors(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Script.from_dict(data)


def test_unreadable_script_files_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    for name in ("bad.json", "missing.json"):
        with pytest.raises(ConfigError, match=name):
            Script.load(tmp_path / name)


@given(st.text())
def test_pieces_rebuild_the_text_and_are_token_sized(text: str) -> None:
    pieces = split_pieces(text)
    assert "".join(pieces) == text
    assert all(1 <= len(piece) <= 4 for piece in pieces)


async def test_replies_are_chosen_by_the_last_input_or_the_instructions() -> None:
    script = Script.from_dict(EXAMPLE_SCRIPT | {"ttft_ms": 0, "tokens_per_second": 0})
    async with running(ScriptedEngine(script)) as server, client(server) as ws:
        assert text_of(await ask(ws, "say alpha")) == "A!"
        assert text_of(await ask(ws, "x", instructions="alpha mode")) == "A!"
        assert text_of(await ask(ws, "other")) == "default reply"
        [error] = await ask(ws, "boom")
    assert error["status"] == 429


async def test_pacing_follows_ttft_and_token_rate() -> None:
    engine = ScriptedEngine.reply("ab " * 100, ttft_ms=100, tokens_per_second=1000)  # 200 pieces
    async with running(engine) as server, client(server) as ws:
        started = time.monotonic()
        await ws.send(create())
        first_delta_at = None
        while (event := await recv_json(ws))["type"] != "response.completed":
            if first_delta_at is None and event["type"] == "response.output_text.delta":
                first_delta_at = time.monotonic() - started
        total = time.monotonic() - started
    assert first_delta_at is not None and first_delta_at >= 0.09
    assert 0.28 <= total < 1.0  # 100 ms + 200 pieces at 1000/s


async def test_the_script_can_be_changed_between_requests() -> None:
    engine = ScriptedEngine.reply("first")
    async with running(engine) as server, client(server) as ws:
        assert text_of(await ask(ws)) == "first"
        set_default_reply(engine, "second")
        assert text_of(await ask(ws)) == "second"


async def test_drop_aborts_the_tcp_connection_without_a_close_frame() -> None:
    engine = ScriptedEngine.reply("a b c d", fault=FaultSpec(drop_after_deltas=2))
    async with running(engine) as server, client(server) as ws:
        await ws.send(create())
        seen = []
        with pytest.raises(ConnectionClosedError) as caught:
            while True:
                seen.append((await recv_json(ws))["type"])
    assert seen.count("response.output_text.delta") == 2
    assert caught.value.rcvd is None


async def test_stall_pauses_the_stream_then_resumes() -> None:
    fault = FaultSpec(stall_after_deltas=1, stall_s=0.3)
    engine = ScriptedEngine.reply("a b", fault=fault)
    async with running(engine) as server, client(server) as ws:
        await ws.send(create())
        times: list[float] = []
        while (event := await recv_json(ws))["type"] != "response.completed":
            if event["type"] == "response.output_text.delta":
                times.append(time.monotonic())
    assert len(times) == 3 and times[1] - times[0] >= 0.25


async def test_garbage_is_a_non_json_frame_and_the_response_continues() -> None:
    engine = ScriptedEngine.reply("a b", fault=FaultSpec(garbage_after_deltas=1))
    async with running(engine) as server, client(server) as ws:
        await ws.send(create())
        frames: list[str | bytes] = []
        while not str(frames[-1:]).count("response.completed"):
            frames.append(await ws.recv())
    bad = [f for f in frames if not str(f).startswith("{")]
    assert len(bad) == 1 and frames.index(bad[0]) == 5  # after 4 opening events + 1 delta
    assert text_of(json.loads(f) for f in frames if f != bad[0]) == "a b"


async def test_rate_limit_errors_carry_retry_after() -> None:
    error = ErrorSpec(status=429, code="rate_limit_exceeded", retry_after_s=1.5)
    engine = ScriptedEngine.reply("x", fault=FaultSpec(error=error))
    async with running(engine) as server, client(server) as ws:
        [event] = await ask(ws, stream_id="c")
    assert event["headers"] == {"retry-after": "1.5"} and event["stream_id"] == "c"
    decoded = decode_event(json.dumps(event))
    assert isinstance(decoded, ErrorEvent)
    exc = decoded.to_exception()
    assert isinstance(exc, RateLimited) and exc.retry_after == 1.5


async def test_auth_errors_map_to_auth_error() -> None:
    error = ErrorSpec(status=401, code="invalid_api_key", message="bad key")
    async with running(ScriptedEngine.reply("x", fault=FaultSpec(error=error))) as server:
        async with client(server) as ws:
            [event] = await ask(ws)
    decoded = decode_event(json.dumps(event))
    assert isinstance(decoded, ErrorEvent) and isinstance(decoded.to_exception(), AuthError)


async def test_an_error_after_deltas_fails_the_response_and_evicts_its_parent() -> None:
    engine = RecordingEngine("a b c")
    async with running(engine) as server, client(server) as ws:
        parent = response_id(await ask(ws))
        fail = ErrorSpec(status=500, code="server_error", after_deltas=1)
        set_default_reply(engine, "a b c", FaultSpec(error=fail))
        events = await ask(ws, previous_response_id=parent)
        set_default_reply(engine, "a b c")
        [error] = await ask(ws, previous_response_id=parent)
    assert types(events)[-1] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert types(events).count("response.output_text.delta") == 1
    assert error["error"]["code"] == "previous_response_not_found"


async def test_reject_upgrade_refuses_the_handshake_the_given_times() -> None:
    engine = ScriptedEngine.reply("x", fault=FaultSpec(reject_upgrade=401, times=1))
    async with running(engine) as server:
        with pytest.raises(InvalidStatus) as caught:
            async with client(server):
                pass
        assert caught.value.response.status_code == 401
        async with client(server) as ws:
            assert text_of(await ask(ws)) == "x"


async def test_age_limit_fault_sends_the_error_and_closes_going_away() -> None:
    engine = ScriptedEngine.reply("x", fault=FaultSpec(age_limit=True))
    async with running(engine) as server, client(server) as ws:
        [error] = await ask(ws)
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    assert error["error"]["code"] == "websocket_connection_limit_reached"
    assert ws.close_code == 1001


async def test_a_fault_with_times_fires_only_that_often() -> None:
    engine = ScriptedEngine.reply("a b", fault=FaultSpec(drop_after_deltas=0, times=1))
    async with running(engine) as server:
        async with client(server) as ws:
            await ws.send(create())
            with pytest.raises(ConnectionClosedError):
                await collect(ws)
        async with client(server) as ws:
            assert text_of(await ask(ws)) == "a b"
