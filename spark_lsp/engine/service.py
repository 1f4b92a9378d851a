"""The one door to the model: every use case, with every check, as plain data in and out.

Completion, listing code actions, resolving one, editing by instruction and predicting the next
edit are all here, and so is the one refusal every model call passes first (:meth:`SparkService
.refusal`): the document is not open, its file is excluded by the privacy policy, completions
are switched off (the toggle, or ``spark.completion.trigger: manual``) and nobody asked, they
are off for its language, or the position lies outside it. Calls the user did not ask for
(prefetches, scheduled next-edit predictions) pass it again when they are about to go, since
the answer may have changed meanwhile. The language server's handlers, ``spark-lsp complete``
and the benchmarks are callers; none of them builds a model request itself, so none of them can
forget a check. Past the refusal, every request leaves through the privacy boundary
(:mod:`spark_lsp.engine.boundary`): whatever a stage put in it, nothing of an excluded file goes
out and every text is redacted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from spark_lsp.config import Settings, language_enabled
from spark_lsp.engine.acceptance import AcceptanceTracker
from spark_lsp.engine.actions import ActionEngine, custom_offers, list_actions, syntax_error
from spark_lsp.engine.alternatives import distinct, more_suggestions
from spark_lsp.engine.boundary import bounded
from spark_lsp.engine.breaker import CircuitBreaker, CircuitOpen, guarded
from spark_lsp.engine.context import ContextBuilder, ContextOptions
from spark_lsp.engine.custom_actions import CustomAction, custom_actions
from spark_lsp.engine.events import NoEvents, ServiceEvents
from spark_lsp.engine.grammars import language_for
from spark_lsp.engine.messages import (
    EXCLUDED_NOTE,
    ActionSpec,
    CompletionRequest,
    CompletionResult,
    DiagnosticInfo,
    EditResult,
    LineEdit,
    OfferedAction,
    Refused,
    Selection,
    StaleEdit,
    StaleVersion,
)
from spark_lsp.engine.next_edit import (
    NextEditEngine,
    NextEditOptions,
    NextEditQuery,
    Prediction,
    auto_pause,
)
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.resolutions import Resolutions
from spark_lsp.engine.sources.project import ProjectContext
from spark_lsp.engine.store import Change, DocumentStore, OpenDocument
from spark_lsp.engine.words import word_start
from spark_lsp.errors import SparkError, Superseded
from spark_lsp.shared.privacy import ExclusionPolicy

if TYPE_CHECKING:
    from spark_lsp.model import ModelSession

log = logging.getLogger(__name__)
#: The word that ends at the cursor (identifier characters of any script).


@dataclass(frozen=True, slots=True)
class ModelUse:
    """A model call about to be made: what for, where, and whether the user asked for it."""

    kind: Literal["completion", "next edit", "action"]
    uri: str
    line: int
    character: int
    #: Asked for by the user (a trigger key, a picked action); False for what the server
    #: starts on its own: automatic ghost text, prefetches, scheduled next-edit predictions.
    invoked: bool
    #: The last line of an action's range (its first is ``line``).
    end_line: int | None = None


class SparkService:
    """The use cases over the open documents, the settings and the model session."""

    def __init__(
        self,
        store: DocumentStore,
        settings: Callable[[], Settings],
        session: Callable[[], ModelSession | None],
        events: ServiceEvents | None = None,
        *,
        timer: Callable[[], float] = time.monotonic,
        prefetch: bool = True,
    ) -> None:
        self.store = store
        self._settings = settings
        # A host that exits after one answer (``complete``, ``doctor``) has no accept to
        # prepare for: ``prefetch=False`` spares it the call, whatever the setting says.
        self._prefetch = prefetch
        self._events: ServiceEvents = events if events is not None else NoEvents()
        self.completions_on = True
        self.acceptance = AcceptanceTracker()
        self.policy = self._policy()
        self.custom_actions: list[CustomAction] = self._custom_actions()
        #: Every model call passes the breaker: a failing endpoint is left alone for a while.
        self.breaker = CircuitBreaker(self._breaker_changed)
        self._unreachable = False
        # ...and, before it, the privacy boundary: nothing excluded, everything redacted.
        calls = bounded(guarded(session, self.breaker), lambda: self.policy)
        self._resolutions: Resolutions[EditResult] = Resolutions(
            forget=(Refused, StaleEdit, CircuitOpen, Superseded)
        )
        self.project = ProjectContext(store, lambda path: self.policy.reason(path))
        self.context = ContextBuilder(
            store, lambda: self.policy, self._context_options, self.project
        )
        self.pipeline = CompletionPipeline(
            calls,
            self.context,
            self._completion_options,
            timer=timer,
            notice=lambda message: self._events.notice(message),
            admits=lambda query: self._admits("completion", query.uri, query.line),
        )
        self.pipeline.delay.fixed = self._fixed_delay()
        self.actions = ActionEngine(
            calls,
            lambda: self._settings().model.name,
            lambda: self._settings().context.edit_tokens,
            reasoning=lambda: (
                self._settings().model.reasoning_effort,
                self._settings().model.reasoning_tokens,
            ),
        )
        self._editing: set[str] = set()
        self._syntax: dict[str, tuple[int, DiagnosticInfo | None]] = {}
        self.next_edits = NextEditEngine(
            calls,
            self._next_edit_options,
            self._next_edit_delay,
            timer=timer,
            admits=lambda query: self._admits(
                "next edit", query.uri, query.doc.position_at(query.cursor)[0]
            ),
        )
        self.next_edits.on_ready = self._next_edit_ready
        #: Whether the client shows next-edit proposals (it opted in); set by the host.
        self.next_edit_client: Callable[[], bool] = lambda: False
        #: Called with each ready proposal the client should hear about (not a plain
        #: insertion at the cursor, which the completion calls offer); set by the host.
        self.on_next_edit: Callable[[EditResult], None] = lambda result: None

    # -- settings and documents ---------------------------------------------------------------

    def settings_changed(self, *, model_changed: bool) -> None:
        """Adopt new settings: a fresh privacy policy; a new model invalidates cached text."""
        self.policy = self._policy()
        self.custom_actions = self._custom_actions()
        self.pipeline.delay.fixed = self._fixed_delay()
        if model_changed:
            self.pipeline.cache.clear()
            self.pipeline.prefetcher.cancel()

    def open(self, uri: str, language_id: str, text: str, version: int) -> None:
        """A document was opened; its language's parser is loaded now (once per language),
        not by the first completion in it, which would wait 5-20 ms for it."""
        self.store.open(uri, language_id, text, version)
        language_for(language_id)

    def change(self, uri: str, version: int, changes: list[Change]) -> bool:
        """A document changed; False when it is not open.

        For a client that shows next edits, the change also goes into the document's edit
        history and a prediction is scheduled for after the typing pause.
        """
        if not self._next_edit_on():
            changed = self.store.change(uri, version, changes)
            if changed is None:
                return False
            self.pipeline.note_edit(uri, changed.index)
            return True
        applied = self.next_edits.apply_changes(self.store, uri, version, changes)
        if applied is None:
            return False
        doc, cursor = applied
        self.pipeline.note_edit(uri, doc.index)
        if cursor is not None:
            line, character = doc.index.position_at(cursor)
            if self.refusal(ModelUse("next edit", uri, line, character, invoked=False)) is None:
                self.next_edits.schedule(_next_edit_query(doc, cursor, invoked=False))
        return True

    def session_changed(self) -> None:
        """The model session was (re)created: requests waiting for one can go on, and the
        new endpoint gets a fresh breaker."""
        self.breaker.reset()
        self.pipeline.note_session()

    def session_state(self, state: str) -> None:
        """The model session's state changed. A connection made after the endpoint could not
        be reached says it is back: the breaker tries it at once, not after its back-off (a
        connection that drops requests proves nothing, so only ``offline`` → ``ready``)."""
        if state == "offline":
            self._unreachable = True
        elif state == "ready" and self._unreachable:
            self._unreachable = False
            self.breaker.endpoint_back()

    def _breaker_changed(self, detail: str | None, announce: bool) -> None:
        self._events.paused(detail, announce)

    def close(self, uri: str) -> None:
        """A document was closed: forget everything kept for it."""
        self.store.close(uri)
        self.pipeline.forget(uri)
        self.context.forget(uri)
        self.project.note_closed(uri)
        self._syntax.pop(uri, None)
        self.next_edits.forget(uri)

    def excluded(self, uri: str) -> str | None:
        """Why the document's file must not reach the model, or None (the context stage asks
        the same question of every other document it might quote)."""
        return self.context.excluded(uri)

    @property
    def prompt_cache_key(self) -> str:
        """Stable per workspace, so the provider routes our prompts to a warm cache."""
        root = str(self.store.root or "")
        return "spark-lsp-" + hashlib.sha256(root.encode()).hexdigest()[:16]

    # -- completion ---------------------------------------------------------------------------

    async def suggestions(self, request: CompletionRequest) -> list[str]:
        """What the editor shows at a position: the answer :meth:`complete` gives without a
        model call, else the completions to cycle through (:meth:`_alternatives`)."""
        settled = self._settled(request)
        if settled is not None:
            return [] if settled.text is None else [settled.text]
        return await self._alternatives(request)

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """One suggestion at a position, after every check; never raises a SparkError."""
        settled = self._settled(request)
        return settled if settled is not None else await self._complete(request)

    def _settled(self, request: CompletionRequest) -> CompletionResult | None:
        """The answer that needs no model call (None: ask the model): a refusal, or a ready
        next-edit prediction that only inserts at this position. Ghost text and completion
        items alike show such a prediction: it is no next-edit proposal (not announced)."""
        refused = self.completion_refusal(request)
        if refused is not None:
            return CompletionResult(None, refused=refused)
        text = self._next_edit_insertion(request)
        return None if text is None else CompletionResult(text)

    async def _complete(self, request: CompletionRequest) -> CompletionResult:
        query = self._query(request)
        self._events.busy(True)
        try:
            suggestion = await self.pipeline.complete(query)
        except SparkError as exc:
            if not isinstance(exc, CircuitOpen):  # the breaker said it once, when it opened
                self._events.error(exc)
            return CompletionResult(None, failed=str(exc))
        finally:
            self._events.busy(False)
        samples = self.pipeline.stats.stages.get("model")
        if samples:
            self._events.latency(samples[-1])
        return CompletionResult(suggestion.text if suggestion is not None else None)

    def word_before(self, uri: str, line: int, character: int) -> tuple[str, int]:
        """The word (identifier characters) that ends at a position, and where it starts (in
        the position encoding): what completion menus filter items by."""
        doc = self.store.get(uri)
        if doc is None or not 0 <= line < doc.index.line_count:
            return "", character
        index = doc.index
        column = index.to_column(line, character)
        text = index.line(line)
        start = word_start(text, column)
        return text[start:column], index.from_column(line, start)

    async def _alternatives(self, request: CompletionRequest) -> list[str]:
        """The suggestions to cycle through: the main one first, then, for an explicit request
        only, up to ``spark.completion.alternatives - 1`` more asked at the same time, without
        repeats. An automatic request makes the one call ``complete`` makes."""
        extra = self._settings().completion.alternatives - 1
        if not request.invoked or extra < 1:
            main = await self._complete(request)
            return [] if main.text is None else [main.text]
        query = self._query(request)
        self._events.busy(True)  # the answer waits for the slowest of them
        try:
            main, more = await asyncio.gather(
                self._complete(request), more_suggestions(self.pipeline, query, extra)
            )
        finally:
            self._events.busy(False)
        if query.stale:  # typed on meanwhile: these fit the old text only
            return []
        return distinct([main.text, *more])

    def _query(self, request: CompletionRequest) -> CompletionQuery:
        doc = self.store.get(request.uri)
        assert doc is not None  # callers check completion_refusal first
        return CompletionQuery(
            doc.uri,
            doc.path,
            doc.language_id,
            doc.index,
            request.line,
            request.character,
            request.invoked,
        )

    def completion_refusal(self, request: CompletionRequest) -> str | None:
        """Why no model call may be made for ``request`` (None: go ahead)."""
        use = ModelUse(
            "completion", request.uri, request.line, request.character, request.invoked
        )
        return self.refusal(use)

    def refusal(self, use: ModelUse) -> str | None:
        """Why the model must not be called for ``use`` (None: go ahead): the one check every
        model call passes. An excluded document is also reported to the host (status bar)."""
        doc = self.store.get(use.uri)
        if doc is None:
            return "the document is not open"
        excluded = self.excluded(use.uri)
        self._events.excluded(excluded)
        if excluded is not None:
            return EXCLUDED_NOTE + excluded
        settings = self._settings()
        if not use.invoked and not self.completions_on:
            return "completions are off"
        if not use.invoked and settings.completion.trigger == "manual":
            return "completions run only when asked (spark.completion.trigger is manual)"
        if use.kind != "action" and not language_enabled(settings, doc.language_id):
            return f"completions are off for {doc.language_id}"
        if use.kind == "next edit" and not settings.next_edit.enabled:
            return "next-edit suggestions are off (spark.nextEdit.enabled)"
        return _outside(doc, use)

    def _admits(self, kind: Literal["completion", "next edit"], uri: str, line: int) -> bool:
        """Whether a call the server started on its own may still go: the refusal, asked
        again just before it does (the user may have switched completions off meanwhile)."""
        return self.refusal(ModelUse(kind, uri, line, 0, invoked=False)) is None

    # -- code actions and edits ---------------------------------------------------------------

    def list_actions(
        self, uri: str, selection: Selection, diagnostics: list[DiagnosticInfo]
    ) -> list[OfferedAction]:
        """The actions to offer (no model call); none for excluded or unknown documents."""
        doc = self.store.get(uri)
        if doc is None or not self._settings().actions.enabled:
            return []
        if self.refusal(ModelUse("action", uri, selection[0], selection[1], True)) is not None:
            return []
        syntax = self.syntax_error(uri)
        offered = list_actions(doc.index, uri, selection, diagnostics, syntax)
        custom = custom_offers(
            doc.index, uri, doc.language_id, selection, diagnostics, self.custom_actions
        )
        return offered + custom

    def syntax_error(self, uri: str) -> DiagnosticInfo | None:
        """The document's first syntax error, remembered per version (parsing is O(text))."""
        doc = self.store.get(uri)
        if doc is None:
            return None
        version = doc.index.version
        cached = self._syntax.get(uri)
        if cached is None or cached[0] != version:
            cached = (version, syntax_error(doc.index, doc.language_id))
            self._syntax[uri] = cached
        return cached[1]

    async def edit(self, uri: str, selection: Selection, instruction: str) -> EditResult:
        """Rewrite a selection by a user's instruction."""
        instruction = instruction.strip()
        if not instruction:
            raise Refused("the edit instruction is empty")
        use = ModelUse("action", uri, selection[0], selection[1], True, selection[2])
        doc = self._admitted(use)
        spec = ActionSpec("edit", uri, doc.index.version, *selection, instruction=instruction)
        return await self.resolve_action(spec)

    async def resolve_action(self, spec: ActionSpec) -> EditResult:
        """Compute a listed action's edit; raises ``SparkError`` with a user-facing message.

        One model call per pick: the same action asked for again while it is computed shares
        that computation, and one that failed moments ago fails again at once
        (``Remembered``) instead of calling the model again.
        """
        return await self._resolutions.run(spec, lambda: self._resolve(spec))

    async def _resolve(self, spec: ActionSpec) -> EditResult:
        use = ModelUse(
            "action", spec.uri, spec.start_line, spec.start_character, True, spec.end_line
        )
        doc = self._admitted(use)
        if spec.kind == "custom":
            spec = self._with_template(spec)
        if spec.uri in self._editing:
            raise Refused("an edit of this file is still being computed; try again when it ends")
        self._editing.add(spec.uri)
        self._events.busy(True)
        try:
            computed = await self.actions.compute(spec, doc.index, doc.path, doc.language_id)
        finally:
            self._editing.discard(spec.uri)
            self._events.busy(False)
        if not computed.edits:
            raise SparkError("the model suggested no change here")
        return EditResult(
            spec.uri,
            computed.version,
            tuple(_line_edit(doc, e.start, e.end, e.text) for e in computed.edits),
        )

    def _with_template(self, spec: ActionSpec) -> ActionSpec:
        """A listed custom action with its template (the listing carries only its key)."""
        for action in self.custom_actions:
            if action.key == spec.custom:
                return replace(spec, instruction=action.instruction)
        raise Refused("this custom action is no longer in spark.actions.custom; list them again")

    def _admitted(self, use: ModelUse) -> OpenDocument:
        """The document ``use`` is about, after the refusal; raises ``Refused`` saying why not."""
        refused = self.refusal(use)
        doc = self.store.get(use.uri)
        if refused is not None or doc is None:
            raise Refused(refused or "the document is not open")
        return doc

    # -- next edit ----------------------------------------------------------------------------

    async def next_edit(
        self, uri: str, version: int | None, line: int, character: int
    ) -> EditResult | None:
        """The next edit at a position, for the document's current text (None: nothing).

        Raises ``StaleVersion`` when ``version`` is not the current one (edits are computed
        only for the text the server holds), and other ``SparkError``s from the model.
        """
        doc = self.store.get(uri)
        if doc is not None and version is not None and version != doc.index.version:
            raise StaleVersion(
                f"version {version} is not the current version {doc.index.version}; "
                "edits are only computed for the current text"
            )
        if doc is None or self.refusal(ModelUse("next edit", uri, line, character, True)):
            return None
        cursor = doc.index.offset_at(line, character)
        found = await self.next_edits.request(_next_edit_query(doc, cursor, invoked=True))
        if found is None or doc.index.version != found.version:
            return None
        return _edit_result(doc, found)

    def _next_edit_insertion(self, request: CompletionRequest) -> str | None:
        """A ready prediction that only inserts at this position: the text to insert."""
        doc = self.store.get(request.uri)
        if doc is None:
            return None
        found = self.next_edits.ready(request.uri, doc.index.version)
        if found is None or not found.inserts_at_cursor:
            return None
        if doc.index.offset_at(request.line, request.character) != found.cursor:
            return None
        return found.edits[0].text

    def _next_edit_on(self) -> bool:
        return self._settings().next_edit.enabled and self.next_edit_client()

    def _next_edit_ready(self, prediction: Prediction) -> None:
        if not self._next_edit_on() or prediction.inserts_at_cursor:
            return
        doc = self.store.get(prediction.uri)
        if doc is not None and doc.index.version == prediction.version:
            self.on_next_edit(_edit_result(doc, prediction))

    # -- the settings each stage reads ----------------------------------------------------------

    def _next_edit_options(self) -> NextEditOptions:
        settings = self._settings()
        return NextEditOptions(
            model=settings.model.name,
            window_lines=settings.next_edit.window_lines,
            context_tokens=settings.context.edit_tokens,
            max_context_tokens=settings.context.max_tokens,
            prompt_cache_key=self.prompt_cache_key,
            reasoning_effort=settings.model.reasoning_effort,
            reasoning_tokens=settings.model.reasoning_tokens,
        )

    def _next_edit_delay(self) -> float:
        """The pause before a prediction: the setting, else the learned typing rhythm."""
        debounce_ms = self._settings().next_edit.debounce_ms
        if debounce_ms is None:
            return auto_pause(self.pipeline.delay.delay())
        return debounce_ms / 1000

    def _completion_options(self) -> CompletionOptions:
        settings = self._settings()
        completion = settings.completion
        return CompletionOptions(
            model=settings.model.name,
            max_output_tokens=completion.max_output_tokens,
            context_tokens=min(completion.context_tokens, settings.context.max_tokens),
            multiline=completion.multiline,
            prompt_cache_key=self.prompt_cache_key,
            prefetch=self._prefetch and completion.prefetch_on_accept,
            reasoning_effort=settings.model.reasoning_effort,
            reasoning_tokens=settings.model.reasoning_tokens,
        )

    def _context_options(self) -> ContextOptions:
        settings = self._settings()
        return ContextOptions(
            max_tokens=settings.context.max_tokens,
            max_output_tokens=settings.completion.max_output_tokens
            + settings.model.reasoning_tokens,
            cross_file=settings.context.cross_file,
            project=settings.context.project,
            project_tokens=settings.context.project_tokens,
        )

    def _custom_actions(self) -> list[CustomAction]:
        """The configured custom actions, capped; what was left out is said once, here."""
        actions, warnings = custom_actions(self._settings().actions.custom)
        for warning in warnings:
            self._events.notice(f"spark-lsp settings: {warning}")
        return actions

    def _policy(self) -> ExclusionPolicy:
        return ExclusionPolicy(self.store.roots, self._settings().context.exclude)

    def _fixed_delay(self) -> float | None:
        debounce_ms = self._settings().completion.debounce_ms
        return None if debounce_ms is None else debounce_ms / 1000


def _outside(doc: OpenDocument, use: ModelUse) -> str | None:
    """Why ``use``'s position (or an action's range) does not lie in ``doc``, or None."""
    line_count = doc.index.line_count
    if use.end_line is not None:
        if not 0 <= use.line <= use.end_line < line_count:
            return "the range is outside the document"
        return None
    if not 0 <= use.line < line_count or use.character < 0:
        return "the position is outside the document"
    return None


def _line_edit(doc: OpenDocument, start: int, end: int, text: str) -> LineEdit:
    start_line, start_character = doc.index.position_at(start)
    end_line, end_character = doc.index.position_at(end)
    return LineEdit(start_line, start_character, end_line, end_character, text)


def _next_edit_query(doc: OpenDocument, cursor: int, *, invoked: bool) -> NextEditQuery:
    return NextEditQuery(doc.uri, doc.path, doc.language_id, doc.index, cursor, invoked)


def _edit_result(doc: OpenDocument, prediction: Prediction) -> EditResult:
    edits = tuple(_line_edit(doc, e.start, e.end, e.text) for e in prediction.edits)
    return EditResult(prediction.uri, prediction.version, edits)
