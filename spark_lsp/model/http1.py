"""A small asyncio HTTP/1.1 client: POST, streamed responses, keep-alive, CONNECT proxies.

Why our own and not httpx: the HTTP transport needs one verb, a streamed body (chunked or with
a length), a pool of kept-alive sockets and tunnelling through a proxy — about 200 lines on
asyncio streams, with the same TLS context and proxy rules as the WebSocket dial. httpx would
add httpcore, h11, anyio, certifi, idna and sniffio to every install and to start-up of the
path that needs it, for HTTP/2 that the servers this path exists for (vLLM, Ollama, llama.cpp,
LM Studio) do not speak. This module is imported only when an HTTP transport is in use.

Cancelling a streamed response closes its socket (HTTP/1.1 has no other way to stop a body);
a fully read one goes back to the pool, so the next request skips TCP and TLS handshakes.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from spark_lsp.model.netconfig import Proxy

#: Refuse header blocks and chunk-size lines beyond this (a broken or hostile peer).
MAX_HEADER_BYTES = 64 * 1024
STREAM_LIMIT = 1 << 20


class HttpError(OSError):
    """The peer broke HTTP/1.1 framing, or the socket failed mid-exchange."""


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


@dataclass
class HttpResponse:
    """A response whose body is read as it arrives."""

    status: int
    headers: dict[str, str]
    _conn: _Conn
    _client: HttpClient
    _remaining: int | None = None
    _chunked: bool = False
    _done: bool = False
    _chunk_left: int = 0
    _buffer: bytes = field(default=b"", repr=False)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, piece by piece as the server flushes it."""
        reader = self._conn.reader
        while not self._done:
            if self._chunked:
                data = await self._next_chunk(reader)
            elif self._remaining is None:  # until the server closes
                data = await reader.read(65536)
                self._done = not data
            else:
                data = await reader.read(min(65536, self._remaining)) if self._remaining else b""
                self._remaining -= len(data)
                self._done = self._remaining <= 0
                if not data and not self._done:
                    raise HttpError("the server closed the connection mid-body")
            if data:
                yield data
        self._client.release(self._conn, reusable=self._remaining is not None or self._chunked)

    async def read(self) -> bytes:
        """The whole body."""
        return b"".join([chunk async for chunk in self.chunks()])

    async def _next_chunk(self, reader: asyncio.StreamReader) -> bytes:
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise HttpError("bad chunk size in the response") from None
        if size == 0:
            while (await reader.readline()).strip():  # trailers
                pass
            self._done = True
            return b""
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        return data

    def close(self) -> None:
        """Stop reading: the socket is closed (the only way to stop an HTTP/1.1 body)."""
        if not self._done:
            self._done = True
            self._conn.close()


@dataclass(eq=False)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()

    @property
    def broken(self) -> bool:
        return self.writer.is_closing() or self.reader.at_eof()


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
        return len(self._post_head(path, headers, body)) + len(body)

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> HttpResponse:
        """Send a POST and return once the response's status and headers have arrived."""
        head = self._post_head(path, headers, body)
        for attempt in range(2):
            conn = self._take() if attempt == 0 else await self._connect()
            if conn is None:
                conn = await self._connect()
            try:
                conn.writer.write(head + body)
                await conn.writer.drain()
                return await self._response(conn)
            except (OSError, asyncio.IncompleteReadError) as exc:
                conn.close()
                self._open.discard(conn)
                if attempt == 1:
                    raise HttpError(str(exc) or type(exc).__name__) from None
        raise AssertionError("unreachable")

    def release(self, conn: _Conn, *, reusable: bool) -> None:
        """A response was read to its end: keep its socket for the next request."""
        if reusable and not conn.broken:
            self._idle.append(conn)
        else:
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

    def _post_head(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        return self._head("POST", path, {**headers, "Content-Length": str(len(body))})

    def _head(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        target = self.base_path + path
        if self.proxy is not None and self.origin.scheme == "http":
            target = f"http://{self.origin.authority}{target}"  # absolute form via a proxy
            headers = {**headers, **self.proxy.auth_header()}
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.origin.authority}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

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
        conn = _Conn(reader, writer)
        if origin.scheme == "https":
            await tunnel(conn.reader, conn.writer, origin.authority, self.proxy)
            await writer.start_tls(self.ssl_context or ssl.create_default_context(),
                                   server_hostname=origin.host)  # fmt: skip
        return conn

    async def _response(self, conn: _Conn) -> HttpResponse:
        status, headers = await read_head(conn.reader)
        response = HttpResponse(status, headers, conn, self)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            response._chunked = True
        elif "content-length" in headers:
            response._remaining = int(headers["content-length"])
            response._done = response._remaining == 0
        if response._done:
            self.release(conn, reusable=True)
        return response


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """Read a status line and headers (lower-cased names)."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HttpError("the response headers are too large") from None
    except asyncio.IncompleteReadError:
        raise HttpError("the server closed the connection before answering") from None
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP/1.1 response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def tunnel(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str, proxy: Proxy
) -> None:
    """Ask an HTTP proxy for a ``CONNECT`` tunnel to ``authority``."""
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in proxy.auth_header().items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    status, _ = await read_head(reader)
    if status != 200:
        writer.close()
        raise HttpError(f"the proxy {proxy.host}:{proxy.port} refused the tunnel (HTTP {status})")
