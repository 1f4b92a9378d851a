"""A small asyncio HTTP/1.1 client: POST, streamed responses, keep-alive, CONNECT proxies.

The framing (status line, headers, ``Content-Length``, chunked encoding, keep-alive rules) is
``h11``'s: a pure-Python, dependency-free, sans-I/O parser that the wider ecosystem relies on.
A peer that breaks framing (a text or negative ``Content-Length``, a bad chunk size, EOF inside
a chunk) is an ``HttpFramingError`` at once, never a hang or a stray exception. What stays ours
is the I/O around it: the pool of kept-alive sockets, TLS with the same context and proxy rules
as the WebSocket dial, and ``CONNECT`` tunnels. Why not httpx: it would add httpcore, anyio,
certifi, idna and sniffio to every install for HTTP/2 that the servers this path exists for
(vLLM, Ollama, llama.cpp, LM Studio) do not speak. This module is imported only when an HTTP
transport is in use.

Nothing here buffers without a bound: headers are capped by h11, a body is streamed as it
arrives (a huge chunk size is read piece by piece), and ``read`` takes a limit.

Cancelling a streamed response closes its socket (HTTP/1.1 has no other way to stop a body);
a fully read one goes back to the pool, so the next request skips TCP and TLS handshakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import h11

from spark_lsp.model.limits import MAX_HEADER_BYTES
from spark_lsp.model.netconfig import Proxy

STREAM_LIMIT = 1 << 20
#: Bytes asked of the socket per read.
READ_SIZE = 65536


class HttpError(OSError):
    """The socket failed mid-exchange, or the peer broke HTTP/1.1."""


class HttpFramingError(HttpError):
    """The peer's bytes are not valid HTTP/1.1 (headers, lengths, chunks)."""


class HttpDropped(HttpError):
    """The peer closed the socket in the middle of a response."""


class _Closed(HttpError):
    """The peer closed the socket before answering (a stale kept-alive socket, typically)."""


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme, host and port (the pool key)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of an ``http://`` or ``https://`` URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port)

    @property
    def authority(self) -> str:
        """``host:port`` as used in ``Host`` and ``CONNECT`` (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(eq=False)
class _Conn:
    """One socket and the h11 state machine of its current exchange."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    h11: h11.Connection = field(
        default_factory=lambda: h11.Connection(
            h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES
        )
    )

    def close(self) -> None:
        self.writer.close()

    @property
    def broken(self) -> bool:
        return self.writer.is_closing() or self.reader.at_eof()

    async def send(self, *events: Any) -> None:
        data = b"".join(self.h11.send(event) or b"" for event in events)
        self.writer.write(data)
        await self.writer.drain()

    async def next_event(self) -> Any:
        """The peer's next HTTP event, reading the socket as h11 needs more bytes."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self.reader.at_eof():
                    raise HttpDropped("the server closed the connection mid-response") from None
                raise HttpFramingError(f"the server broke HTTP/1.1 framing: {exc}") from None
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self.reader.read(READ_SIZE))
                continue
            if event is h11.PAUSED:
                raise HttpFramingError("the server sent bytes after its response")
            return event


@dataclass
class HttpResponse:
    """A response whose body is read as it arrives."""

    status: int
    headers: dict[str, str]
    _conn: _Conn
    _client: HttpClient
    _done: bool = False

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body, piece by piece as the server sends it (never more than one read's worth)."""
        while not self._done:
            event = await self._conn.next_event()
            if isinstance(event, h11.Data):
                if event.data:
                    yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._done = True
                self._client.release(self._conn)
            else:  # ConnectionClosed before the body's end
                raise HttpDropped("the server closed the connection mid-response")

    async def read(self, limit: int) -> bytes:
        """The body's first ``limit`` bytes; the rest is not read (the socket is closed)."""
        parts: list[bytes] = []
        size = 0
        async with contextlib.aclosing(self.chunks()) as chunks:
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size >= limit:
                    self.close()
                    break
        return b"".join(parts)[:limit]

    def close(self) -> None:
        """Stop reading: the socket is closed (the only way to stop an HTTP/1.1 body)."""
        if not self._done:
            self._done = True
            self._client.discard(self._conn)


class HttpClient:
    """Keep-alive sockets to one origin, optionally through an HTTP proxy."""

    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None,
        proxy: Proxy | None,
        connect_timeout: float,
    ) -> None:
        self.origin = Origin.of(base_url)
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self.ssl_context = ssl_context if self.origin.scheme == "https" else None
        self.proxy = proxy
        self.connect_timeout = connect_timeout
        self._idle: list[_Conn] = []
        self._open: set[_Conn] = set()

    @property
    def open_sockets(self) -> int:
        """Sockets currently open (idle or carrying a response)."""
        return sum(not conn.writer.is_closing() for conn in self._open)

    async def warm(self) -> None:
        """Open one socket ahead of the first request (TCP, proxy tunnel, TLS)."""
        self._idle.append(await self._connect())

    def wire_size(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """Bytes a ``post`` puts on the wire (head and body), for per-request accounting."""
        probe = h11.Connection(h11.CLIENT)
        return len(probe.send(self._request(path, headers, body)) or b"") + len(body)

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> HttpResponse:
        """Send a POST and return once the response's status and headers have arrived.

        A kept-alive socket the server closed meanwhile is retried once on a new socket;
        a framing error is not (the server answered, wrongly).
        """
        request = self._request(path, headers, body)
        pooled = self._take()
        if pooled is not None:
            try:
                return await self._exchange(pooled, request, body)
            except HttpFramingError:
                raise
            except (OSError, h11.LocalProtocolError):
                pass  # the server closed the idle socket: try a fresh one
        conn = await self._connect()
        try:
            return await self._exchange(conn, request, body)
        except HttpFramingError:
            raise
        except (OSError, h11.LocalProtocolError) as exc:
            raise HttpError(str(exc) or type(exc).__name__) from None

    async def _exchange(self, conn: _Conn, request: h11.Request, body: bytes) -> HttpResponse:
        try:
            await conn.send(request, h11.Data(data=body), h11.EndOfMessage())
            status, headers = await read_head(conn)
        except BaseException:
            self.discard(conn)
            raise
        return HttpResponse(status, headers, conn, self)

    def release(self, conn: _Conn) -> None:
        """A response was read to its end: keep its socket for the next request if allowed."""
        reusable = conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE
        if reusable and not conn.broken:
            conn.h11.start_next_cycle()
            self._idle.append(conn)
        else:
            self.discard(conn)

    def discard(self, conn: _Conn) -> None:
        """Close a socket for good."""
        conn.close()
        self._open.discard(conn)

    async def aclose(self) -> None:
        """Close every socket."""
        for conn in self._open:
            conn.close()
        self._open.clear()
        self._idle.clear()

    def _take(self) -> _Conn | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.broken:
                return conn
            self._open.discard(conn)
        return None

    def _request(self, path: str, headers: dict[str, str], body: bytes) -> h11.Request:
        target = self.base_path + path
        if self.proxy is not None and self.origin.scheme == "http":
            target = f"http://{self.origin.authority}{target}"  # absolute form via a proxy
            headers = {**headers, **self.proxy.auth_header()}
        fields = [("Host", self.origin.authority), *headers.items()]
        fields.append(("Content-Length", str(len(body))))
        return h11.Request(method="POST", target=target, headers=fields)

    async def _connect(self) -> _Conn:
        try:
            conn = await asyncio.wait_for(self._dial(), self.connect_timeout)
        except TimeoutError:
            raise HttpError("timed out") from None
        self._open.add(conn)
        return conn

    async def _dial(self) -> _Conn:
        origin = self.origin
        if self.proxy is None:
            reader, writer = await asyncio.open_connection(
                origin.host, origin.port, ssl=self.ssl_context, limit=STREAM_LIMIT
            )
            return _Conn(reader, writer)
        reader, writer = await asyncio.open_connection(
            self.proxy.host, self.proxy.port, limit=STREAM_LIMIT
        )
        if origin.scheme == "https":
            await tunnel(reader, writer, origin.authority, self.proxy)
            await writer.start_tls(self.ssl_context or ssl.create_default_context(),
                                   server_hostname=origin.host)  # fmt: skip
        return _Conn(reader, writer)


async def read_head(conn: _Conn) -> tuple[int, dict[str, str]]:
    """Read a final status line and headers (lower-cased names), skipping 1xx answers."""
    while True:
        event = await conn.next_event()
        if isinstance(event, h11.Response):
            headers = {
                name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers
            }
            return event.status_code, headers
        if isinstance(event, h11.ConnectionClosed):
            raise _Closed("the server closed the connection before answering")
        if not isinstance(event, h11.InformationalResponse):
            raise HttpFramingError(f"unexpected {type(event).__name__} before the response")


async def tunnel(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str, proxy: Proxy
) -> None:
    """Ask an HTTP proxy for a ``CONNECT`` tunnel to ``authority``."""
    conn = _Conn(reader, writer)
    fields = [("Host", authority), *proxy.auth_header().items()]
    await conn.send(
        h11.Request(method="CONNECT", target=authority, headers=fields), h11.EndOfMessage()
    )
    status, _ = await read_head(conn)
    if status != 200:
        writer.close()
        raise HttpError(f"the proxy {proxy.host}:{proxy.port} refused the tunnel (HTTP {status})")
    if conn.h11.trailing_data[0]:
        writer.close()
        raise HttpFramingError("the proxy sent bytes before the tunnel was used")
