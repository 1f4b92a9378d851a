"""Encoding of the Responses API's server-side events, for the bundled model server only.

The client (``spark_lsp/model/protocol.py``) only decodes these events; keeping the encoders
here leaves the client's codec free of code it never runs. The shared parts (``Usage``, the
``JSON`` alias) are imported from the client's codec, so both sides agree on one shape.

Every event carries the fields the official SDK's types require (checked in strict mode by
``tests/unit/test_modelserver_sdk.py``), so any client written against the real API can use the
bundled server. Those fields are constants or computed once per response: the server sits on
every keystroke's path, so a text delta (one per token) is joined from pre-encoded pieces and
only its number and text are encoded per call.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from spark_lsp.model.protocol import JSON, Usage

#: One encoder for every event: ``json.dumps`` with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_STRING = _ENCODER.encode


def _dump(message: JSON) -> str:
    return _ENCODER.encode(message)


def _laned(message: JSON, stream_id: str | None) -> JSON:
    if stream_id is not None:
        message["stream_id"] = stream_id
    return message


def error_type_for(status: int) -> str:
    """The ``error.type`` the API uses for an HTTP status."""
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def encode_error(
    code: str,
    message: str,
    *,
    status: int = 400,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    stream_id: str | None = None,
    headers: dict[str, str] | None = None,
    sequence_number: int = 0,
) -> str:
    """Encode an ``error`` event: the nested WebSocket-mode shape, valid as the flat one too.

    The SDK reads a WebSocket error from ``error`` (headers inside it) and a stream error from
    the top level (``code``, ``message``, ``param``, ``sequence_number``); both are sent, so one
    event is valid whichever way it arrives. Errors outside any response are numbered 0.
    """
    error: JSON = {"type": error_type, "code": code, "message": message, "param": param}
    body: JSON = {
        "type": "error",
        "status": status,
        "error": error,
        "code": code,
        "message": message,
        "param": param,
        "sequence_number": sequence_number,
    }
    if headers:
        error["headers"] = headers
        body["headers"] = headers  # where some clients (the Codex CLI) look for them
    return _dump(_laned(body, stream_id))


#: Echoed in every ``response`` object: we offer no tools, as a plain completion model does.
_NO_TOOLS: JSON = {"parallel_tool_calls": True, "tool_choice": "auto", "tools": []}

PartKind = Literal["output_text", "refusal"]
_DELTA_HEAD = '{"type":"response.output_text.delta","sequence_number":'


@dataclass(slots=True)
class _Part:
    """One content part of the message: text, or a refusal (the API never mixes them in one)."""

    kind: PartKind
    index: int
    pieces: list[str] = field(default_factory=list)

    def body(self, *, done: bool) -> JSON:
        text = "".join(self.pieces) if done else ""
        if self.kind == "refusal":
            return {"type": "refusal", "refusal": text}
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


@dataclass(slots=True)
class ResponseEncoder:
    """Produces the ordered events of one response, numbering them as it goes.

    The server creates one per response; ``sequence_number`` rises across all events of it.
    A content part is opened by its first piece, so a refusal gets a ``refusal`` part.
    """

    response_id: str
    model: str
    stream_id: str | None = None
    item_id: str = ""
    created_at: int = 0
    _seq: int = 0
    _parts: list[_Part] = field(default_factory=list)
    #: The constant JSON between a text delta's sequence number and its text, and after it.
    _delta_middle: str = ""
    _delta_tail: str = ""

    def __post_init__(self) -> None:
        if not self.item_id:
            self.item_id = "msg_" + self.response_id.removeprefix("resp_")
        if not self.created_at:
            self.created_at = int(time.time())
        lane = "" if self.stream_id is None else ',"stream_id":' + _STRING(self.stream_id)
        self._delta_tail = ',"logprobs":[]' + lane + "}"

    def _event(self, kind: str, **fields: Any) -> str:
        body: JSON = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return _dump(_laned(body, self.stream_id))

    def _response(self, status: str, **extra: Any) -> JSON:
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "model": self.model,
            "output": [],
            **_NO_TOOLS,
            **extra,
        }

    def _message_item(self, status: str) -> JSON:
        content = [] if status == "in_progress" else [p.body(done=True) for p in self._parts]
        return {
            "id": self.item_id,
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": content,
        }

    def _at(self, part: _Part) -> JSON:
        return {"item_id": self.item_id, "output_index": 0, "content_index": part.index}

    def opening(self, *, generate: bool = True) -> list[str]:
        """Events before the first piece (``created``, ``in_progress``, the message item)."""
        events = [
            self._event("response.created", response=self._response("in_progress")),
            self._event("response.in_progress", response=self._response("in_progress")),
        ]
        if generate:
            events.append(
                self._event(
                    "response.output_item.added",
                    output_index=0,
                    item=self._message_item("in_progress"),
                )
            )
        return events

    def open_part(self, kind: PartKind) -> list[str]:
        """The events that end the current part if it is of another kind and open a ``kind`` one.

        Empty when a part of that kind is already open (the common case: one check per delta).
        """
        if self._parts and self._parts[-1].kind == kind:
            return []
        events = self._close_part() if self._parts else []
        part = _Part(kind, len(self._parts))
        self._parts.append(part)
        at = _dump(self._at(part))[1:-1]  # "item_id":…,"output_index":0,"content_index":N
        self._delta_middle = "," + at + ',"delta":'
        events.append(
            self._event("response.content_part.added", **self._at(part), part=part.body(done=False))
        )
        return events

    def _open(self, kind: PartKind) -> _Part:
        if not self._parts or self._parts[-1].kind != kind:
            raise RuntimeError(f"no {kind} part is open: call open_part({kind!r}) first")
        return self._parts[-1]

    def delta(self, text: str) -> str:
        """One ``response.output_text.delta`` event (after ``open_part("output_text")``)."""
        self._open("output_text").pieces.append(text)
        seq = self._seq
        self._seq = seq + 1
        # The hot path (one call per token): only the number and the text vary, so the event
        # is joined from pre-encoded pieces instead of dumping a fresh dict each time.
        return f"{_DELTA_HEAD}{seq}{self._delta_middle}{_STRING(text)}{self._delta_tail}"

    def refusal_delta(self, text: str) -> str:
        """One ``response.refusal.delta`` event (after ``open_part("refusal")``)."""
        part = self._open("refusal")
        part.pieces.append(text)
        return self._event("response.refusal.delta", **self._at(part), delta=text)

    def _close_part(self) -> list[str]:
        part = self._parts[-1]
        whole = "".join(part.pieces)
        if part.kind == "refusal":
            done = self._event("response.refusal.done", **self._at(part), refusal=whole)
        else:
            done = self._event(
                "response.output_text.done", **self._at(part), text=whole, logprobs=[]
            )
        body = part.body(done=True)
        return [done, self._event("response.content_part.done", **self._at(part), part=body)]

    def closing(
        self,
        usage: Usage,
        *,
        generate: bool = True,
        incomplete_reason: str | None = None,
        reasoning_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> list[str]:
        """Events after the last piece, ending in the terminal event.

        ``usage.output_tokens`` counts the text; ``reasoning_tokens`` are added to it (the API
        bills reasoning as output) and reported in ``output_tokens_details``.
        """
        events: list[str] = []
        status = "completed" if incomplete_reason is None else "incomplete"
        output: list[JSON] = []
        if generate:
            events += self.open_part("output_text") if not self._parts else []
            events += self._close_part()
            output = [self._message_item(status)]
            events.append(self._event("response.output_item.done", output_index=0, item=output[0]))
        output_tokens = usage.output_tokens + reasoning_tokens
        usage_body = {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {
                "cached_tokens": usage.cached_tokens,
                "cache_write_tokens": cache_write_tokens,
            },
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": usage.input_tokens + output_tokens,
        }
        if incomplete_reason is not None:
            terminal = self._response(
                "incomplete",
                usage=usage_body,
                output=output,
                incomplete_details={"reason": incomplete_reason},
            )
            events.append(self._event("response.incomplete", response=terminal))
        else:
            terminal = self._response("completed", usage=usage_body, output=output)
            events.append(self._event("response.completed", response=terminal))
        return events

    def error(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """An ``error`` event that refuses this response, numbered and laned like its events."""
        event = encode_error(
            code,
            message,
            status=status,
            error_type=error_type,
            param=param,
            stream_id=self.stream_id,
            headers=headers,
            sequence_number=self._seq,
        )
        self._seq += 1
        return event

    def failed(self, code: str, message: str) -> str:
        """A ``response.failed`` terminal event carrying an error."""
        error = {"code": code, "message": message}
        return self._event("response.failed", response=self._response("failed", error=error))
