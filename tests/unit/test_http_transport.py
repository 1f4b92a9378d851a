"""HTTP streaming: Responses and Chat Completions over SSE, on the bundled server's HTTP port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from benchmarks.common import set_default_reply
from spark_lsp.errors import AuthError, ModelNotAvailable, ModelUnavailable, RateLimited
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
from tests.unit.test_session import eventually

TOKEN = "test-token"
ANSWER = "def add(a, b):\n    return a + b\n"


def request(text: str = "hello") -> CreateRequest:
    return CreateRequest(
        input_texts=(text,), model="m", instructions="complete", max_output_tokens=64
    )


@pytest.fixture
async def engine() -> ScriptedEngine:
    return ScriptedEngine.reply(ANSWER)


@pytest.fixture
async def server(engine: ScriptedEngine) -> AsyncIterator[ModelServer]:
    server = ModelServer(ServerConfig(token=TOKEN, http_port=0), engine)
    await server.start()
    yield server
    await server.close()


async def open_session(url: str, model: str = "m", **connect: object) -> ModelSession:
    options = ConnectOptions(url=url, api_key=TOKEN, connect_timeout=2.0, **connect)  # type: ignore[arg-type]
    session = ModelSession(SessionOptions(connect=options, model=model, stall_timeout_s=2.0))
    session.start()
    assert await session.wait_ready(5), session.status
    return session


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_completions_stream_over_kept_alive_http(server: ModelServer, api: str) -> None:
    session = await open_session(server.http_url, transport="http", api=api)
    try:
        for _ in range(3):
            assert await session.complete(request()) == ANSWER
        assert (session.transport, session.api) == ("http", api)
        assert not session.can_chain
        assert server.stats.http_connections_total == 1  # one socket, kept alive
        assert server.stats.connections_total == 0  # no WebSocket was ever opened
        sent = list(server.stats.received)[-1]
        assert sent["instructions"] == "complete" and sent["model"] == "m"
    finally:
        await session.close()


async def test_parallel_requests_each_get_their_own_stream(
    engine: ScriptedEngine, server: ModelServer
) -> None:
    engine.script = Script(
        replies=(Reply(when="one", text="first answer"), Reply(when="two", text="second")),
        tokens_per_second=200,
    )
    session = await open_session(server.http_url, transport="http")
    try:
        one, two = await asyncio.gather(
            session.complete(request("one")), session.complete(request("two"))
        )
        assert (one, two) == ("first answer", "second")
    finally:
        await session.close()


async def test_a_426_endpoint_falls_back_to_http_and_stays_there(server: ModelServer) -> None:
    session = await open_session(server.http_url.replace("http://", "ws://") + "/responses")
    try:
        assert await session.complete(request()) == ANSWER
        assert session.transport == "http"
        assert server.stats.connections_total == 0
        await session.close()
        session = await open_session(server.http_url, transport="auto", api="chat")
        assert await session.complete(request()) == ANSWER and session.api == "chat"
    finally:
        await session.close()


async def test_cancelling_a_response_closes_its_stream(
    engine: ScriptedEngine, server: ModelServer
) -> None:
    engine.script = Script(
        replies=(Reply(when="slow", text="x " * 60),), default=Reply(text="fast"),
        tokens_per_second=40,
    )  # fmt: skip
    session = await open_session(server.http_url, transport="http")
    try:
        async with session.stream(request("slow")) as response:
            async for _ in response:
                break
        # The abandoned response's socket is closed, so the server stops generating it.
        assert await eventually(lambda: server.stats.http_connections_open == 0)
        assert await asyncio.wait_for(session.complete(request("quick")), 2) == "fast"
    finally:
        await session.close()


async def test_http_errors_keep_their_meaning(engine: ScriptedEngine) -> None:
    server = ModelServer(
        ServerConfig(token=TOKEN, http_port=0, models=frozenset({"m"})), engine
    )
    await server.start()
    try:
        set_default_reply(engine, "later", FaultSpec(error=ErrorSpec(
            status=429, code="rate_limit_exceeded", retry_after_s=3), times=1))  # fmt: skip
        session = await open_session(server.http_url, transport="http")
        with pytest.raises(RateLimited) as limited:
            await session.complete(request())
        assert limited.value.retry_after == 3
        await session.close()

        session = await open_session(server.http_url, "m2", transport="http", api="chat")
        with pytest.raises(ModelNotAvailable, match="'m2' is not available.*spark.model.name"):
            await session.complete(CreateRequest(input_texts=("x",), model="m2"))
        await session.close()

        options = ConnectOptions(url=server.http_url, api_key="wrong", transport="http")
        session = ModelSession(SessionOptions(connect=options, model="m"))
        session.start()
        assert await session.wait_ready(5)
        with pytest.raises(AuthError):
            await session.complete(request())
        assert session.status.state == "auth_failed"
        await session.close()
    finally:
        await server.close()


async def test_a_drop_mid_stream_fails_that_request_only(
    engine: ScriptedEngine, server: ModelServer
) -> None:
    session = await open_session(server.http_url, transport="http", api="chat")
    try:
        set_default_reply(engine, "abcdefgh " * 4, FaultSpec(drop_after_deltas=2, times=1))
        with pytest.raises(ModelUnavailable):
            await session.complete(request())
        assert await session.wait_ready(5)
        assert await session.complete(request()) == "abcdefgh " * 4
    finally:
        await session.close()
