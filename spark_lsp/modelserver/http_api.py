"""The bundled model server's HTTP side: Responses and Chat Completions over server-sent events.

So every transport the client has can be tested on loopback, the server also listens for plain
HTTP/1.1 (keep-alive, chunked event streams) as vLLM, Ollama or llama.cpp's server would:
``POST /v1/responses``, ``POST /v1/chat/completions``, ``GET /v1/models``. With ``stream: true``
the answer is an event stream; without it, one JSON body (a ``Response`` or a
``ChatCompletion``) built from the same events once the turn ends. A WebSocket upgrade here is
answered 426, like an HTTP-only endpoint.

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
           500: "Internal Server Error", 502: "Bad Gateway"}  # fmt: skip
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

    async def run_http_turn(self, sink: TurnSink, message: JSON) -> None:
        """Run one request's turn, writing its events through ``sink``."""


class TurnSink(Protocol):
    """Where one HTTP request's events go: an event stream, or one whole JSON body."""

    async def send(self, event: str) -> None:
        """One event of the turn (a JSON text, or garbage when a fault asks for it)."""

    def abort(self) -> None:
        """Cut the TCP connection (a crashed server)."""

    async def end(self) -> None:
        """The turn is over: finish the answer."""


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
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise BadRequest(400, "invalid_type", "Invalid type for 'stream': expected a boolean.",
                             "stream")  # fmt: skip
        message = chat_to_create(body) if chat else {"type": "response.create", **body}
        self.server.stats.record(message)
        sink: TurnSink
        if stream:
            sink = ChatSink(writer, body) if chat else SseSink(writer)
        else:
            sink = WholeReply(writer, body, chat=chat)
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
        await _send_error_event(self.writer, error, 400)

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
        elif kind == "response.refusal.delta":
            await self._delta({"refusal": parsed.get("delta", "")})
        elif kind in ("response.completed", "response.incomplete"):
            await self._close(parsed.get("response") or {})
        elif kind == "response.failed":
            error = (parsed.get("response") or {}).get("error")
            await self._data({"error": error})

    async def _close(self, response: JSON) -> None:
        choice = {"index": 0, "delta": {}, "finish_reason": finish_reason(response)}
        await self._data(self._chunk_body([choice]))
        if self.include_usage:
            body = self._chunk_body([])
            body["usage"] = chat_usage(response.get("usage") or {})
            await self._data(body)
        await self._chunk("data: [DONE]\n\n")

    async def _delta(self, delta: JSON) -> None:
        await self._data(self._chunk_body([{"index": 0, "delta": delta, "finish_reason": None}]))

    def _chunk_body(self, choices: list[JSON]) -> JSON:
        return {"id": self.id, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.model, "choices": choices}  # fmt: skip

    async def _data(self, body: Any) -> None:
        await self._chunk(f"data: {json.dumps(body, separators=(',', ':'))}\n\n")


class WholeReply:
    """A request without ``stream``: its events are collected and answered as one JSON body.

    The body is the terminal event's ``response`` (a ``Response``) or, for Chat Completions,
    a ``ChatCompletion`` made from it. Errors become HTTP statuses as in streaming mode before
    the first event; a failure later in the turn is a 500, as real servers answer it.
    """

    def __init__(self, writer: asyncio.StreamWriter, body: JSON, *, chat: bool) -> None:
        self.writer = writer
        self.chat = chat
        model = body.get("model")
        self.model = model if isinstance(model, str) else DEFAULT_MODEL
        self.response: JSON | None = None
        self.error: JSON | None = None
        self.garbage = self.aborted = False

    async def send(self, event: str) -> None:
        """Keep the first error or the terminal response; everything else is in the latter."""
        try:
            parsed = json.loads(event)
        except ValueError:
            self.garbage = True
            return
        kind = parsed.get("type")
        if kind == "error" and self.error is None:
            self.error = parsed
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.response = parsed.get("response")

    def abort(self) -> None:
        """Cut the TCP connection without an answer (a crashed server)."""
        self.aborted = True
        self.writer.transport.abort()

    async def end(self) -> None:
        """Answer with the collected result."""
        response = self.response
        if self.aborted:
            return
        if self.garbage:  # what a broken gateway answers in place of JSON
            page = b"<html>502 Bad Gateway</html>"
            head = {"Content-Type": "text/html", "Content-Length": str(len(page))}
            self.writer.write(_head(502, head) + page)
            await self.writer.drain()
        elif self.error is not None:
            await _send_error_event(self.writer, self.error, 500)
        elif response is None or response.get("status") == "failed":
            error = (response or {}).get("error") or {}
            message = error.get("message") or "The model server ended the response without one."
            await _send_error(self.writer, 500, error.get("code") or "server_error", message, None)
        elif self.chat:
            await _send_json(self.writer, 200, chat_completion(response, self.model))
        else:
            await _send_json(self.writer, 200, response)


def finish_reason(response: JSON) -> str:
    """A Responses terminal ``response`` as a Chat Completions ``finish_reason``."""
    details = response.get("incomplete_details") or {}
    if response.get("status") != "incomplete":
        return "stop"
    return "content_filter" if details.get("reason") == "content_filter" else "length"


def chat_usage(usage: JSON) -> JSON:
    """A Responses ``usage`` object in Chat Completions terms."""
    details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    return {
        "prompt_tokens": usage.get("input_tokens", 0),
        "completion_tokens": usage.get("output_tokens", 0),
        "total_tokens": usage.get("total_tokens", 0),
        "prompt_tokens_details": {"cached_tokens": details.get("cached_tokens", 0)},
        "completion_tokens_details": {
            "reasoning_tokens": output_details.get("reasoning_tokens", 0)
        },
    }


def chat_completion(response: JSON, model: str) -> JSON:
    """A terminal ``response`` as a non-streaming ``ChatCompletion`` (text, or a refusal)."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in response.get("output") or []:
        for part in item.get("content") or []:
            if part.get("type") == "output_text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "refusal":
                refusals.append(part.get("refusal", ""))
    message = {
        "role": "assistant",
        "content": "".join(texts) if texts else None,
        "refusal": "".join(refusals) if refusals else None,
    }
    choice = {"index": 0, "message": message, "finish_reason": finish_reason(response),
              "logprobs": None}  # fmt: skip
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": chat_usage(response.get("usage") or {}),
    }


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


async def _send_error_event(writer: asyncio.StreamWriter, event: JSON, default_status: int) -> None:
    """An ``error`` event as an HTTP error: its status, its ``error`` body, its headers."""
    raw_status = event.get("status")
    status = raw_status if isinstance(raw_status, int) else default_status
    error = event.get("error")
    error = error if isinstance(error, dict) else {}
    headers = error.get("headers") if isinstance(error.get("headers"), dict) else {}
    await _send_json(writer, status, {"error": error}, headers)


async def _send_error(
    writer: asyncio.StreamWriter, status: int, code: str, message: str, param: str | None
) -> None:
    error = {"type": error_type_for(status), "code": code, "message": message, "param": param}
    await _send_json(writer, status, {"error": error})
