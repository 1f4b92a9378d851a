"""Encoding of the Responses API's server-side events, for the bundled model server only.

The client (``spark_lsp/model/protocol.py``) only decodes these events; keeping the encoders
here leaves the client's codec free of code it never runs. The shared parts (``Usage``, the
``JSON`` alias) are imported from the client's codec, so both sides agree on one shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from spark_lsp.model.protocol import JSON, Usage


def _dump(message: JSON) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


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
    headers: JSON | None = None,
    sequence_number: int | None = None,
) -> str:
    """Encode an ``error`` event in the nested WebSocket-mode shape."""
    body: JSON = {
        "type": "error",
        "status": status,
        "error": {"type": error_type, "code": code, "message": message, "param": param},
    }
    if sequence_number is not None:
        body["sequence_number"] = sequence_number
    if headers:
        body["headers"] = headers
    return _dump(_laned(body, stream_id))


@dataclass(slots=True)
class ResponseEncoder:
    """Produces the ordered events of one response, numbering them as it goes.

    The server creates one per response; ``sequence_number`` rises across all events of it.
    """

    response_id: str
    model: str
    stream_id: str | None = None
    item_id: str = ""
    _seq: int = 0
    _text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.item_id:
            self.item_id = "msg_" + self.response_id.removeprefix("resp_")

    def _event(self, kind: str, **fields: Any) -> str:
        body: JSON = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return _dump(_laned(body, self.stream_id))

    def _response(self, status: str, **extra: Any) -> JSON:
        return {
            "id": self.response_id,
            "object": "response",
            "status": status,
            "model": self.model,
            **extra,
        }

    def _message_item(self, status: str) -> JSON:
        content = [{"type": "output_text", "text": "".join(self._text), "annotations": []}]
        return {
            "id": self.item_id,
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": content if status == "completed" else [],
        }

    def opening(self, *, generate: bool = True) -> list[str]:
        """Events before the first delta (``created``, ``in_progress``, the item and part)."""
        events = [
            self._event("response.created", response=self._response("in_progress")),
            self._event("response.in_progress", response=self._response("in_progress")),
        ]
        if generate:
            events += [
                self._event(
                    "response.output_item.added",
                    output_index=0,
                    item=self._message_item("in_progress"),
                ),
                self._event(
                    "response.content_part.added",
                    item_id=self.item_id,
                    output_index=0,
                    content_index=0,
                    part={"type": "output_text", "text": "", "annotations": []},
                ),
            ]
        return events

    def delta(self, text: str) -> str:
        """One ``response.output_text.delta`` event."""
        self._text.append(text)
        return self._event(
            "response.output_text.delta",
            item_id=self.item_id,
            output_index=0,
            content_index=0,
            delta=text,
        )

    def closing(
        self,
        usage: Usage,
        *,
        generate: bool = True,
        incomplete_reason: str | None = None,
    ) -> list[str]:
        """Events after the last delta, ending in the terminal event."""
        text = "".join(self._text)
        events: list[str] = []
        if generate:
            events += [
                self._event(
                    "response.output_text.done",
                    item_id=self.item_id,
                    output_index=0,
                    content_index=0,
                    text=text,
                ),
                self._event(
                    "response.content_part.done",
                    item_id=self.item_id,
                    output_index=0,
                    content_index=0,
                    part={"type": "output_text", "text": text, "annotations": []},
                ),
                self._event(
                    "response.output_item.done",
                    output_index=0,
                    item=self._message_item("completed"),
                ),
            ]
        usage_body = {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_tokens},
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        }
        output = [self._message_item("completed")] if generate else []
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
        headers: JSON | None = None,
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
