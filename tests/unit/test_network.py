"""Corporate networks: an HTTP CONNECT proxy started by the test, and a self-signed server.

Both transports (WebSocket mode and HTTP streaming) must tunnel through the proxy and trust
exactly what they are told to: the system store (``SSL_CERT_FILE``) plus ``spark.model.caFile``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.common import self_signed_cert
from spark_lsp.commands.doctor import run_doctor
from spark_lsp.errors import ConfigError
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.netconfig import Proxy, proxy_for
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.model.session import ModelSession, SessionOptions
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig

TOKEN = "net-token"
ANSWER = "return a * b"
REQUEST = CreateRequest(input_texts=("def mul(a, b):",), model="m", max_output_tokens=32)


@dataclass
class ConnectProxy:
    """A real HTTP proxy that only tunnels (``CONNECT``), recording what it was asked."""

    tunnels: list[str] = field(default_factory=list)
    credentials: list[str | None] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        self.credentials.append(headers.get("Proxy-Authorization"))
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[ConnectProxy]:
    proxy = ConnectProxy()
    proxy.server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    yield proxy
    proxy.server.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_server(certificate: tuple[str, str]) -> AsyncIterator[ModelServer]:
    cert, key = certificate
    config = ServerConfig(token=TOKEN, http_port=0, tls_cert=cert, tls_key=key)
    async with ModelServer(config, ScriptedEngine.reply(ANSWER)) as server:
        yield server


async def complete_through(options: ConnectOptions) -> ModelSession:
    session = ModelSession(SessionOptions(connect=options, model="m", stall_timeout_s=3.0))
    session.start()
    try:
        assert await session.wait_ready(5), session.status
        assert await session.complete(REQUEST) == ANSWER
    finally:
        await session.close()
    return session


@pytest.mark.parametrize(
    ("transport", "api"), [("websocket", "responses"), ("http", "responses"), ("http", "chat")]
)
async def test_both_transports_tunnel_through_a_proxy_and_trust_a_custom_ca(
    tls_server: ModelServer,
    proxy: ConnectProxy,
    certificate: tuple[str, str],
    transport: str,
    api: str,
) -> None:
    url = tls_server.url if transport == "websocket" else tls_server.http_url
    user_proxy = proxy.url.replace("http://", "http://dev:s3cret@")
    options = ConnectOptions(
        url=url, api_key=TOKEN, transport=transport, api=api,  # type: ignore[arg-type]
        proxy=Proxy.parse(user_proxy), ca_file=certificate[0],
    )  # fmt: skip
    session = await complete_through(options)
    assert session.transport == transport
    port = url.split(":")[2].split("/")[0]
    assert proxy.tunnels == [f"127.0.0.1:{port}"] * len(proxy.tunnels) and proxy.tunnels
    expected = "Basic " + base64.b64encode(b"dev:s3cret").decode()
    assert set(proxy.credentials) == {expected}


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_an_untrusted_certificate_is_refused_with_a_clear_reason(
    tls_server: ModelServer, transport: str
) -> None:
    url = tls_server.url if transport == "websocket" else tls_server.http_url
    options = ConnectOptions(url=url, api_key=TOKEN, transport=transport)  # type: ignore[arg-type]
    session = ModelSession(SessionOptions(connect=options, model="m"))
    session.start()
    try:
        assert not await session.wait_ready(3)
        assert "certificate verify failed" in str(session.status.detail).lower()
    finally:
        await session.close()


async def test_doctor_uses_https_proxy_and_ssl_cert_file_from_the_environment(
    tls_server: ModelServer,
    proxy: ConnectProxy,
    certificate: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # read by OpenSSL itself
    lines: list[str] = []
    env = {"OPENAI_API_KEY": TOKEN, "SPARK_LSP_ENDPOINT": tls_server.url, "HTTPS_PROXY": proxy.url}
    assert await run_doctor(lines.append, env=env) == 0, lines
    assert proxy.tunnels


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("wss://api.example.com/v1/responses", {"HTTPS_PROXY": "http://p:1"}, "p:1"),
        ("https://api.example.com/v1", {"https_proxy": "p:2"}, "p:2"),
        ("ws://10.0.0.5:8000/v1/responses", {"HTTP_PROXY": "http://p:3", "HTTPS_PROXY": "x:9"},
         "p:3"),
        ("wss://api.example.com/v1/responses", {"ALL_PROXY": "http://p:4"}, "p:4"),
        ("wss://api.example.com/v1", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example.com"},
         None),
        ("http://10.0.0.5:8000/v1", {"HTTP_PROXY": "http://p:1", "no_proxy": "10.0.0.0/8"}, None),
        ("https://localhost:8000/v1", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ("wss://api.example.com/v1", {}, None),
    ],
)  # fmt: skip
def test_the_proxy_follows_the_usual_environment_rules(
    url: str, env: dict[str, str], expected: str | None
) -> None:
    proxy = proxy_for(url, None, env)
    assert (None if proxy is None else f"{proxy.host}:{proxy.port}") == expected


def test_the_setting_wins_and_credentials_stay_out_of_logs() -> None:
    proxy = proxy_for("wss://a.b/v1", "http://me:pw@corp:3128", {"HTTPS_PROXY": "http://p:1"})
    assert proxy is not None and (proxy.host, proxy.port) == ("corp", 3128)
    assert "pw" not in repr(proxy)
    with pytest.raises(ConfigError, match="only http:// proxies"):
        proxy_for("wss://a.b/v1", "socks5://corp:1080", {})


def test_a_missing_ca_file_is_a_clear_setting_error(tmp_path: Path) -> None:
    from spark_lsp.model.netconfig import client_ssl_context

    with pytest.raises(ConfigError, match="spark.model.caFile"):
        client_ssl_context(str(tmp_path / "missing.pem"))
