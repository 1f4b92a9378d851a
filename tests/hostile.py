"""Loopback model endpoints that send exactly the bytes a test gives them.

The bundled model server always answers well; these do not. ``RawHttpServer`` is a plain asyncio
socket server: it reads each request (head and ``Content-Length`` body) and writes whatever the
test's script yields — broken framing, endless lines, recorded event streams cut into 7-byte
pieces. ``RawWebSocketServer`` answers each ``response.create`` with the frames the script
yields. Both count requests, so a script can misbehave once and then answer well, which is how
the tests check that the server keeps answering other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.session import ModelSession, SessionOptions

#: Yielded by a script: close the socket now.
CLOSE = object()

HttpScript = Callable[[int, dict[str, Any]], AsyncIterator[Any]]
WsScript = Callable[[int, dict[str, Any]], AsyncIterator[Any]]


def chunks_of(data: bytes, size: int = 7) -> list[bytes]:
    """``data`` cut into pieces of ``size`` bytes (how the replays stress the parsers)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def http_head(status: int = 200, *headers: str, reason: str = "OK") -> bytes:
    """A status line and headers, ending with the blank line."""
    lines = [f"HTTP/1.1 {status} {reason}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(*pieces: bytes) -> bytes:
    """A whole chunked body holding ``pieces`` as chunks."""
    body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece)
    return body + b"0\r\n\r\n"


def sse(*events: dict[str, Any], done: bool = False) -> bytes:
    """Server-sent events, one ``data:`` line per JSON event."""
    text = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def responses_events(text: str, response_id: str = "resp_1") -> list[dict[str, Any]]:
    """A minimal, valid Responses stream answering ``text``."""
    return [
        {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}},
        {"type": "response.output_text.delta", "delta": text},
        {"type": "response.completed", "response": {"id": response_id, "status": "completed"}},
    ]


def good_http_reply(text: str) -> bytes:
    """A whole, valid SSE response (Content-Length framing) answering ``text``."""
    body = sse(*responses_events(text))
    head = http_head(200, "Content-Type: text/event-stream", f"Content-Length: {len(body)}")
    return head + body


@dataclass
class RawHttpServer:
    """An HTTP/1.1 server on loopback whose every answer is a script's bytes."""

    script: HttpScript
    requests: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    #: Connections the client closed while the script was still writing.
    cut_off: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> RawHttpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def close(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
        if self._handlers:  # let each handler see its socket close and return
            await asyncio.wait(self._handlers, timeout=2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length) or b"{}")
                self.requests.append(body)
                async for piece in self.script(len(self.requests), body):
                    if piece is CLOSE:
                        return
                    writer.write(piece)
                    await writer.drain()
        except asyncio.IncompleteReadError:
            return
        except ConnectionError:
            self.cut_off += 1
        finally:
            self._writers.discard(writer)
            writer.close()


@dataclass
class RawWebSocketServer:
    """A WebSocket-mode endpoint on loopback answering each request with a script's frames."""

    script: WsScript
    requests: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    _server: Server | None = None

    async def start(self) -> RawWebSocketServer:
        self._server = await serve(self._serve, "127.0.0.1", 0, max_size=None)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/responses"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, ws: ServerConnection) -> None:
        self.connections += 1
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                request = json.loads(raw)
                self.requests.append(request)
                async for frame in self.script(len(self.requests), request):
                    if frame is CLOSE:
                        await ws.close()
                        return
                    await ws.send(_frame(frame))


def _frame(frame: Any) -> Any:
    """A frame as sent: text as is, a list of strings as one fragmented message, JSON else."""
    if isinstance(frame, str | bytes):
        return frame
    if isinstance(frame, list):
        return iter(frame)
    return json.dumps(frame)


async def replay(pieces: Iterable[Any], delay: float = 0.0) -> AsyncIterator[Any]:
    """Yield ``pieces`` (optionally pausing between them)."""
    for piece in pieces:
        if delay:
            await asyncio.sleep(delay)
        yield piece


def always(pieces: list[Any]) -> Any:
    """A script answering every request with ``pieces``."""

    async def script(index: int, body: dict[str, Any]) -> AsyncIterator[Any]:
        async for piece in replay(pieces):
            yield piece

    return script


async def open_session(url: str, **options: Any) -> ModelSession:
    """A started session to ``url`` (HTTP: ``transport='http'``), ready to serve."""
    connect_keys = {"transport", "api"}
    connect = {key: options.pop(key) for key in list(options) if key in connect_keys}
    session = ModelSession(
        SessionOptions(
            connect=ConnectOptions(url=url, api_key="k", connect_timeout=2.0, **connect),
            model="m",
            lanes=options.pop("lanes", False),
            stall_timeout_s=options.pop("stall_timeout_s", 30.0),
            **options,
        )
    )
    session.start()
    assert await session.wait_ready(5), session.status
    return session
