"""Sans-I/O encoding and decoding of the Responses API's WebSocket-mode messages.

Both our client (``model/session.py``) and the bundled model server use this module, so the
wire shapes live in exactly one place and can be tested without a socket. Only documented fields
are ever emitted: the real API refuses unknown parameters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from spark_lsp.config import DEFAULT_MODEL as DEFAULT_MODEL  # the wire's default, re-exported
from spark_lsp.errors import (
    AuthError,
    ModelNotAvailable,
    ModelRequestError,
    PreviousResponseNotFound,
    ProtocolError,
    RateLimited,
    SparkError,
    UnsupportedTask,
)
from spark_lsp.model.retry import retry_after

#: The API refuses ``max_output_tokens`` below this value (``integer_below_min_value``).
MIN_OUTPUT_TOKENS = 16
STREAM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")

#: Codes with which endpoints say "this key cannot use that model" (OpenAI: ``model_not_found``).
MODEL_NOT_FOUND_CODES = frozenset({"model_not_found", "model_not_available"})

#: Error codes and types with which endpoints say "slow down" (no HTTP status mid-stream).
RATE_LIMIT_CODES = frozenset({"rate_limit_exceeded", "rate_limited", "too_many_requests"})
RATE_LIMIT_TYPES = frozenset({"rate_limit_error", "too_many_requests", "rate_limit_exceeded"})

#: ``incomplete_details.reason`` values that mean "the output budget ran out" (Chat: length).
CUT_REASONS = frozenset({"max_output_tokens", "length"})

TERMINAL_TYPES = frozenset(
    {"response.completed", "response.failed", "response.incomplete", "response.done"}
)

JSON = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Client -> server
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """One ``response.create``: what we ask of the model.

    ``input_texts`` become user messages in order; with ``previous_response_id`` they are only the
    *new* items appended after the chained response.
    """

    input_texts: tuple[str, ...]
    model: str = DEFAULT_MODEL
    instructions: str | None = None
    max_output_tokens: int | None = None
    prompt_cache_key: str | None = None
    previous_response_id: str | None = None
    stream_id: str | None = None
    generate: bool = True
    #: ``reasoning.effort`` ("low", …); ``None`` sends no ``reasoning`` field.
    reasoning_effort: str | None = None

    def with_stream_id(self, stream_id: str | None) -> CreateRequest:
        """Return a copy bound to a lane (or to none)."""
        return _replace(self, stream_id=stream_id)

    def unchained(self, full_input: tuple[str, ...]) -> CreateRequest:
        """Return the full-prompt fallback used after ``previous_response_not_found``."""
        return _replace(self, previous_response_id=None, input_texts=full_input)


def _replace(req: CreateRequest, **changes: Any) -> CreateRequest:
    from dataclasses import replace

    return replace(req, **changes)


def user_message(text: str) -> JSON:
    """One input item: a user message holding a single ``input_text`` part."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (a split pair is re-joined).

    Editors send UTF-16 text; half a surrogate pair survives JSON decoding as a lone code
    point that UTF-8 cannot encode. Left in, the WebSocket send fails and the connection is
    torn down on every request for that document.
    """
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def dump_body(body: JSON) -> str:
    """A request body as compact JSON text that UTF-8 can always encode (any transport)."""
    return valid_unicode(json.dumps(body, separators=(",", ":"), ensure_ascii=False))


def create_body(req: CreateRequest) -> JSON:
    """The body of ``POST /v1/responses`` for ``req`` (WebSocket mode adds ``type``)."""
    body: JSON = {
        "model": req.model,
        "store": False,
        "input": [user_message(text) for text in req.input_texts],
    }
    if req.instructions is not None:
        body["instructions"] = req.instructions
    if req.max_output_tokens is not None:
        body["max_output_tokens"] = max(MIN_OUTPUT_TOKENS, req.max_output_tokens)
    if req.reasoning_effort is not None:
        body["reasoning"] = {"effort": req.reasoning_effort}
    if req.prompt_cache_key:
        body["prompt_cache_key"] = req.prompt_cache_key
    if req.previous_response_id:
        body["previous_response_id"] = req.previous_response_id
    if req.stream_id is not None:
        body["stream_id"] = req.stream_id
    if not req.generate:
        body["generate"] = False
    return body


def encode_create(req: CreateRequest) -> str:
    """Serialise a request as the JSON text of a ``response.create`` frame (valid Unicode)."""
    return dump_body({"type": "response.create", **create_body(req)})


def input_texts_of(items: Any) -> tuple[str, ...]:
    """Extract the text of every ``input_text``/``output_text`` part of an ``input`` value.

    Accepts the plain-string shorthand as well as item lists, as the HTTP API does.
    """
    if isinstance(items, str):
        return (items,)
    if not isinstance(items, list):
        raise ProtocolError("'input' must be a string or a list of items")
    texts: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            raise ProtocolError("every input item must be an object")
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return tuple(texts)


def decode_client_message(raw: str | bytes) -> JSON:
    """Parse a client frame for the server side; raises ``ProtocolError`` when it is not JSON."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"frame is not valid JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("frame must be a JSON object with a string 'type'")
    return message


# ---------------------------------------------------------------------------------------------
# Server -> client: typed events
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage reported on a terminal event."""

    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    """``response.created``: the server has accepted a request and named the response."""

    response_id: str
    stream_id: str | None = None
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """``response.output_text.delta``: the next piece of the answer."""

    delta: str
    stream_id: str | None = None
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """``response.refusal.delta`` (or a Chat ``delta.refusal``): the model declining, in words."""

    delta: str
    stream_id: str | None = None
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseFinished:
    """A terminal event (``completed``, ``failed``, ``incomplete`` or ``done``)."""

    status: Literal["completed", "failed", "incomplete"]
    response_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    incomplete_reason: str | None = None
    error: ErrorEvent | None = None
    stream_id: str | None = None
    sequence_number: int | None = None
    #: The words of a ``refusal`` content part in the final output, if the model refused.
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An ``error`` event, nested (WebSocket mode) or flat (SSE form)."""

    message: str
    code: str | None = None
    error_type: str | None = None
    status: int | None = None
    param: str | None = None
    headers: JSON = field(default_factory=dict)
    stream_id: str | None = None

    def to_exception(self) -> SparkError:
        """Map the error to the exception class the layers above handle."""
        return error_to_exception(self)


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """Any event we do not act on (lifecycle events, unknown types): kept only for its lane."""

    type: str
    stream_id: str | None = None
    sequence_number: int | None = None


ServerEvent = (
    ResponseStarted | TextDelta | RefusalDelta | ResponseFinished | ErrorEvent | OtherEvent
)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    details = raw.get("input_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(
        input_tokens=_opt_int(raw.get("input_tokens")) or 0,
        cached_tokens=_opt_int(cached) or 0,
        output_tokens=_opt_int(raw.get("output_tokens")) or 0,
    )


def error_event_of(message: JSON) -> ErrorEvent:
    """Decode an error in any shape: nested (WebSocket mode), flat (SSE), or an HTTP body."""
    nested = message.get("error")
    source = nested if isinstance(nested, dict) else message
    # openai-python puts ``headers`` inside ``error``; the Codex CLI reads them at the top level.
    headers = {**_headers(source.get("headers")), **_headers(message.get("headers"))}
    return ErrorEvent(
        message=_opt_str(source.get("message")) or "the model reported an error",
        code=_opt_str(source.get("code")),
        error_type=_opt_str(source.get("type")) if source is nested else None,
        status=_opt_int(message.get("status")) or _opt_int(source.get("status")),
        param=_opt_str(source.get("param")),
        headers=headers,
        stream_id=_opt_str(message.get("stream_id")),
    )


def _headers(raw: Any) -> JSON:
    return raw if isinstance(raw, dict) else {}


def _finished(kind: str, message: JSON) -> ResponseFinished:
    response = message.get("response")
    response = response if isinstance(response, dict) else {}
    status_text = _opt_str(response.get("status")) or kind.removeprefix("response.")
    status: Literal["completed", "failed", "incomplete"]
    if status_text in ("failed", "cancelled"):
        status = "failed"
    elif status_text == "incomplete":
        status = "incomplete"
    else:
        status = "completed"
    error = None
    raw_error = response.get("error")
    if isinstance(raw_error, dict):
        error = error_event_of({"error": raw_error})
    details = response.get("incomplete_details")
    return ResponseFinished(
        status=status,
        response_id=_opt_str(response.get("id")),
        usage=_usage(response.get("usage")),
        incomplete_reason=_opt_str(details.get("reason")) if isinstance(details, dict) else None,
        error=error,
        stream_id=_opt_str(message.get("stream_id")),
        sequence_number=_opt_int(message.get("sequence_number")),
        refusal=_refusal_of(response.get("output")),
    )


def _refusal_of(output: Any) -> str | None:
    """The text of every ``refusal`` content part of a response's ``output`` items."""
    if not isinstance(output, list):
        return None
    words = [
        part["refusal"]
        for item in output
        if isinstance(item, dict) and isinstance(item.get("content"), list)
        for part in item["content"]
        if isinstance(part, dict)
        and part.get("type") == "refusal"
        and isinstance(part.get("refusal"), str)
    ]
    return "".join(words) or None


def decode_event(raw: str | bytes) -> ServerEvent:
    """Parse one server frame into a typed event.

    Raises ``ProtocolError`` for frames that are not JSON objects with a string ``type`` or whose
    known events miss a required field; unknown event types decode to ``OtherEvent``.
    """
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("the model sent a frame that is not valid JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("the model sent a frame without an event type")
    kind: str = message["type"]
    stream_id = _opt_str(message.get("stream_id"))
    seq = _opt_int(message.get("sequence_number"))
    if kind == "response.output_text.delta":
        delta = message.get("delta")
        if not isinstance(delta, str):
            raise ProtocolError("response.output_text.delta without a string 'delta'")
        return TextDelta(delta=delta, stream_id=stream_id, sequence_number=seq)
    if kind == "response.refusal.delta":
        delta = message.get("delta")
        if not isinstance(delta, str):
            raise ProtocolError("response.refusal.delta without a string 'delta'")
        return RefusalDelta(delta=delta, stream_id=stream_id, sequence_number=seq)
    if kind == "response.created":
        response = message.get("response")
        response_id = _opt_str(response.get("id")) if isinstance(response, dict) else None
        if response_id is None:
            raise ProtocolError("response.created without a response id")
        return ResponseStarted(response_id=response_id, stream_id=stream_id, sequence_number=seq)
    if kind in TERMINAL_TYPES:
        return _finished(kind, message)
    if kind == "error":
        return error_event_of(message)
    return OtherEvent(type=kind, stream_id=stream_id, sequence_number=seq)


def cut_by_budget(status: str | None, incomplete_reason: str | None) -> bool:
    """A response that ended because its output budget ran out: its text stops mid-thought."""
    return status == "incomplete" and incomplete_reason in CUT_REASONS


def error_to_exception(event: ErrorEvent) -> SparkError:
    """Turn an error event into the exception type that says what the caller should do."""
    code = event.code or ""
    detail = event.message
    if event.status in (401, 403) or code in ("invalid_api_key", "unauthorized"):
        return AuthError(
            f"The model endpoint rejected the API key ({detail}). "
            "Check OPENAI_API_KEY or the variable named by spark.model.apiKeyEnv."
        )
    if event.status == 429 or code in RATE_LIMIT_CODES or event.error_type in RATE_LIMIT_TYPES:
        wait = retry_after(event.headers, event.message)
        return RateLimited(f"Rate limited by the model endpoint: {detail}", wait)
    if code in MODEL_NOT_FOUND_CODES or (event.status == 404 and event.param == "model"):
        return ModelNotAvailable(None, detail)
    if code == "previous_response_not_found":
        return PreviousResponseNotFound(detail, code=code, status=event.status, param=event.param)
    if code == "unsupported_task":
        return UnsupportedTask(detail, code=code, status=event.status, param=event.param)
    return ModelRequestError(
        f"The model returned an error{f' ({code})' if code else ''}: {detail}",
        code=code or None,
        status=event.status,
        param=event.param,
    )


