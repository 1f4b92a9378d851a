"""Next-edit prediction without a model: window, prompt, anchoring, the filters, refinement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edits import OffsetEdit, apply_edits
from spark_lsp.engine.next_edit import (
    NextEditEngine,
    NextEditOptions,
    NextEditQuery,
    Prediction,
    next_edit_prompt,
    window_lines,
)
from spark_lsp.engine.next_edit_reply import (
    NO_EDIT,
    Sent,
    Span,
    anchored_edits,
    drop_reason,
    refine,
)
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.shared.prompt_format import CURSOR, TASK_NEXT_EDIT
from tests.counter import loaded_counter

BEFORE = "import math\n\n"
WINDOW = "def area(width, h):\n    return w * h\n"
AFTER = "\n\nprint(area(2, 3))\n"
SENT = Sent(BEFORE + WINDOW + AFTER, len(BEFORE), len(BEFORE) + len(WINDOW), 100)
RENAMED = "def area(width, h):\n    return width * h\n"


def applied(edits: list[OffsetEdit] | None) -> str:
    assert edits is not None
    return apply_edits(SENT.text, edits)


# --- anchoring: what the model really writes ---------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        RENAMED,
        f"```python\n{RENAMED}```\n",
        f"<region>\n{RENAMED}</region>\n",
        BEFORE + RENAMED,  # echoes the lines above the window
        RENAMED + AFTER,  # ... or below it
        BEFORE + RENAMED + AFTER,  # ... or everything it saw
        RENAMED.replace("width *", f"width{CURSOR} *"),  # keeps the cursor marker
    ],
)
def test_reply_shapes_give_the_same_edit(reply: str) -> None:
    edits = anchored_edits(reply, SENT, "python")
    assert applied(edits) == BEFORE + RENAMED + AFTER
    assert edits is not None and all(
        SENT.region_start <= e.start and e.end <= SENT.region_end for e in edits
    )


@pytest.mark.parametrize("reply", [NO_EDIT, f"{NO_EDIT}\n", f"`{NO_EDIT}`", f"```\n{NO_EDIT}\n```"])
def test_explicit_no_edit(reply: str) -> None:
    assert anchored_edits(reply, SENT) is None


def test_unchanged_window_is_no_edit() -> None:
    assert anchored_edits(WINDOW, SENT) == []


def test_a_new_line_at_the_top_of_the_window_stays_inside_it() -> None:
    reply = "@cache\n" + WINDOW
    edits = anchored_edits(reply, SENT)
    assert edits == [OffsetEdit(SENT.region_start, SENT.region_start, "@cache\n")]


def test_a_changed_echo_of_the_context_is_outside_the_window() -> None:
    reply = "  import math\n\n" + RENAMED  # echoes the line above, re-indented
    edits = anchored_edits(reply, SENT)
    assert edits is not None
    window = (SENT.region_start, SENT.region_end)
    reasons = [drop_reason(e, SENT.text, window, None) for e in edits]
    assert reasons.count("outside-window") == 1 and reasons.count(None) == 1


# --- the filters, as a table -------------------------------------------------------------------

TEXT = "x = 1\ndef f(a, b):\n    return a+b\n"
LAST = Span(6, 19, "def f(a):\n")  # the user just added ", b" to line 2
CASES = [
    # (edit, last burst, expected reason)
    (OffsetEdit(19, 34, "    return a + b + 1\n"), LAST, None),
    (OffsetEdit(19, 34, "    return a + b\n"), LAST, "reformat-only"),
    (OffsetEdit(19, 34, "\treturn a+b\n"), None, "reformat-only"),
    (OffsetEdit(34, 34, "\n"), None, "reformat-only"),
    (OffsetEdit(6, 19, "def f(a):\n"), LAST, "undo-only"),
    (OffsetEdit(6, 19, "def f(a, c):\n"), LAST, None),
    (OffsetEdit(6, 19, "def f(a):\n"), None, None),  # no history: nothing to undo
    (OffsetEdit(0, 6, "x = 2\n"), LAST, "outside-window"),
    (OffsetEdit(19, 40, "    return a\n"), LAST, "outside-window"),
]


@pytest.mark.parametrize(("edit", "last", "reason"), CASES)
def test_filters(edit: OffsetEdit, last: Span | None, reason: str | None) -> None:
    assert drop_reason(edit, TEXT, (6, len(TEXT)), last) == reason


# --- refinement and delivery -------------------------------------------------------------------


def test_refine_trims_to_the_changed_characters() -> None:
    text = "    return w * h\n"
    edit = refine(OffsetEdit(0, len(text), "    return width * h\n"), text)
    assert edit == OffsetEdit(12, 12, "idth")
    assert refine(OffsetEdit(0, 4, "abcd"), "abcd") is None


def test_only_a_pure_insertion_at_the_cursor_is_an_inline_item() -> None:
    insert = OffsetEdit(10, 10, "x):")
    assert Prediction("u", 1, (insert,), 10).inserts_at_cursor
    assert not Prediction("u", 1, (insert,), 9).inserts_at_cursor
    assert not Prediction("u", 1, (OffsetEdit(10, 11, "x"),), 10).inserts_at_cursor
    assert not Prediction("u", 1, (insert, OffsetEdit(20, 20, "y")), 10).inserts_at_cursor


# --- the window and the prompt -----------------------------------------------------------------


def numbered(count: int) -> DocumentIndex:
    return DocumentIndex("".join(f"value_{i} = {i}\n" for i in range(count)), loaded_counter())


def test_window_is_plus_minus_lines_clamped() -> None:
    doc = numbered(200)
    assert window_lines(doc, 100, 40, 100_000) == (60, 141)
    assert window_lines(doc, 3, 40, 100_000) == (0, 44)


def test_window_narrows_to_fit_the_budget_and_gives_up_on_a_huge_line() -> None:
    doc = numbered(200)
    first, end = window_lines(doc, 100, 40, 400) or (0, 0)
    assert 100 in range(first, end) and end - first < 81
    assert doc.tokens_in_lines(first, end) * 2 < 400
    assert window_lines(doc, 100, 40, 10) is None


def test_prompt_has_history_window_and_cursor_and_respects_the_cap() -> None:
    doc = numbered(500)
    cursor = doc.offset_at(250, 3)
    query = NextEditQuery("file:///a.py", "a.py", "python", doc, cursor)
    options = NextEditOptions(model="m", window_lines=10, context_tokens=200)
    built = next_edit_prompt(query, "@@ line 251 @@\n-x\n+y\n", options)
    assert built is not None
    prompt, sent, reply_budget = built
    assert prompt.instructions.startswith(TASK_NEXT_EDIT)
    volatile = prompt.volatile
    assert "Recent edits" in volatile and "+y" in volatile
    region = volatile.split("<region>\n", 1)[1].split("</region>", 1)[0]
    assert region.startswith("value_240 = 240\n") and region.rstrip().endswith("value_260 = 260")
    assert f"val{CURSOR}ue_250" in region
    assert sent.text[sent.region_start : sent.region_end] == doc.text_of_lines(240, 261)
    assert sent.doc_start == doc.offset_at(240, 0)
    assert reply_budget > doc.tokens_in_lines(240, 261)
    small = NextEditOptions(model="m", window_lines=40, max_context_tokens=1500)
    capped = next_edit_prompt(query, "", small)
    assert capped is not None
    count = loaded_counter().count
    total = count(capped[0].instructions) + count(capped[0].volatile) + capped[2]
    assert total <= 1500


def test_a_window_holding_a_secret_is_not_sent() -> None:
    secret = 'token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"\nx = 1\n'
    doc = DocumentIndex(secret, loaded_counter())
    query = NextEditQuery("file:///a.py", "a.py", "python", doc, 0)
    assert next_edit_prompt(query, "", NextEditOptions(model="m")) is None


def test_the_edit_history_goes_into_the_prompt_redacted() -> None:
    # Redacted in the prompt (on its own: half a key in a hunk must not take the window
    # with it), no longer in EditHistory.render, which now renders the user's own text.
    history = '@@ line 1 (0 s ago) @@\n+api_key = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"\n'
    doc = DocumentIndex(SOURCE, loaded_counter())
    built = next_edit_prompt(area_query(doc), history, NextEditOptions(model="m"))
    assert built is not None
    assert "abcdefghijklmnop" not in built[0].volatile and "redacted" in built[0].volatile
    cut_key = "@@ line 9 (0 s ago) @@\n+-----BEGIN RSA PRIVATE KEY-----\n+MIIEow\n"
    built = next_edit_prompt(area_query(doc), cut_key, NextEditOptions(model="m"))
    assert built is not None and "+«redacted»\n<region>\ndef area(width" in built[0].volatile


# --- the engine with a stand-in session ----------------------------------------------------------


class FakeStream:
    def __init__(self, text: str, incomplete: str | None) -> None:
        self._text = text
        self.incomplete_reason: str | None = None
        self._incomplete = incomplete

    async def __aenter__(self) -> FakeStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas()

    async def _deltas(self) -> AsyncIterator[str]:
        for line in self._text.splitlines(keepends=True):
            await asyncio.sleep(0)
            yield line
        self.incomplete_reason = self._incomplete


class FakeSession:
    def __init__(self, text: str, incomplete: str | None = None) -> None:
        self.text = text
        self.incomplete = incomplete
        self.requests: list[CreateRequest] = []

    def stream(self, request: CreateRequest) -> FakeStream:
        self.requests.append(request)
        return FakeStream(self.text, self.incomplete)


def engine_for(session: FakeSession) -> NextEditEngine:
    return NextEditEngine(
        lambda: session,  # type: ignore[arg-type, return-value]
        lambda: NextEditOptions(model="m"),
        lambda: 0.01,
    )


SOURCE = "def area(width, h):\n    return w * h\n"


def area_query(doc: DocumentIndex) -> NextEditQuery:
    return NextEditQuery("file:///a.py", "a.py", "python", doc, doc.offset_at(0, 14))


async def test_a_reply_cut_off_by_the_output_limit_proposes_nothing() -> None:
    doc = DocumentIndex(SOURCE, loaded_counter(), version=2)
    whole = FakeSession("def area(width, h):\n    return width * h\n")
    found = await engine_for(whole).request(area_query(doc))
    assert found is not None and found.version == 2
    assert apply_edits(doc.text, list(found.edits)) == "def area(width, h):\n    return width * h\n"
    cut = FakeSession("def area(width, h):\n    return wid", incomplete="max_output_tokens")
    engine = engine_for(cut)
    assert await engine.request(area_query(doc)) is None
    assert engine.stats.counters["truncated"] == 1


async def test_a_keystroke_cancels_the_scheduled_prediction_and_the_newest_wins() -> None:
    doc = DocumentIndex(SOURCE, loaded_counter(), version=2)
    session = FakeSession("def area(width, h):\n    return width * h\n")
    engine = engine_for(session)
    ready: list[Prediction] = []
    engine.on_ready = ready.append
    engine.schedule(area_query(doc))
    engine.changed("file:///a.py")  # the next key, within the pause
    doc.apply_change((1, 16, 1, 16), "\n", version=3)
    engine.schedule(area_query(doc))
    await asyncio.sleep(0.1)
    assert len(session.requests) == 1
    assert [p.version for p in ready] == [3]
    assert engine.ready("file:///a.py", 3) is ready[0]
    assert engine.ready("file:///a.py", 2) is None
    assert engine.stats.counters["debounced"] == 1


def test_a_window_ending_in_blank_lines_keeps_them() -> None:
    window = "def f(v):\n    return v\n\n\n"
    sent = Sent(window, 0, len(window), 0)
    reply = "```python\ndef f(v):\n    return v + 1\n\n\n```"
    edits = anchored_edits(reply, sent, "python")
    assert edits is not None
    assert apply_edits(window, edits) == "def f(v):\n    return v + 1\n\n\n"
