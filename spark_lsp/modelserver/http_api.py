"""The bundled model server's HTTP side: Responses and Chat Completions over server-sent events.

So every transport the client has can be tested on loopback, the server also listens for plain
HTTP/1.1 (keep-alive, chunked event streams) as vLLM, Ollama or llama.cpp's server would:
``POST /v1/responses`` (``stream: true``), ``POST /v1/chat/completions`` (``stream: true``),
``GET /v1/models``. A WebSocket upgrade here is answered 426, like an HTTP-only endpoint.

Turns run through the same ``_Turn`` code as WebSocket mode (validation, engine, faults, usage);
only the framing differs. An error before the first event becomes an HTTP status with a JSON
body (and ``Retry-After``), as real servers answer; later errors are events in the stream.
There is no connection-local state over HTTP, so ``previous_response_id`` never resolves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from spark_lsp.model.protocol import (
    DEFAULT_MODEL,
    JSON,
    MIN_OUTPUT_TOKENS,
)
from spark_lsp.modelserver.encoder import encode_error, error_type_for

LOGGER = logging.getLogger("spark_lsp.modelserver")
MAX_BODY_BYTES = 16 * 2**20
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           413: "Payload Too Large", 426: "Upgrade Required", 429: "Too Many Requests",
           500: "Internal Server Error"}  # fmt: skip
CHAT_FIELDS = frozenset(
    {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
     "temperature", "top_p", "stop", "n", "user", "seed", "presence_penalty",
     "frequency_penalty"}
)  # fmt: skip


@dataclass
class HttpRequest:
    """One parsed request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class BadRequest(Exception):
    """A request we answer with an error status and a JSON body."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """Read one request (None at a clean end of the connection)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    path = rest.rpartition(" ")[0] or rest
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY_BYTES:
        raise BadRequest(413, "payload_too_large", "The request body is too large.")
    body = await reader.readexactly(length) if length else b""
    return HttpRequest(method, path.split("?")[0], headers, body)


class HttpStats(Protocol):
    """The counters the HTTP side keeps (the server's stats)."""

    http_connections_total: int
    http_connections_open: int

    def record(self, message: JSON) -> None:
        """Count one request and keep it for inspection."""


class Backend(Protocol):
    """What the HTTP side needs from the model server (``ModelServer`` provides it)."""

    @property
    def stats(self) -> HttpStats:
        """The server's counters."""

    def authorized(self, values: list[str]) -> bool:
        """True when the ``Authorization`` values carry the server's token."""

    def model_names(self) -> list[str]:
        """The models the key may use."""

    async def run_http_turn(self, sink: SseSink, message: JSON) -> None:
        """Run one request's turn, writing its events through ``sink``."""


class HttpApi:
    """Serves the HTTP endpoints of one model server."""

    def __init__(self, server: Backend) -> None:
        self.server = server

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection."""
        self.server.stats.http_connections_total += 1
        self.server.stats.http_connections_open += 1
        try:
            while True:
                try:
                    request = await read_request(reader)
                except BadRequest as bad:  # the stream is out of step: answer, then hang up
                    await _send_error(writer, bad.status, bad.code, bad.message, bad.param)
                    return
                if request is None:
                    return
                try:
                    await self._route(request, writer)
                except BadRequest as bad:
                    await _send_error(writer, bad.status, bad.code, bad.message, bad.param)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.server.stats.http_connections_open -= 1
            writer.close()

    async def _route(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        if request.headers.get("upgrade", "").lower() == "websocket":
            raise BadRequest(426, "upgrade_required", "This endpoint speaks HTTP only.")
        if not self.server.authorized([request.headers.get("authorization", "")]):
            raise BadRequest(401, "invalid_api_key", "Missing or invalid bearer token.")
        route = (request.method, request.path)
        if route == ("GET", "/v1/models"):
            names = self.server.model_names()
            models = [{"id": name, "object": "model", "owned_by": "spark-lsp"} for name in names]
            await _send_json(writer, 200, {"object": "list", "data": models})
        elif route == ("POST", "/v1/responses"):
            await self._turn(_json_body(request), writer, chat=False)
        elif route == ("POST", "/v1/chat/completions"):
            await self._turn(_json_body(request), writer, chat=True)
        else:
            raise BadRequest(404, "not_found", f"No route for {request.method} {request.path}.")

    async def _turn(self, body: JSON, writer: asyncio.StreamWriter, *, chat: bool) -> None:
        if body.get("stream") is not True:
            raise BadRequest(400, "invalid_value", "Only 'stream': true is supported.", "stream")
        message = chat_to_create(body) if chat else {"type": "response.create", **body}
        self.server.stats.record(message)
        sink = ChatSink(writer, body) if chat else SseSink(writer)
        try:
            await self.server.run_http_turn(sink, message)
        except ConnectionError:
            raise
        except Exception:  # a bug fails this request only, as over WebSocket
            LOGGER.error("model server: an HTTP request failed unexpectedly", exc_info=True)
            await sink.send(encode_error("server_error", "The model server failed.", status=500,
                                         error_type="server_error"))  # fmt: skip
        await sink.end()


class SseSink:
    """Writes Responses events as ``event:``/``data:`` pairs in a chunked body."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.started = False
        self.ended = False

    async def send(self, event: str) -> None:
        """One event from the turn (a JSON text, or garbage when a fault asks for it)."""
        try:
            parsed = json.loads(event)
        except ValueError:
            parsed = None
        if not self.started and isinstance(parsed, dict) and parsed.get("type") == "error":
            await self._refuse(parsed)
            return
        await self._open()
        kind = parsed.get("type") if isinstance(parsed, dict) else "message"
        await self._chunk(f"event: {kind}\ndata: {event}\n\n")

    def abort(self) -> None:
        """Cut the TCP connection without ending the body (a crashed server)."""
        self.writer.transport.abort()

    async def end(self) -> None:
        """Finish the chunked body (the connection stays open for the next request)."""
        if self.started and not self.ended:
            self.ended = True
            self.writer.write(b"0\r\n\r\n")
            await self.writer.drain()

    async def _refuse(self, error: JSON) -> None:
        """An error before the stream began: an HTTP status, as real servers answer."""
        self.started = self.ended = True
        raw_status = error.get("status")
        status = raw_status if isinstance(raw_status, int) else 400
        headers = error.get("headers") if isinstance(error.get("headers"), dict) else {}
        body = {"error": error.get("error")}
        await _send_json(self.writer, status, body, headers)

    async def _open(self) -> None:
        if not self.started:
            self.started = True
            self.writer.write(_head(200, {"Content-Type": "text/event-stream",
                                          "Cache-Control": "no-cache",
                                          "Transfer-Encoding": "chunked"}))  # fmt: skip

    async def _chunk(self, text: str) -> None:
        data = text.encode()
        self.writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await self.writer.drain()


class ChatSink(SseSink):
    """Translates the turn's Responses events into Chat Completions chunks."""

    def __init__(self, writer: asyncio.StreamWriter, body: JSON) -> None:
        super().__init__(writer)
        self.id = "chatcmpl-" + uuid.uuid4().hex
        self.model = body.get("model") if isinstance(body.get("model"), str) else DEFAULT_MODEL
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and options.get("include_usage") is True

    async def send(self, event: str) -> None:
        """Map one Responses event to zero or more chat chunks."""
        try:
            parsed = json.loads(event)
        except ValueError:
            await self._open()
            await self._chunk(f"data: {event}\n\n")
            return
        kind = parsed.get("type")
        if kind == "error":
            if not self.started:
                await self._refuse(parsed)
            else:
                await self._data({"error": parsed.get("error")})
            return
        await self._open()
        if kind == "response.created":
            await self._delta({"role": "assistant", "content": ""})
        elif kind == "response.output_text.delta":
            await self._delta({"content": parsed.get("delta", "")})
        elif kind in ("response.completed", "response.incomplete"):
            await self._close(parsed.get("response") or {}, kind)
        elif kind == "response.failed":
            error = (parsed.get("response") or {}).get("error")
            await self._data({"error": error})

    async def _close(self, response: JSON, kind: str) -> None:
        finish = "length" if kind == "response.incomplete" else "stop"
        await self._data(self._chunk_body([{"index": 0, "delta": {}, "finish_reason": finish}]))
        usage = response.get("usage") or {}
        if self.include_usage:
            details = usage.get("input_tokens_details") or {}
            body = self._chunk_body([])
            body["usage"] = {
                "prompt_tokens": usage.get("input_tokens", 0),
                "completion_tokens": usage.get("output_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
                "prompt_tokens_details": {"cached_tokens": details.get("cached_tokens", 0)},
            }
            await self._data(body)
        await self._chunk("data: [DONE]\n\n")

    async def _delta(self, delta: JSON) -> None:
        await self._data(self._chunk_body([{"index": 0, "delta": delta, "finish_reason": None}]))

    def _chunk_body(self, choices: list[JSON]) -> JSON:
        return {"id": self.id, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.model, "choices": choices}  # fmt: skip

    async def _data(self, body: Any) -> None:
        await self._chunk(f"data: {json.dumps(body, separators=(',', ':'))}\n\n")


def chat_to_create(body: JSON) -> JSON:
    """A Chat Completions request as the ``response.create`` our turns run."""
    for name in body:
        if name not in CHAT_FIELDS:
            raise BadRequest(400, "unknown_parameter", f"Unknown parameter: '{name}'.", name)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest(400, "invalid_value", "'messages' must be a non-empty list.", "messages")
    system: list[str] = []
    items: list[JSON] = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadRequest(400, "invalid_value", "Every message needs a 'role'.", "messages")
        text = _message_text(message.get("content"))
        if message["role"] in ("system", "developer"):
            system.append(text)
        else:
            items.append({"type": "message", "role": message["role"], "content": text})
    create: JSON = {"type": "response.create", "model": body.get("model"), "input": items}
    if system:
        create["instructions"] = "\n\n".join(system)
    budget = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(budget, int) and not isinstance(budget, bool):
        create["max_output_tokens"] = max(MIN_OUTPUT_TOKENS, budget)
    return create


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict)
                       and isinstance(p.get("text"), str))  # fmt: skip
    raise BadRequest(400, "invalid_value", "A message's 'content' must be text.", "messages")


def _json_body(request: HttpRequest) -> JSON:
    try:
        body = json.loads(request.body)
    except ValueError:
        raise BadRequest(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "invalid_value", "The request body must be a JSON object.")
    return body


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send_json(
    writer: asyncio.StreamWriter, status: int, body: JSON, extra: dict[str, Any] | None = None
) -> None:
    data = (json.dumps(body) + "\n").encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
    headers.update({name: str(value) for name, value in (extra or {}).items()})
    writer.write(_head(status, headers) + data)
    await writer.drain()


async def _send_error(
    writer: asyncio.StreamWriter, status: int, code: str, message: str, param: str | None
) -> None:
    error = {"type": error_type_for(status), "code": code, "message": message, "param": param}
    await _send_json(writer, status, {"error": error})
