"""The persistent session against the real bundled model server (scripted engine) on port 0."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from spark_lsp.errors import AuthError, ModelTimeout, ModelUnavailable, ProtocolError, RateLimited
from spark_lsp.model.connection import ConnectOptions
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


def session_for(server: ModelServer, **options: object) -> ModelSession:
    connect = ConnectOptions(url=server.url, api_key=TOKEN, connect_timeout=2.0)
    defaults: dict[str, object] = {"connect": connect, "model": "m", "stall_timeout_s": 2.0}
    defaults.update(options)
    return ModelSession(SessionOptions(**defaults))  # type: ignore[arg-type]


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
    engine.with_default("abcdefgh " * 4, FaultSpec(drop_after_deltas=2, times=1))
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
        engine.with_default("one two three", FaultSpec(stall_after_deltas=1, stall_s=3, times=1))
        with pytest.raises(ModelTimeout):
            await session.complete(request())
        engine.with_default("recovered")
        assert await session.complete(request()) == "recovered"
    finally:
        await session.close()


async def test_garbage_frame_fails_the_request_cleanly(
    engine: ScriptedEngine, session: ModelSession
) -> None:
    engine.with_default("one two three", FaultSpec(garbage_after_deltas=1, times=1))
    with pytest.raises(ProtocolError):
        await session.complete(request())
    engine.with_default("clean")
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
    engine.with_default(
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


async def test_rotation_dials_a_spare_before_the_limit(server: ModelServer) -> None:
    session = session_for(server, rotate_after_s=1.2, spare_lead_s=0.6)
    session.start()
    try:
        assert await session.wait_ready(5)
        deadline = time.monotonic() + 4
        while session.stats.handshakes < 2 and time.monotonic() < deadline:
            assert await session.complete(request())  # requests keep flowing meanwhile
            await asyncio.sleep(0.05)
        assert session.stats.handshakes >= 2
        assert session.stats.reconnects == 0 or session.stats.handshakes >= 2
        assert await session.complete(request())
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
    session = session_for(server)
    swallowed = asyncio.Event()
    dial = session._dial_one

    async def dial_swallowing_one_cancel(*, reconnect: bool) -> bool:
        dialled = await dial(reconnect=reconnect)
        try:
            await asyncio.sleep(0.5)  # the probe's wait_for, finishing as the cancel lands
        except asyncio.CancelledError:
            swallowed.set()
        return dialled

    session._dial_one = dial_swallowing_one_cancel  # type: ignore[method-assign]
    session.start()
    assert await session.wait_ready(5)
    closing = asyncio.create_task(session.close())
    done, _ = await asyncio.wait([closing], timeout=5)
    assert closing in done, "close() is still waiting for the maintainer"
    assert swallowed.is_set()
    assert session.open_connections == 0
    assert session.status.state == "closed"


async def test_lone_surrogate_keeps_the_connection(session: ModelSession) -> None:
    """A lone surrogate in a document used to fail the send and tear the connection down."""
    for _ in range(3):
        assert await session.complete(request("def f():\ud800\n")) != ""
    assert session.stats.handshakes == 1
    assert session.stats.reconnects == 0
