"""Round trips and edge cases of the sans-I/O protocol module."""

from __future__ import annotations

import json

import pytest

from spark_lsp.errors import (
    AuthError,
    ModelNotAvailable,
    ModelRequestError,
    PreviousResponseNotFound,
    ProtocolError,
    RateLimited,
    UnsupportedTask,
)
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    OtherEvent,
    ResponseFinished,
    ResponseStarted,
    TextDelta,
    Usage,
    decode_event,
    encode_create,
    input_texts_of,
)
from spark_lsp.modelserver.encoder import ResponseEncoder, encode_error


def test_create_carries_only_documented_fields() -> None:
    request = CreateRequest(
        input_texts=("a", "b"),
        instructions="do it",
        max_output_tokens=4,
        prompt_cache_key="ws-1",
        previous_response_id="resp_1",
        stream_id="l0",
        generate=False,
    )
    body = json.loads(encode_create(request))
    assert set(body) == {
        "type", "model", "store", "input", "instructions", "max_output_tokens",
        "prompt_cache_key", "previous_response_id", "stream_id", "generate",
    }
    assert body["type"] == "response.create"
    assert body["store"] is False
    assert body["max_output_tokens"] == 16  # the API refuses less
    assert input_texts_of(body["input"]) == ("a", "b")
    assert body["input"][0] == {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]
    }


def test_minimal_create_omits_optional_fields() -> None:
    body = json.loads(encode_create(CreateRequest(input_texts=("x",))))
    assert set(body) == {"type", "model", "store", "input"}


def test_unchained_drops_parent_and_sends_full_input() -> None:
    chained = CreateRequest(input_texts=("tail",), previous_response_id="resp_9")
    full = chained.unchained(("head", "tail"))
    assert full.previous_response_id is None
    assert full.input_texts == ("head", "tail")


def test_encoder_events_decode_in_order_with_rising_sequence_numbers() -> None:
    encoder = ResponseEncoder(response_id="resp_1", model="m", stream_id="l3")
    frames = encoder.opening() + encoder.open_part("output_text")
    frames += [encoder.delta("he"), encoder.delta("llo")]
    frames += encoder.closing(Usage(input_tokens=5, cached_tokens=2, output_tokens=2))
    kinds = [json.loads(frame)["type"] for frame in frames]
    assert kinds == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta",
        "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed",
    ]
    numbers = [json.loads(frame)["sequence_number"] for frame in frames]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    events = [decode_event(frame) for frame in frames]
    assert events[0] == ResponseStarted("resp_1", "l3", 0)
    assert [e.delta for e in events if isinstance(e, TextDelta)] == ["he", "llo"]
    final = events[-1]
    assert isinstance(final, ResponseFinished)
    assert final.status == "completed" and final.response_id == "resp_1"
    assert final.usage == Usage(5, 2, 2) and final.stream_id == "l3"
    assert all(e.stream_id == "l3" for e in events)


def test_incomplete_and_failed_terminals() -> None:
    encoder = ResponseEncoder(response_id="resp_2", model="m")
    frames = encoder.closing(Usage(), incomplete_reason="max_output_tokens")
    final = decode_event(frames[-1])
    assert isinstance(final, ResponseFinished)
    assert final.status == "incomplete" and final.incomplete_reason == "max_output_tokens"
    failed = decode_event(encoder.failed("server_error", "boom"))
    assert isinstance(failed, ResponseFinished) and failed.status == "failed"
    assert failed.error is not None and failed.error.code == "server_error"


def test_response_done_is_terminal() -> None:
    event = decode_event('{"type":"response.done","response":{"id":"r","status":"completed"}}')
    assert isinstance(event, ResponseFinished) and event.status == "completed"


@pytest.mark.parametrize(
    "frame",
    [
        encode_error("previous_response_not_found", "gone", param="previous_response_id",
                     stream_id="l1"),
        json.dumps({"type": "error", "code": "previous_response_not_found", "message": "gone",
                    "param": "previous_response_id", "stream_id": "l1"}),
    ],
    ids=["nested", "flat"],
)
def test_error_events_nested_and_flat(frame: str) -> None:
    event = decode_event(frame)
    assert isinstance(event, ErrorEvent)
    assert event.code == "previous_response_not_found"
    assert event.param == "previous_response_id" and event.stream_id == "l1"
    assert isinstance(event.to_exception(), PreviousResponseNotFound)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "invalid_api_key", AuthError),
        (429, "rate_limit_exceeded", RateLimited),
        (400, "unsupported_task", UnsupportedTask),
        (500, "server_error", ModelRequestError),
    ],
)
def test_error_mapping(status: int, code: str, expected: type[Exception]) -> None:
    event = decode_event(encode_error(code, "msg", status=status))
    assert isinstance(event, ErrorEvent)
    assert isinstance(event.to_exception(), expected)


def test_rate_limit_retry_after_header() -> None:
    event = decode_event(
        encode_error("rate_limit_exceeded", "slow", status=429, headers={"retry-after": "2.5"})
    )
    assert isinstance(event, ErrorEvent)
    error = event.to_exception()
    assert isinstance(error, RateLimited) and error.retry_after == 2.5


def test_auth_message_never_contains_a_key() -> None:
    event = decode_event(encode_error("invalid_api_key", "Incorrect key", status=401))
    assert isinstance(event, ErrorEvent)
    assert "sk-" not in str(event.to_exception())


@pytest.mark.parametrize(
    "frame", ["not json", "[]", '{"no_type": 1}', '{"type": 5}',
              '{"type": "response.output_text.delta"}', '{"type": "response.created"}',
              b"\xff\xfe"],
)
def test_malformed_frames_raise_protocol_error(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_event(frame)


def test_unknown_events_are_kept_as_other() -> None:
    event = decode_event('{"type":"codex.rate_limits","stream_id":"l0","sequence_number":3}')
    assert event == OtherEvent("codex.rate_limits", "l0", 3)


def test_input_shorthand_and_bad_items() -> None:
    assert input_texts_of("hello") == ("hello",)
    assert input_texts_of([{"role": "user", "content": "x"}]) == ("x",)
    with pytest.raises(ProtocolError):
        input_texts_of(42)
    with pytest.raises(ProtocolError):
        input_texts_of([1])


def test_lone_surrogates_become_replacement_characters() -> None:
    """An editor may send half a surrogate pair; the frame must still encode as UTF-8."""
    frame = encode_create(CreateRequest(input_texts=("a\ud800b", "\ud83d\ude00"), model="m",
                                        instructions="i\udc00"))
    sent = json.loads(frame.encode("utf-8"))
    assert sent["input"][0]["content"][0]["text"] == "a\ufffdb"
    assert sent["input"][1]["content"][0]["text"] == "\U0001f600"  # a real pair survives
    assert sent["instructions"] == "i\ufffd"


RATE_LIMIT = {"code": "rate_limit_exceeded", "message": "slow"}


@pytest.mark.parametrize(
    "frame",
    [
        # openai-python's shape: headers inside the nested error
        {"type": "error", "status": 429, "error": {**RATE_LIMIT, "headers": {"Retry-After": "7"}}},
        # the Codex CLI's shape: headers beside the error
        {"type": "error", "status": 429, "error": RATE_LIMIT, "headers": {"retry-after": "7"}},
        # the flat SSE shape, in milliseconds
        {"type": "error", **RATE_LIMIT, "headers": {"retry-after-ms": "7000"}},
    ],
)
def test_retry_after_is_read_from_every_error_shape(frame: dict[str, object]) -> None:
    error = decode_event(json.dumps(frame))
    assert isinstance(error, ErrorEvent)
    exc = error.to_exception()
    assert isinstance(exc, RateLimited) and exc.retry_after == 7.0


def test_model_not_found_names_the_setting_to_change() -> None:
    message = "The model `gpt-x` does not exist or you do not have access to it."
    error = decode_event(encode_error("model_not_found", message, status=404, param="model"))
    assert isinstance(error, ErrorEvent)
    exc = error.to_exception()
    assert isinstance(exc, ModelNotAvailable)
    assert str(exc.named("gpt-x")).startswith(
        "model 'gpt-x' is not available to this key: set spark.model.name"
    )
