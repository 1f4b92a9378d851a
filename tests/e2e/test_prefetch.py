"""Latency features end to end: ready on accept, the first request, the leading edge."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine
from spark_lsp.shared.prompt_format import CURSOR

from .conftest import NO_PREFETCH, Editor, start_editor, stop_editor

TEXT = "def total(price, quantity):\n    \n"
FIRST = "subtotal = price"
THEN = " * quantity"


def chained_engine() -> ScriptedEngine:
    """Answers FIRST, and THEN when the prompt shows FIRST accepted before the cursor."""
    return ScriptedEngine(
        Script(replies=(Reply(text=THEN, when=FIRST + CURSOR),), default=Reply(text=FIRST))
    )


async def counters(editor: Editor) -> dict[str, int]:
    found: dict[str, int] = (await editor.stats())["pipeline"]["counters"]
    return found


def request_calls(found: dict[str, int]) -> int:
    return found.get("model_calls", 0) - found.get("prefetch_calls", 0)


async def prefetched(editor: Editor, n: int) -> None:
    """Wait until ``n`` prefetches are answered and cached (a request made while one is still
    streaming joins its call instead: a shared call, not a prefetch hit)."""
    for _ in range(200):
        found = await counters(editor)
        if found.get("prefetch_ready", 0) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no prefetch: {await counters(editor)}")


async def test_accepting_a_suggestion_is_answered_by_the_prefetch(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, chained_engine(), prefetch=True)
    try:
        await editor.wait_state("ready")
        uri = editor.open("shop.py", TEXT)
        items = await editor.inline(uri, 1, 4, invoked=True)
        assert items[0].insert_text == FIRST
        await prefetched(editor, 1)
        before = await counters(editor)
        editor.insert(uri, 1, 4, FIRST)  # the editor accepts, then asks at the new cursor
        items = await editor.inline(uri, 1, 4 + len(FIRST))
        assert [item.insert_text for item in items] == [THEN]
        after = await counters(editor)
        assert request_calls(after) == request_calls(before)
        assert after["prefetch_hits"] == 1
    finally:
        await stop_editor(editor)


@pytest.mark.parametrize("finished", [True, False], ids=["prefetch done", "prefetch streaming"])
async def test_a_prefetch_that_finds_nothing_answers_the_next_request_empty(
    tmp_path: Path, finished: bool
) -> None:
    """"Nothing follows" is an answer too: the request after the accept gets it from the
    prefetch (finished, or joined while it streams), with no second identical model call."""
    engine = ScriptedEngine(
        Script(
            replies=(Reply(text=FIRST, when=FIRST + CURSOR),),
            default=Reply(text=FIRST),
            ttft_ms=0 if finished else 400,
        )
    )  # once FIRST is accepted, the model repeats it: the filters drop the echo
    editor = await start_editor(tmp_path, engine, prefetch=True)
    try:
        await editor.wait_state("ready")
        uri = editor.open("shop.py", TEXT)
        items = await editor.inline(uri, 1, 4, invoked=True)
        assert items[0].insert_text == FIRST
        if finished:
            await prefetched(editor, 1)
        editor.insert(uri, 1, 4, FIRST)
        assert await editor.inline(uri, 1, 4 + len(FIRST)) == []
        found = await counters(editor)
        assert found["filtered_empty"] == 1 and found["prefetch_hits"] == 1, found
        assert editor.model_calls() == 2
    finally:
        await stop_editor(editor)


def generating(editor: Editor) -> list[dict[str, Any]]:
    """The generating requests the model server received (warm-ups and pings left out)."""
    return [
        m
        for m in editor.model.stats.received
        if m.get("type") == "response.create"
        and m.get("generate") is not False
        and m["input"][0]["content"][0]["text"] != "ping"
    ]


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_the_prefetch_chains_from_the_shown_suggestions_response(
    tmp_path: Path, transport: str
) -> None:
    """Over WebSocket mode the prefetch sends a short message after the suggestion's own
    response (a few hundred bytes, not the prompt again); over HTTP it sends the full prompt.
    Either way the accept is answered by it."""
    model_config = {"http_port": 0} if transport == "http" else None
    editor = await start_editor(
        tmp_path, chained_engine(), prefetch=True, model_config=model_config
    )
    try:
        await editor.wait_state("ready")
        below = "".join(f"\ndef f{i}(x):\n    return x\n" for i in range(60))
        uri = editor.open("shop.py", TEXT + below)
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == FIRST
        await prefetched(editor, 1)
        shown, prefetch = generating(editor)[-2:]
        editor.insert(uri, 1, 4, FIRST)
        items = await editor.inline(uri, 1, 4 + len(FIRST))
        assert [item.insert_text for item in items] == [THEN]
        stats = await editor.stats()
        assert stats["pipeline"]["counters"]["prefetch_hits"] == 1
        if transport == "http":
            assert "previous_response_id" not in prefetch
            assert len(prefetch["input"]) == len(shown["input"])
            return
        assert prefetch["previous_response_id"].startswith("resp_")
        assert prefetch.get("previous_response_id") != shown.get("previous_response_id")
        [message] = prefetch["input"]
        assert FIRST + CURSOR in message["content"][0]["text"]
        assert len(json.dumps(prefetch)) < 1000
        await prefetched(editor, 2)  # THEN shown from the prefetch: what follows it, chained too
        per_accepted = (await editor.stats())["pipeline"]["perAccepted"]
        assert per_accepted["prefetch_calls"] == 2 and per_accepted["model_calls"] == 3
        assert 0 < per_accepted["prefetch_input_bytes"] < 2 * 1000 < per_accepted["input_bytes"]
        third = generating(editor)[-1]
        assert third["previous_response_id"] not in (None, prefetch["previous_response_id"])
        assert stats["model"]["chainMisses"] == 0, stats["model"]
    finally:
        await stop_editor(editor)


async def test_partial_accept_types_through_then_lands_on_the_prefetch(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, chained_engine(), profile="neovim", prefetch=True)
    try:
        await editor.wait_state("ready")
        uri = editor.open("shop.py", TEXT)
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == FIRST
        await prefetched(editor, 1)
        before = await counters(editor)
        editor.insert(uri, 1, 4, "subtotal")  # accept word
        items = await editor.inline(uri, 1, 12)
        assert [item.insert_text for item in items] == [" = price"]
        editor.insert(uri, 1, 12, " = price")  # accept the rest
        items = await editor.inline(uri, 1, 4 + len(FIRST))
        assert [item.insert_text for item in items] == [THEN]
        assert request_calls(await counters(editor)) == request_calls(before)
    finally:
        await stop_editor(editor)


async def test_prefetch_can_be_turned_off(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, chained_engine(), init_options=NO_PREFETCH, prefetch=True)
    try:
        await editor.wait_state("ready")
        uri = editor.open("shop.py", TEXT)
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == FIRST
        await asyncio.sleep(0.3)
        assert editor.model_calls() == 1
        assert (await counters(editor)).get("prefetch_calls", 0) == 0
    finally:
        await stop_editor(editor)


def slow_configuration(gate: asyncio.Event) -> Any:
    """A client that answers workspace/configuration only once ``gate`` is set: until then
    the server has no model session (it starts the model with the merged settings)."""

    def install(client: LanguageClient) -> None:
        async def configuration(params: types.ConfigurationParams) -> list[Any]:
            await gate.wait()
            return [None for _ in params.items]

        # pytest-lsp registers a configuration handler of its own: replace it.
        client.protocol.fm.features[types.WORKSPACE_CONFIGURATION] = configuration

    return install


async def test_a_request_before_the_session_is_ready_waits_for_it(tmp_path: Path) -> None:
    gate = asyncio.Event()
    editor = await start_editor(
        tmp_path,
        ScriptedEngine.reply("return price * quantity"),
        on_client=slow_configuration(gate),
    )
    try:
        uri = editor.open("first.py", TEXT)
        older = asyncio.create_task(editor.inline(uri, 1, 4, invoked=True))
        newer = asyncio.create_task(editor.inline(uri, 1, 4, invoked=True))
        await asyncio.sleep(0.3)
        assert not newer.done() and editor.model_calls() == 0
        assert await asyncio.wait_for(older, 5) == []  # superseded while waiting: empty, at once
        gate.set()
        items = await asyncio.wait_for(newer, 10)
        assert [item.insert_text for item in items] == ["return price * quantity"]
        assert (await counters(editor))["waited_for_session"] == 1
    finally:
        gate.set()
        await stop_editor(editor)


async def test_first_key_after_a_pause_asks_without_debounce(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine.reply("return price * quantity"))
    try:
        await editor.wait_state("ready")
        uri = editor.open("lead.py", TEXT)
        editor.insert(uri, 1, 4, "r")
        items = await editor.inline(uri, 1, 5)
        assert items and items[0].insert_text
        stats = (await editor.stats())["pipeline"]
        assert stats["counters"]["leading_edge"] == 1
        assert "debounce" not in stats["stages"]
    finally:
        await stop_editor(editor)
