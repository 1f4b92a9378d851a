"""Next-edit prediction: from the edits just made, the edit that follows, anywhere in the window.

After an edit pause (or on request) one model call gets the document's recent edit bursts and
the lines around the cursor (the *window*, ±``window_lines``) between ``<region>`` markers, and
returns the window as it should read after the next edit, or ``NO_EDIT``. The reply is anchored
to the text that was sent (a model that echoes the context around the window is read correctly),
diffed into minimal edits, and filtered: nothing outside the window, nothing that only reformats,
nothing that only undoes the user's last burst. Edits are for the document version they were
computed on; one prediction runs per document, and the next keystroke cancels it.

No LSP here: the features layer turns a :class:`Prediction` into an inline item or a
``spark/nextEdit`` answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spark_lsp.engine.actions import Region, _context_lines
from spark_lsp.engine.boundary import quoting
from spark_lsp.engine.context import hard_cap
from spark_lsp.engine.debounce import Supersession, Ticket
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edit_history import EditHistory
from spark_lsp.engine.edits import OffsetEdit
from spark_lsp.engine.next_edit_reply import (
    NO_EDIT,
    Sent,
    anchored_edits,
    drop_reason,
    last_span,
    line_start,
    refine,
)
from spark_lsp.engine.prompts import Prompt, file_heading
from spark_lsp.engine.stats import PipelineStats
from spark_lsp.engine.store import Change, DocumentStore, OpenDocument
from spark_lsp.errors import ModelRequestError, ModelUnavailable, SparkError, Superseded
from spark_lsp.model import CreateRequest
from spark_lsp.shared.privacy import holds_secret, redact_secrets
from spark_lsp.shared.prompt_format import CURSOR, TASK_NEXT_EDIT

if TYPE_CHECKING:
    from spark_lsp.engine.breaker import ModelCalls

log = logging.getLogger(__name__)

NEXT_EDIT_INSTRUCTIONS = "\n".join(
    [
        TASK_NEXT_EDIT,
        "You predict the next edit a programmer makes, from the edits they just made.",
        "The last user message lists their recent edits as diff hunks, then part of the file: "
        f"the lines between <region> and </region> are the window around the cursor ({CURSOR}).",
        "Reply with the window's new text after the one edit that most likely follows (for "
        "example: a renamed name's other uses, a new field's constructor line, a changed "
        "signature's call sites), with every other line exactly as it is. No code fences, no "
        f"markers, no explanations. If no edit clearly follows, reply exactly {NO_EDIT}.",
    ]
)
#: Reply budget per token of window (the reply is the window, slightly changed, and a
#: reasoning model spends part of the budget on reasoning first) plus slack.
OUTPUT_PER_WINDOW_TOKEN = 2.0
OUTPUT_SLACK_TOKENS = 256
MAX_OUTPUT_TOKENS = 16_384
#: Tokens of recent-edit hunks in a prompt.
HISTORY_TOKENS = 1024
#: The shortest automatic pause: a prediction rewrites the window (hundreds of tokens), so a
#: call fired inside a burst is dearer than a completion's; the typing rhythm only lengthens it.
MIN_AUTO_PAUSE_S = 0.15
#: After a failed automatic prediction, automatic ones pause this long (a model that refuses
#: the task, or is rate limited, is not asked again at typing speed).
QUIET_AFTER_FAILURE_S = 20.0


@dataclass(frozen=True, slots=True)
class NextEditOptions:
    """The settings a prediction reads."""

    model: str
    window_lines: int = 40
    context_tokens: int = 2048
    max_context_tokens: int = 128_000
    history_tokens: int = HISTORY_TOKENS
    prompt_cache_key: str | None = None
    #: Sent as ``reasoning.effort`` (None: no reasoning field).
    reasoning_effort: str | None = None
    #: Output tokens for reasoning: added to the reply budget and counted against the cap.
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class NextEditQuery:
    """Predict for ``doc`` (at its current version) with the cursor at ``cursor`` (offset)."""

    uri: str
    path: str
    language_id: str
    doc: DocumentIndex
    cursor: int
    invoked: bool = False


@dataclass(frozen=True, slots=True)
class Prediction:
    """Edits (absolute offsets, character-exact) for document ``version``."""

    uri: str
    version: int
    edits: tuple[OffsetEdit, ...]
    cursor: int

    @property
    def inserts_at_cursor(self) -> bool:
        """One pure insertion at the cursor: an ordinary inline completion can show it."""
        if len(self.edits) != 1:
            return False
        edit = self.edits[0]
        return edit.start == edit.end == self.cursor


# --- the window and the prompt -------------------------------------------------------------------


def window_lines(doc: DocumentIndex, line: int, lines: int, budget: int) -> tuple[int, int] | None:
    """Lines ``[first, end)`` around ``line``, at most ±``lines``, whose reply fits ``budget``.

    The reply is the window again, so the window gets less than half of what is left: it is
    narrowed until window + reply fit. None when even the cursor line alone does not.
    """
    reach = max(0, lines)
    while True:
        first = max(0, line - reach)
        end = min(doc.line_count, line + reach + 1)
        tokens = doc.tokens_in_lines(first, end)
        if tokens + output_tokens(tokens) <= budget:
            return first, end
        if reach == 0:
            return None
        reach //= 2


def auto_pause(rhythm_delay: float) -> float:
    """The pause before an automatic prediction, from the completions' learned delay."""
    return max(MIN_AUTO_PAUSE_S, rhythm_delay)


def output_tokens(window_tokens: int) -> int:
    """The reply budget for a window of ``window_tokens``."""
    wanted = int(window_tokens * OUTPUT_PER_WINDOW_TOKEN) + OUTPUT_SLACK_TOKENS
    return min(MAX_OUTPUT_TOKENS, wanted)


def next_edit_prompt(
    query: NextEditQuery, history: str, options: NextEditOptions
) -> tuple[Prompt, Sent, int] | None:
    """The prompt, what it showed of the file, and the reply budget; None when nothing fits.

    Within the 128k cap whatever the settings: instructions, history, context and window plus
    the reply budget stay under ``hard_cap``. A window that holds a secret is not sent at all
    (redacted, the reply would write the redaction into the file).

    The privacy boundary redacts the whole prompt; the history and the context are redacted
    here too, each on its own, because the reply is read against the context the model saw (an
    echoed line must match it) and a secret cut off at a piece's end (half a private key) must
    not take the window with it.
    """
    history = redact_secrets(history)
    doc = query.doc
    line, _ = doc.position_at(query.cursor)
    fixed = doc.counter.count(NEXT_EDIT_INSTRUCTIONS) + doc.counter.count(history) + 64
    fixed += options.reasoning_tokens
    budget = hard_cap(options.max_context_tokens, 0) - fixed
    span = window_lines(doc, line, options.window_lines, budget)
    if span is None:
        return None
    first, end = span
    region_text = doc.text_of_lines(first, end)
    doc_start = line_start(doc, first)
    shown = _with_cursor(region_text, query.cursor - doc_start)
    if holds_secret(shown):  # as it is shown: the boundary must leave the window as it is
        return None
    window_tokens = doc.tokens_in_lines(first, end)
    reply_budget = output_tokens(window_tokens)
    context_budget = max(0, min(options.context_tokens, budget - window_tokens - reply_budget))
    region = Region(first, end, doc_start, region_text)
    before, after = map(redact_secrets, _context_lines(doc, region, context_budget))
    volatile = (
        file_heading(query.path, query.language_id)
        + ("Recent edits (oldest first):\n" + history + "\n" if history else "")
        + before
        + "<region>\n"
        + shown
        + ("" if shown.endswith("\n") or not shown else "\n")
        + "</region>\n"
        + after
    )
    sent = Sent(
        before + region_text + after, len(before), len(before) + len(region_text), doc_start
    )
    return Prompt(NEXT_EDIT_INSTRUCTIONS, (), volatile, sources=(query.uri,)), sent, reply_budget


def _with_cursor(text: str, at: int) -> str:
    at = min(max(0, at), len(text))
    return text[:at] + CURSOR + text[at:]


# --- the engine ----------------------------------------------------------------------------------


@dataclass
class _Running:
    version: int
    task: asyncio.Task[Prediction | None]
    #: The cursor of an explicit request (None: a scheduled prediction, shared by any cursor).
    cursor: int | None = None


@dataclass
class _DocState:
    history: EditHistory
    ready: Prediction | None = None
    running: _Running | None = None


class NextEditEngine:
    """Per-document history, scheduling (newest wins) and the model call."""

    def __init__(
        self,
        session: Callable[[], ModelCalls | None],
        options: Callable[[], NextEditOptions],
        delay: Callable[[], float],
        *,
        timer: Callable[[], float] = time.monotonic,
        admits: Callable[[NextEditQuery], bool] = lambda query: True,
    ) -> None:
        self._session = session
        #: Asked when a scheduled prediction's pause is over: completions may have been
        #: switched off since the keystroke that scheduled it (the host's refusal).
        self._admits = admits
        self._options = options
        self._delay = delay
        self._timer = timer
        #: Scheduled predictions, referenced until done (a task nobody holds may vanish).
        self._tasks: set[asyncio.Task[Prediction | None]] = set()
        self._docs: dict[str, _DocState] = {}
        self._quiet_until = 0.0
        self.supersession = Supersession()
        self.stats = PipelineStats()
        #: Called with every prediction that has edits, when it is ready.
        self.on_ready: Callable[[Prediction], None] = lambda prediction: None

    # -- history --------------------------------------------------------------------------------

    def history(self, uri: str) -> EditHistory:
        """The edit history of ``uri`` (created on first use)."""
        return self._state(uri).history

    def _state(self, uri: str) -> _DocState:
        state = self._docs.get(uri)
        if state is None:
            state = self._docs[uri] = _DocState(EditHistory(timer=self._timer))
        return state

    def apply_changes(
        self, store: DocumentStore, uri: str, version: int, changes: list[Change]
    ) -> tuple[OpenDocument, int | None] | None:
        """Apply a document's changes to ``store``, recording each in the history.

        Each change's old lines are read before it is applied (the history needs them), so
        the changes go to the store one at a time, in order, as the store itself applies them.
        Returns the document and where the last change ended (the cursor, as far as the
        server can tell), or None when the document is not open.
        """
        doc = store.get(uri)
        if doc is None:
            return None
        history = self.history(uri)
        cursor: int | None = None
        for change_range, text in changes:
            if change_range is None:
                history.clear()  # the whole text was replaced: positions mean nothing now
                store.change(uri, version, [(None, text)])
                cursor = None
                continue
            capture = history.capture(doc.index, change_range, text)
            start = doc.index.offset_at(change_range[0], change_range[1])
            store.change(uri, version, [(change_range, text)])
            history.commit(capture, doc.index)
            cursor = start + len(text)
        self.changed(uri)
        return doc, cursor

    def changed(self, uri: str) -> None:
        """A keystroke: the running prediction and the ready one are for older text now."""
        self.supersession.cancel(uri)
        self._state(uri).ready = None

    def forget(self, uri: str) -> None:
        """The document closed."""
        self.supersession.cancel(uri)
        self._docs.pop(uri, None)

    def ready(self, uri: str, version: int) -> Prediction | None:
        """The prediction computed for ``version`` of ``uri``, if one is ready."""
        state = self._docs.get(uri)
        found = state.ready if state is not None else None
        return found if found is not None and found.version == version else None

    # -- scheduling -----------------------------------------------------------------------------

    def schedule(self, query: NextEditQuery) -> None:
        """After the typing pause, predict; a newer change cancels it at any stage."""
        if self._timer() < self._quiet_until:
            self.stats.count("quiet_skips")
            return
        ticket = self.supersession.begin(query.uri)
        task = asyncio.get_running_loop().create_task(self._after_pause(query, ticket))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        self._state(query.uri).running = _Running(query.doc.version, task)

    def _task_done(self, task: asyncio.Task[Prediction | None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("next-edit prediction failed", exc_info=task.exception())

    async def request(self, query: NextEditQuery) -> Prediction | None:
        """An explicit request: the ready or running prediction for this version, else a new one."""
        state = self._state(query.uri)
        version = query.doc.version
        if state.ready is not None and state.ready.version == version:
            return state.ready
        running = state.running
        if (
            running is not None
            and running.version == version
            and running.cursor in (None, query.cursor)
            and not running.task.done()
        ):
            return await asyncio.shield(running.task)
        # Identical requests that arrive while this one runs share its model call.
        ticket = self.supersession.begin(query.uri)
        task = asyncio.get_running_loop().create_task(self._requested(query, ticket))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)  # its awaiters get its result or error
        state.running = _Running(version, task, query.cursor)
        return await asyncio.shield(task)

    async def _requested(self, query: NextEditQuery, ticket: Ticket) -> Prediction | None:
        try:
            return await self._predict(query, ticket)
        finally:
            ticket.done()

    async def _after_pause(self, query: NextEditQuery, ticket: Ticket) -> Prediction | None:
        began = self._timer()
        try:
            if not await ticket.wait(self._delay()):
                self.stats.count("debounced")  # the next key came within the pause
                return None
            if not self._admits(query):
                self.stats.count("refused")
                return None
            waited = self._timer() - began
            return await self._predict(query, ticket, waited=waited, began=began)
        except SparkError as exc:
            self._quiet_until = self._timer() + QUIET_AFTER_FAILURE_S
            log.info(
                "next-edit prediction failed (paused for %.0f s): %s", QUIET_AFTER_FAILURE_S, exc
            )
            return None
        finally:
            ticket.done()

    async def _predict(
        self,
        query: NextEditQuery,
        ticket: Ticket,
        *,
        waited: float = 0.0,
        began: float | None = None,
    ) -> Prediction | None:
        started = self._timer() if began is None else began
        state = self._state(query.uri)
        options = self._options()
        history = state.history.render(query.doc.counter.count, options.history_tokens)
        built = next_edit_prompt(query, history, options)
        if built is None:
            self.stats.count("no_window")
            return None
        prompt, sent, reply_budget = built
        version = query.doc.version
        try:
            model_began = self._timer()
            reply = await self._ask(prompt, reply_budget, options, ticket)
            model_s = self._timer() - model_began
        except Superseded:
            self.stats.count("cancelled_calls")  # a key came while the model was answering
            return None
        if query.doc.version != version or ticket.superseded:
            self.stats.count("stale")
            return None
        prediction = self._prediction(query, reply, sent, state.history)
        self.stats.time("total", (self._timer() - started) * 1000)
        self.stats.time("overhead", max(0.0, (self._timer() - started - waited - model_s) * 1000))
        if prediction is None:
            self.stats.count("no_edit")
            return None
        self.stats.count("proposals")
        state.ready = prediction
        self.on_ready(prediction)
        return prediction

    def _prediction(
        self, query: NextEditQuery, reply: str, sent: Sent, history: EditHistory
    ) -> Prediction | None:
        began = self._timer()
        try:
            edits = anchored_edits(reply, sent, query.language_id)
        except ModelRequestError:  # an empty reply: no edit to offer
            edits = None
        if not edits:
            return None
        window = (sent.region_start, sent.region_end)
        last = last_span(history, query.doc, sent)
        kept: list[OffsetEdit] = []
        for edit in edits:
            reason = drop_reason(edit, sent.text, window, last)
            if reason is not None:
                self.stats.count("dropped_" + reason.replace("-", "_"))
                continue
            refined = refine(edit, sent.text)
            if refined is not None:
                shift = sent.doc_start - sent.region_start
                kept.append(OffsetEdit(refined.start + shift, refined.end + shift, refined.text))
        self.stats.time("postprocess", (self._timer() - began) * 1000)
        if not kept:
            return None
        return Prediction(query.uri, query.doc.version, tuple(kept), query.cursor)

    async def _ask(
        self, prompt: Prompt, reply_budget: int, options: NextEditOptions, ticket: Ticket
    ) -> str:
        session = self._session()
        if session is None:
            raise ModelUnavailable("the model session is still starting")
        request = CreateRequest(
            input_texts=prompt.input_texts,
            model=options.model,
            instructions=prompt.instructions,
            max_output_tokens=max(16, reply_budget) + options.reasoning_tokens,
            prompt_cache_key=options.prompt_cache_key,
            reasoning_effort=options.reasoning_effort,
        )
        self.stats.count("model_calls")
        began = self._timer()
        parts: list[str] = []
        try:
            with quoting(prompt.sources):
                response = session.stream(request)
            async with response:
                async for delta in response:
                    parts.append(delta)
                    if ticket.superseded:
                        raise Superseded("a newer edit replaced this prediction")
        finally:
            self.stats.time("model", (self._timer() - began) * 1000)
        if response.incomplete_reason is not None:
            # A window cut off mid-way would read as "delete the rest": never offer that.
            self.stats.count("truncated")
            return NO_EDIT
        return "".join(parts)
