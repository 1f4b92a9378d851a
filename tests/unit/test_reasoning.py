"""Reasoning: the field on the wire, the request budget, and an empty ``incomplete`` reply."""

from __future__ import annotations

import asyncio
import json

from spark_lsp.config import Settings, load_settings
from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.model.protocol import CreateRequest, encode_create
from tests.corpus.harness import CannedSession
from tests.counter import loaded_counter


def test_effort_is_sent_and_null_sends_no_field() -> None:
    body = json.loads(encode_create(CreateRequest(("x",), reasoning_effort="low")))
    assert body["reasoning"] == {"effort": "low"}
    assert "reasoning" not in json.loads(encode_create(CreateRequest(("x",))))


def test_settings_default_to_low_and_accept_null() -> None:
    assert Settings().model.reasoning_effort == "low"
    settings, warnings = load_settings({"spark": {"model": {"reasoningEffort": None}}}, env={})
    assert settings.model.reasoning_effort is None and not warnings
    _, warnings = load_settings({"spark": {"model": {"reasoningEffort": "lots"}}}, env={})
    assert any("reasoningEffort" in w for w in warnings)


def test_prose_languages_are_off_by_default() -> None:
    languages = Settings().completion.languages
    assert not languages["text"] and not languages["mdx"] and not languages["markdown"]


def _complete(session: CannedSession, notices: list[str]) -> str | None:
    doc = DocumentIndex("def f(x):\n    return \n", loaded_counter(), version=1)
    options = CompletionOptions("m", 128, 2048, True, reasoning_effort="low", reasoning_tokens=512)
    pipeline = CompletionPipeline(
        lambda: session,  # type: ignore[arg-type,return-value]
        ContextBuilder(),
        lambda: options,
        notice=notices.append,
    )
    query = CompletionQuery("file:///w/f.py", "f.py", "python", doc, 1, 11, True)

    async def twice() -> str | None:
        await pipeline.complete(query)
        suggestion = await pipeline.complete(query)
        return None if suggestion is None else suggestion.text

    return asyncio.run(twice())


def test_request_budget_is_visible_plus_reasoning_allowance() -> None:
    session = CannedSession("x")
    assert _complete(session, []) == "x"
    assert session.requests[0].max_output_tokens == 128 + 512
    assert session.requests[0].reasoning_effort == "low"


def test_empty_incomplete_reply_is_one_log_message_naming_the_setting() -> None:
    notices: list[str] = []
    session = CannedSession("", status="incomplete")
    assert _complete(session, notices) is None
    assert len(session.requests) == 2
    assert len(notices) == 1
    assert "spark.model.reasoningTokens" in notices[0] and "max_output_tokens" in notices[0]
