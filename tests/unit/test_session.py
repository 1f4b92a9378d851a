"""The persistent session against the real bundled model server (scripted engine) on port 0."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve

from benchmarks.common import set_default_reply
from spark_lsp.errors import (
    AuthError,
    ModelNotAvailable,
    ModelTimeout,
    ModelUnavailable,
    ProtocolError,
    RateLimited,
)
from spark_lsp.model.connection import ConnectOptions, dial
from spark_lsp.model.link import Link
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.model.session import ModelSession, SessionOptions
from spark_lsp.modelserver.engines.scripted import (
    ErrorSpec,
    FaultSpec,
    Reply,
    Script,
    ScriptedEngine,
)
from spark_lsp.modelserver.server import ModelServer, ServerConfig

TOKEN = "test-token"


def request(text: str = "hello", **kwargs: object) -> CreateRequest:
    return CreateRequest(input_texts=(text,), model="m", max_output_tokens=64, **kwargs)  # type: ignore[arg-type]


async def serve(engine: ScriptedEngine, **config: object) -> ModelServer:
    server = ModelServer(ServerConfig(token=TOKEN, **config), engine)  # type: ignore[arg-type]
    await server.start()
    return server


def session_for(
    server: ModelServer, *, dialer: Callable[[ConnectOptions], Awaitable[Link]] = dial,
    **options: object,
) -> ModelSession:
    connect = ConnectOptions(url=server.url, api_key=TOKEN, connect_timeout=2.0)
    defaults: dict[str, object] = {"connect": connect, "model": "m", "stall_timeout_s": 2.0}
    defaults.update(options)
    return ModelSession(SessionOptions(**defaults), dialer=dialer)  # type: ignore[arg-type]


@pytest.fixture
async def engine() -> ScriptedEngine:
    return ScriptedEngine.reply("def add(a, b):\n    return a + b\n")


@pytest.fixture
async def server(engine: ScriptedEngine) -> AsyncIterator[ModelServer]:
    server = await serve(engine)
    yield server
    await server.close()


@pytest.fixture
async def session(server: ModelServer) -> AsyncIterator[ModelSession]:
    session = session_for(server)
    session.start()
    assert await session.wait_ready(5)
    yield session
    await session.close()


async def test_connects_eagerly_and_detects_lanes(
    session: ModelSession, server: ModelServer
) -> None:
    assert session.lanes is True
    assert session.stats.handshakes == 1
    assert await session.complete(request()) == "def add(a, b):\n    return a + b\n"
    assert server.stats.generate_requests == 1  # the lane probe does not generate


async def test_lane_less_server_gets_a_pool(engine: ScriptedEngine) -> None:
    server = await serve(engine, lanes=False)
    session = session_for(server, pool_size=2)
    session.start()
    try:
        assert await session.wait_ready(5)
        results = await asyncio.gather(*(session.complete(request()) for _ in range(4)))
        assert session.lanes is False
        assert all(r.startswith("def add") for r in results)
        assert all("stream_id" not in m for m in list(server.stats.received)[1:])
    finally:
        await session.close()
        await server.close()


async def test_lanes_run_in_parallel(engine: ScriptedEngine, session: ModelSession) -> None:
    engine.script = replace(engine.script, ttft_ms=400)
    started = time.monotonic()
    await asyncio.gather(*(session.complete(request()) for _ in range(3)))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0  # one after another would take at least 1.2 s


async def test_abandoned_response_never_leaks_into_the_next(
    engine: ScriptedEngine, session: ModelSession
) -> None:
    engine.script = Script(
        replies=(Reply(when="first", text="A" * 400),),
        default=Reply(text="second answer"),
        tokens_per_second=400,
    )
    async with session.stream(request("first")) as response:
        async for _ in response:
            break  # the consumer loses interest after one delta
    assert await session.complete(request("second")) == "second answer"


async def test_cancelled_consumer_does_not_block_the_next(
    engine: ScriptedEngine, session: ModelSession
) -> None:
    engine.script = Script(
        replies=(Reply(when="slow", text="x" * 200),),
        default=Reply(text="fast"),
        tokens_per_second=50,
    )
    task = asyncio.create_task(session.complete(request("slow")))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.wait_for(session.complete(request("quick")), 2) == "fast"


async def test_reconnects_after_a_drop(engine: ScriptedEngine, session: ModelSession) -> None:
    set_default_reply(engine, "abcdefgh " * 4, FaultSpec(drop_after_deltas=2, times=1))
    with pytest.raises(ModelUnavailable):
        await session.complete(request())
    assert await session.wait_ready(5)
    assert await session.complete(request()) == "abcdefgh " * 4
    assert session.stats.reconnects >= 1


async def test_stall_times_out_and_session_recovers(
    engine: ScriptedEngine, server: ModelServer
) -> None:
    session = session_for(server, stall_timeout_s=0.3)
    session.start()
    try:
        assert await session.wait_ready(5)
        stall = FaultSpec(stall_after_deltas=1, stall_s=3, times=1)
        set_default_reply(engine, "one two three", stall)
        with pytest.raises(ModelTimeout):
            await session.complete(request())
        set_default_reply(engine, "recovered")
        assert await session.complete(request()) == "recovered"
    finally:
        await session.close()


async def test_garbage_frame_fails_the_request_cleanly(
    engine: ScriptedEngine, session: ModelSession
) -> None:
    set_default_reply(engine, "one two three", FaultSpec(garbage_after_deltas=1, times=1))
    with pytest.raises(ProtocolError):
        await session.complete(request())
    set_default_reply(engine, "clean")
    assert await session.complete(request()) == "clean"


async def test_auth_failure_is_not_retried() -> None:
    engine = ScriptedEngine.reply("x", fault=FaultSpec(reject_upgrade=401))
    server = await serve(engine)
    session = session_for(server)
    session.start()
    try:
        assert not await session.wait_ready(1.5)
        assert session.status.state == "auth_failed"
        with pytest.raises(AuthError):
            await session.complete(request())
        assert server.stats.connections_total == 0
        assert "test-token" not in str(session.status.detail)
    finally:
        await session.close()
        await server.close()


async def test_rate_limit_backs_off(engine: ScriptedEngine, session: ModelSession) -> None:
    set_default_reply(engine,
        "later",
        FaultSpec(
            error=ErrorSpec(status=429, code="rate_limit_exceeded", retry_after_s=0.5), times=1
        ),
    )
    with pytest.raises(RateLimited) as first:
        await session.complete(request())
    assert first.value.retry_after == pytest.approx(0.5)
    assert session.status.state == "rate_limited"
    calls = engine  # the next request must fail fast without reaching the server
    received = len(session.stats.ttft_ms)
    with pytest.raises(RateLimited):
        await session.complete(request())
    assert len(session.stats.ttft_ms) == received and calls is engine
    await asyncio.sleep(0.6)
    assert await session.complete(request()) == "later"
    assert session.status.state == "ready"


async def slow_dial(options: ConnectOptions) -> Link:
    """A handshake that takes 0.3 s, as over a long network path: waiting on it would show."""
    await asyncio.sleep(0.3)
    return await dial(options)


async def test_rotation_under_continuous_completions_never_waits_on_a_handshake(
    server: ModelServer,
) -> None:
    session = session_for(server, rotate_after_s=0.9, spare_lead_s=0.3, dialer=slow_dial)
    session.start()
    try:
        assert await session.wait_ready(5)
        deadline = time.monotonic() + 8
        while session.stats.rotations < 2 and time.monotonic() < deadline:
            assert (await session.complete(request())).startswith("def add")
        assert session.stats.rotations >= 2
        assert session.stats.waits_for_link == 0  # every request found a serving link
        assert session.stats.reconnects == 0 and session.stats.retries == 0
        assert server.stats.connections_total == 1 + session.stats.rotations
    finally:
        await session.close()


async def test_a_lane_less_pool_that_ages_together_rotates_one_link_at_a_time(
    engine: ScriptedEngine,
) -> None:
    server = await serve(engine, lanes=False)
    session = session_for(server, pool_size=2, rotate_after_s=0.9, spare_lead_s=0.3,
                          dialer=slow_dial)  # fmt: skip
    session.start()
    try:
        assert await session.wait_ready(5)
        assert await eventually(lambda: session.open_connections == 2)
        deadline = time.monotonic() + 8
        while session.stats.rotations < 2 and time.monotonic() < deadline:
            results = await asyncio.gather(session.complete(request()), session.complete(request()))
            assert all(r.startswith("def add") for r in results)
            assert session.open_connections >= 2  # never fewer links than the pool wants
        assert session.stats.rotations >= 2
        assert session.stats.waits_for_link == 0 and session.stats.reconnects == 0
    finally:
        await session.close()
        await server.close()


async def test_rotation_lets_a_running_response_finish_on_the_old_link(
    engine: ScriptedEngine, server: ModelServer
) -> None:
    engine.script = Script(
        replies=(Reply(when="long", text="abcd " * 25),), default=Reply(text="ok"),
        tokens_per_second=100,
    )  # fmt: skip
    session = session_for(server, rotate_after_s=1.0, spare_lead_s=0.7)
    session.start()
    try:
        assert await session.wait_ready(5)
        open_during_rotation = None
        pieces = []
        async with session.stream(request("long")) as response:
            async for delta in response:
                pieces.append(delta)
                if session.stats.rotations and open_during_rotation is None:
                    open_during_rotation = session.open_connections
                    assert await session.complete(request()) == "ok"  # runs on the spare
        assert "".join(pieces) == "abcd " * 25
        assert open_during_rotation == 2  # the old link retires, it is not cut
        assert await eventually(lambda: server.stats.connections_open == 1)
    finally:
        await session.close()


STABLE = "STABLE PART OF THE PROMPT " * 40


async def chained_completion(session: ModelSession, anchor: str) -> tuple[bool, int]:
    """One chained request; whether it went chained, and its bytes on the wire."""
    chained = request("volatile", previous_response_id=anchor)
    async with session.stream(chained, full_input=(STABLE, "volatile")) as response:
        assert await response.text()
    return response.chained, response.bytes_sent


async def test_chaining_resumes_after_a_rotation_and_after_a_drop(
    engine: ScriptedEngine, server: ModelServer
) -> None:
    engine.script = Script(default=Reply(text="x = 1 + 2 + 3"), tokens_per_second=200)
    session = session_for(server, rotate_after_s=1.0, spare_lead_s=0.5)
    session.start()
    try:
        assert await session.wait_ready(5)
        anchor = await session.warm(request(STABLE))
        went_chained, chained_bytes = await chained_completion(session, anchor)
        assert went_chained and chained_bytes < len(STABLE) / 2
        while session.stats.rotations == 0:
            await chained_completion(session, anchor)
        after_rotation = [await chained_completion(session, anchor) for _ in range(2)]
        assert after_rotation[1] == (True, chained_bytes)

        set_default_reply(engine, "x = 1 + 2 + 3", FaultSpec(drop_after_deltas=1, times=1))
        with pytest.raises(ModelUnavailable):
            await chained_completion(session, anchor)
        after_drop = [await chained_completion(session, anchor) for _ in range(2)]
        assert after_drop[1] == (True, chained_bytes)
        assert session.stats.rewarms >= 1
    finally:
        await session.close()


async def test_server_age_limit_is_survived(engine: ScriptedEngine) -> None:
    server = await serve(engine, max_age_s=0.5)
    session = session_for(server)
    session.start()
    try:
        assert await session.wait_ready(5)
        await asyncio.sleep(0.8)
        assert await session.wait_ready(5)
        assert (await session.complete(request())).startswith("def add")
    finally:
        await session.close()
        await server.close()


async def test_chaining_and_previous_response_not_found_fallback(
    session: ModelSession, server: ModelServer
) -> None:
    anchor = await session.warm(request("STABLE PART " * 50))
    chained = request("volatile", previous_response_id=anchor)
    full = ("STABLE PART " * 50, "volatile")
    async with session.stream(chained, full_input=full) as response:
        text = "".join([delta async for delta in response])
    assert text.startswith("def add") and response.chained
    last = list(server.stats.received)[-1]
    assert last["previous_response_id"] == anchor and len(last["input"]) == 1
    for _ in range(4):  # every anchor lane is reused: the server forgets the first anchor
        await session.warm(request("other"))
    async with session.stream(chained, full_input=full) as response:
        assert ("".join([delta async for delta in response])).startswith("def add")
    assert session.stats.chain_misses == 1
    resent = list(server.stats.received)[-1]
    assert "previous_response_id" not in resent and len(resent["input"]) == 2


async def test_abandon_on_a_lane_less_pool(engine: ScriptedEngine) -> None:
    engine.script = Script(
        replies=(Reply(when="first", text="A" * 400),),
        default=Reply(text="second answer"),
        tokens_per_second=400,
    )
    server = await serve(engine, lanes=False)
    session = session_for(server, pool_size=1)
    session.start()
    try:
        assert await session.wait_ready(5)
        for _ in range(3):
            async with session.stream(request("first")) as response:
                async for _ in response:
                    break
            assert await session.complete(request("second")) == "second answer"
    finally:
        await session.close()
        await server.close()


async def test_close_finishes_when_a_cancellation_is_swallowed(server: ModelServer) -> None:
    """Python 3.11's ``wait_for`` loses a cancel that lands as its inner await completes.

    The lost cancel left the maintainer running and ``close`` (so LSP ``shutdown``) waiting for
    it for ever: the JetBrains client test's server was killed after shutdown + exit.
    """
    swallowed = asyncio.Event()
    dials = 0

    async def dial_swallowing_one_cancel(options: ConnectOptions) -> Link:
        nonlocal dials
        dials += 1
        link = await dial(options)
        if dials == 2:  # the pool's second link: close() lands while it is being dialled
            try:
                await asyncio.sleep(0.5)
            except asyncio.CancelledError:
                swallowed.set()
        return link

    session = session_for(server, lanes=False, pool_size=2, dialer=dial_swallowing_one_cancel)
    session.start()
    assert await session.wait_ready(5)
    await asyncio.sleep(0.05)  # the second dial is under way
    closing = asyncio.create_task(session.close())
    done, _ = await asyncio.wait([closing], timeout=5)
    assert closing in done, "close() is still waiting for the maintainer"
    assert swallowed.is_set()
    assert await eventually(lambda: session.open_connections == 0)
    assert session.status.state == "closed"


async def test_lone_surrogate_keeps_the_connection(session: ModelSession) -> None:
    """A lone surrogate in a document used to fail the send and tear the connection down."""
    for _ in range(3):
        assert await session.complete(request("def f():\ud800\n")) != ""
    assert session.stats.handshakes == 1
    assert session.stats.reconnects == 0


async def eventually(check: object, timeout: float = 3.0) -> bool:
    """Poll ``check()`` until true (socket teardown is asynchronous on the server side)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_a_probe_answered_with_429_closes_its_socket_and_keeps_retry_after() -> None:
    opened: list[ServerConnection] = []
    finished: list[ServerConnection] = []

    async def rate_limit_everything(ws: ServerConnection) -> None:
        opened.append(ws)
        try:
            async for raw in ws:
                lane = json.loads(raw).get("stream_id")
                error = {"code": "rate_limit_exceeded", "message": "slow down"}
                error["headers"] = {"retry-after": "30"}  # type: ignore[assignment]
                await ws.send(json.dumps({"type": "error", "status": 429, "error": error,
                                          "stream_id": lane}))
        finally:
            finished.append(ws)

    async with ws_serve(rate_limit_everything, "127.0.0.1", 0) as listener:
        port = listener.sockets[0].getsockname()[1]
        connect = ConnectOptions(url=f"ws://127.0.0.1:{port}/v1/responses", connect_timeout=2.0)
        session = ModelSession(SessionOptions(connect=connect, model="m", stall_timeout_s=2.0))
        session.start()
        try:
            assert not await session.wait_ready(1.0)
            assert opened and await eventually(lambda: len(finished) == len(opened))
            with pytest.raises(RateLimited) as limited:
                await session.complete(request())
            assert limited.value.retry_after is not None and limited.value.retry_after > 20
            assert len(opened) == 1  # the 30 s cool-down holds off the redial
        finally:
            await session.close()


async def test_a_model_the_key_cannot_use_says_which_setting_to_change(
    engine: ScriptedEngine,
) -> None:
    server = await serve(engine, models=frozenset({"gpt-other"}))
    session = session_for(server, model="gpt-x")
    session.start()
    try:
        assert not await session.wait_ready(2)
        expected = "model 'gpt-x' is not available to this key: set spark.model.name"
        assert session.status.state == "auth_failed"
        assert str(session.status.detail).startswith(expected)
        with pytest.raises(ModelNotAvailable, match="set spark.model.name"):
            await session.complete(request())
        assert server.stats.connections_total == 1  # no retry loop against a refusing key
        assert await eventually(lambda: server.stats.connections_open == 0)
    finally:
        await session.close()
        await server.close()
