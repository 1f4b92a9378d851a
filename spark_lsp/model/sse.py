"""Sans-I/O server-sent events, and the Chat Completions stream mapped onto our event types.

The HTTP transport reads bytes; this module turns them into the same typed events the
WebSocket transport produces (``model/protocol.py``), so the session and everything above it
never learn which transport or API answered. Responses over SSE carries the WebSocket-mode
events verbatim; Chat Completions chunks are translated here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from spark_lsp.errors import ProtocolError, ReplyTooLarge
from spark_lsp.model.limits import MAX_MESSAGE_BYTES
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    RefusalDelta,
    ResponseFinished,
    ResponseStarted,
    ServerEvent,
    TextDelta,
    Usage,
    dump_body,
    error_event_of,
)

DONE = "[DONE]"


@dataclass
class SseParser:
    """Splits a byte stream into ``(event, data)`` pairs, per the EventSource rules we need.

    Linear in the bytes fed: a line arriving in many pieces is searched for its end only in
    the new bytes, and consumed lines are cut off the buffer once per ``feed``. A line or an
    event beyond ``max_bytes`` is a ``ReplyTooLarge``: no valid event is that large, and
    buffering on would let an endpoint exhaust memory with one endless line.
    """

    max_bytes: int = MAX_MESSAGE_BYTES
    _buffer: bytearray = field(default_factory=bytearray)
    #: Leading bytes of ``_buffer`` already searched for a newline (none there).
    _scanned: int = 0
    _event: str | None = None
    _data: list[str] = field(default_factory=list)
    _size: int = 0

    def feed(self, chunk: bytes) -> list[tuple[str | None, str]]:
        """Add bytes; return every event they complete."""
        buffer = self._buffer
        buffer += chunk
        events: list[tuple[str | None, str]] = []
        start = 0
        while (end := buffer.find(b"\n", max(start, self._scanned))) >= 0:
            self._line(bytes(buffer[start:end]).rstrip(b"\r"), events)
            start = end + 1
        del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) > self.max_bytes:
            raise ReplyTooLarge(
                f"the model sent an event-stream line over {self.max_bytes} bytes; stopped reading"
            )
        return events

    def _line(self, raw: bytes, events: list[tuple[str | None, str]]) -> None:
        if not raw:
            if self._data:
                events.append((self._event, "\n".join(self._data)))
            self._event, self._data, self._size = None, [], 0
            return
        if raw.startswith(b":"):  # a comment (OpenRouter's ": PROCESSING" keep-alives)
            return
        name, _, value = raw.decode("utf-8", "replace").partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._size += len(raw)
            if self._size > self.max_bytes:
                raise ReplyTooLarge(
                    f"the model sent an event over {self.max_bytes} bytes; stopped reading"
                )
            self._data.append(value)


def encode_chat(request: CreateRequest) -> str:
    """The body of a streamed ``POST /chat/completions`` for ``request``.

    The input texts go in one user message: several user messages in a row break the chat
    templates of some self-hosted servers. ``max_tokens`` is the budget field every
    OpenAI-compatible server knows.
    """
    messages: list[dict[str, str]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    messages.append({"role": "user", "content": "\n\n".join(request.input_texts)})
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.max_output_tokens is not None:
        body["max_tokens"] = request.max_output_tokens
    return dump_body(body)


@dataclass
class ChatDecoder:
    """Turns Chat Completions chunks into ``ResponseStarted``/``TextDelta``/``ResponseFinished``."""

    _started: bool = False
    _finish_reason: str | None = None
    _usage: Usage = field(default_factory=Usage)
    _id: str | None = None

    def feed(self, data: str) -> list[ServerEvent]:
        """Decode one ``data:`` payload (a JSON chunk or ``[DONE]``)."""
        if data.strip() == DONE:
            return [self.finished()]
        try:
            chunk = json.loads(data)
        except ValueError:
            raise ProtocolError("the model sent a chunk that is not valid JSON") from None
        if not isinstance(chunk, dict):
            raise ProtocolError("the model sent a chunk that is not a JSON object")
        if isinstance(chunk.get("error"), dict):
            return [error_event_of(chunk)]
        events: list[ServerEvent] = []
        if not self._started:
            self._started = True
            self._id = chunk.get("id") if isinstance(chunk.get("id"), str) else None
            events.append(ResponseStarted(self._id or "chat"))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = _chat_usage(usage)
        for choice in _first_choices(chunk.get("choices")):
            delta = choice.get("delta")
            delta = delta if isinstance(delta, dict) else {}
            content = _content_text(delta.get("content"))
            if content:
                events.append(TextDelta(content))
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                events.append(RefusalDelta(refusal))
            if isinstance(choice.get("finish_reason"), str):
                self._finish_reason = choice["finish_reason"]
        return events

    def finished(self) -> ResponseFinished:
        """The terminal event (at ``[DONE]``)."""
        if self._finish_reason == "length":
            return ResponseFinished(
                "incomplete", self._id, self._usage, incomplete_reason="max_output_tokens"
            )
        return ResponseFinished("completed", self._id, self._usage)


def _first_choices(choices: Any) -> list[dict[str, Any]]:
    """The choices of index 0: spark-lsp asks for one, but a gateway may send several."""
    if not isinstance(choices, list):
        return []
    return [c for c in choices if isinstance(c, dict) and c.get("index", 0) == 0]


def _content_text(content: Any) -> str:
    """A delta's text: a string, or (Mistral) a list of parts whose ``text`` parts count.

    Mistral's reasoning models send ``[{"type": "thinking", ...}, {"type": "text", ...}]``;
    the thinking parts are not the answer.
    """
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(
        part["text"]
        for part in content
        if isinstance(part, dict)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
    )


def _chat_usage(raw: dict[str, Any]) -> Usage:
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return Usage(
        input_tokens=_int(raw.get("prompt_tokens")),
        cached_tokens=_int(cached),
        output_tokens=_int(raw.get("completion_tokens")),
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def http_error_event(status: int, body: bytes, headers: dict[str, str]) -> ErrorEvent:
    """An error event for an HTTP error status (JSON ``{"error": ...}`` body or not)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    message: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    if not isinstance(message.get("error"), dict):
        text = body.decode("utf-8", "replace").strip()[:200] or f"HTTP {status}"
        message = {"error": {"message": text}}
    retry = {k: v for k, v in headers.items() if k.startswith("retry-after")}
    return error_event_of({**message, "status": status, "headers": retry})
