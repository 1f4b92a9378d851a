"""The inline-completion pipeline: cache → shared call → debounce → context → model → filters.

Each stage exists to avoid work the next one would do: a suggestion the user is typing through
comes from the cache, a call already streaming the right text is joined, a burst of keystrokes
is debounced into one call, and a newer request for the same document supersedes older ones at
every stage, including the model stream, which goes back to the session to drain.

Two stages exist to be ready before the user waits: the first key after a pause asks the model
at once (the leading edge, see :mod:`spark_lsp.engine.debounce`), and a suggestion that goes out
starts a prefetch of what follows it once accepted (:mod:`spark_lsp.engine.prefetch`). A request
made while the model session is still connecting waits for it (up to
:data:`SESSION_WAIT_SECONDS`, and a newer request still supersedes it) rather than answering
empty: the editor's first request, made as a file opens, is the one the user notices.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from spark_lsp.engine.anchors import Anchors
from spark_lsp.engine.boundary import quoting
from spark_lsp.engine.cache import AFTER_CHARS, BEFORE_CHARS, CacheHit, CompletionCache
from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.debounce import AdaptiveDelay, Supersession, Ticket
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.inflight import InflightCompletions, SharedCall
from spark_lsp.engine.languages import cursor_in_text, indent_unit
from spark_lsp.engine.postprocess import (
    CompletionContext,
    postprocess,
    suffix_allows_multiline,
)
from spark_lsp.engine.prefetch import AcceptTarget, Prefetcher, accepted_context
from spark_lsp.engine.prompts import Prompt
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.stats import PipelineStats
from spark_lsp.engine.stream_check import StreamCheck
from spark_lsp.errors import ModelUnavailable, SparkError, Superseded
from spark_lsp.model import CreateRequest, cut_by_budget

if TYPE_CHECKING:
    from spark_lsp.engine.breaker import ModelCalls

log = logging.getLogger(__name__)

#: How long a request made while the model session connects waits for it: a cold start of the
#: bundled model server plus a handshake, with room to spare; never longer.
SESSION_WAIT_SECONDS = 5.0
#: Lines above the cursor the filters see: echoes of them are cut, and the parser reads them
#: to know which strings, comments and blocks are open at the cursor.
CONTEXT_LINES_ABOVE = 24
#: The longest piece of one line the filters read (megabyte lines exist: minified files).
FILTER_LINE_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Text to insert at the cursor, and where it came from."""

    text: str
    source: Literal["model", "cache", "shared", "prefetch"]
    #: The model response it came from (a prefetch over WebSocket mode chains from it), and
    #: whether the text shown is that response's whole reply (not cut by the filters).
    response_id: str | None = None
    whole_reply: bool = True


@dataclass(frozen=True, slots=True)
class _Chain:
    """A request chained from an earlier response: its id, the message sent after it, and the
    tokens that request sends (instructions and the message)."""

    parent: str
    message: str
    tokens: int


@dataclass(frozen=True, slots=True)
class CompletionOptions:
    """The settings the pipeline reads on every request."""

    model: str
    max_output_tokens: int
    context_tokens: int
    multiline: bool
    prompt_cache_key: str | None = None
    prefetch: bool = True
    #: Sent as ``reasoning.effort``; ``None`` sends no reasoning field.
    reasoning_effort: str | None = None
    #: Output tokens for reasoning, added to ``max_output_tokens`` in the request (the stream
    #: is still cut as soon as the visible text is complete).
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one model call gave: the filtered text (None: nothing useful), the raw reply, its
    response id, and how long the model took (seconds)."""

    text: str | None
    raw: str
    response_id: str | None
    model_s: float


class CompletionPipeline:
    """Turns completion queries into suggestions; one instance per language server."""

    def __init__(
        self,
        session: Callable[[], ModelCalls | None],
        context: ContextBuilder,
        options: Callable[[], CompletionOptions],
        *,
        timer: Callable[[], float] = time.monotonic,
        notice: Callable[[str], None] = lambda message: None,
        admits: Callable[[CompletionQuery], bool] = lambda query: True,
    ) -> None:
        self._session = session
        #: Asked just before a prefetch goes: the user may have switched completions off
        #: since the suggestion it follows (the host's refusal, for a call nobody asked for).
        self._admits = admits
        self._notice = notice
        self._noticed_empty = False
        self._context = context
        self._options = options
        self._timer = timer
        self.stats = PipelineStats()
        self.cache = CompletionCache(timer=timer)
        self.inflight = InflightCompletions()
        self.delay = AdaptiveDelay(timer=timer)
        self.supersession = Supersession()
        self.anchors = Anchors(session)
        self.prefetcher = Prefetcher()
        self._session_arrived: asyncio.Event | None = None

    def note_edit(self, uri: str, doc: DocumentIndex | None = None) -> None:
        """Feed the typing rhythm and drop a prefetch and alternatives the edit makes useless;
        called on every document change (``doc`` is the document after it)."""
        self.delay.record_keystroke(uri)
        self.prefetcher.on_edit(uri, doc)
        self.supersession.cancel_related(uri)

    def note_session(self) -> None:
        """The model session was (re)created: wake requests waiting for one."""
        if self._session_arrived is not None:
            self._session_arrived.set()

    def forget(self, uri: str) -> None:
        """Drop cached suggestions of a closed document."""
        self.cache.invalidate(uri)
        self.prefetcher.on_edit(uri, None)

    async def complete(self, query: CompletionQuery) -> Suggestion | None:
        """Answer one query; None when there is nothing useful (or a newer query won)."""
        started = self._timer()
        self.stats.count("requests")
        before, after = _cache_key_parts(query)
        hit = self._cached(query, before, after)
        suggestion: Suggestion | None
        if hit is not None:
            suggestion = self._from_cache(hit)
            self._timed("total", started)
            if not suggestion.text:
                return None
        else:
            ticket = self.supersession.begin(query.uri)
            try:
                suggestion = await self._fresh(query, ticket, before, after, started)
            except Superseded:
                self.stats.count("superseded")
                return None
            finally:
                ticket.done()
        if suggestion is not None:
            self._offer_prefetch(query, before, after, suggestion)
        return suggestion

    def _cached(self, query: CompletionQuery, before: str, after: str) -> CacheHit | None:
        """The cache's answer here; a cached "nothing" answers automatic requests only (asked
        for explicitly, the user gets a fresh call)."""
        hit = self.cache.lookup(query.uri, before, after)
        if hit is not None and not hit.text and query.invoked:
            return None
        return hit

    def _from_cache(self, hit: CacheHit) -> Suggestion:
        self.stats.count("cache_hits")
        if hit.origin != "prefetch":
            return Suggestion(hit.text, "cache", hit.response_id)
        if not hit.typed:
            self.stats.count("prefetch_hits")
        return Suggestion(hit.text, "prefetch", hit.response_id)

    async def _fresh(
        self, query: CompletionQuery, ticket: Ticket, before: str, after: str, started: float
    ) -> Suggestion | None:
        joined = 0.0
        shared = self.inflight.join(query.uri, before, after)
        if shared is not None:
            found = await self._shared(*shared, ticket, started)
            if found is not None or ticket.superseded:
                return found
            nothing = self._cached(query, before, after)
            if nothing is not None and not nothing.text:  # the joined prefetch found nothing
                self._from_cache(nothing)
                return None
            joined = self._timer() - started
        waited, trailing = await self._debounce(query, ticket)
        waited += joined
        session, waited_session = await self._ready_session(ticket)
        waited += waited_session
        prompt, ctx = self._build(query)
        try:
            answer = await self._call(session, (query.uri, before, after), prompt, ctx, ticket)
        except Superseded:
            if trailing:
                self.stats.count("misfires")
            raise
        waited += answer.model_s
        text, raw, response_id = answer.text, answer.raw, answer.response_id
        self._timed("total", started)
        self.stats.time("overhead", max(0.0, (self._timer() - started - waited) * 1000))
        if text is None:
            return None
        whole = text == raw
        self.cache.put(query.uri, before, after, text, response_id=response_id if whole else None)
        return Suggestion(text, "model", response_id, whole_reply=whole)

    async def _shared(
        self, call: SharedCall, typed: str, ticket: Ticket, started: float
    ) -> Suggestion | None:
        """The rest of a joined call's result; None if it does not continue what was typed
        (the caller then asks on its own) or a newer request won meanwhile."""
        self.stats.count("shared_calls")
        result = await call.result_after(typed)
        self._timed("total", started)
        if result is None or ticket.superseded:
            return None
        return Suggestion(result, "shared")

    async def _debounce(self, query: CompletionQuery, ticket: Ticket) -> tuple[float, bool]:
        """Wait out the typing rhythm (automatic requests only, none on the leading edge).

        Returns the seconds waited and whether this request waited at all (a trailing one).
        """
        if query.invoked:
            return 0.0, False
        delay = self.delay.wait_for(query.uri)
        if delay <= 0:
            self.stats.count("leading_edge")
            self.delay.record_call()
            return 0.0, False
        began = self._timer()
        if not await ticket.wait(delay):
            raise Superseded("a newer request arrived while debouncing")
        # One more turn of the event loop before calling: if the loop was held up (a busy
        # machine), the keys that arrived meanwhile are read now and supersede this request
        # here, instead of one model call later. A key read without its request yet (the
        # editor sends the change first) still makes this one stale: its position points
        # into older text, and the editor asks again for the new one.
        await asyncio.sleep(0)
        if ticket.superseded or query.stale:
            raise Superseded("a newer key or request was waiting behind this one")
        self.delay.record_call()
        self._timed("debounce", began)
        return self._timer() - began, True

    async def _ready_session(self, ticket: Ticket) -> tuple[ModelCalls, float]:
        """The model session, once there is one; returns it and the seconds waited.

        A request made before the model side has started (the editor asks as the file opens,
        while settings are pulled and the bundled server starts) waits for it, bounded and
        superseded by a newer request, instead of answering empty. A session that exists but
        is still connecting is waited for by the session itself (``connect_timeout``).
        """
        session = self._session()
        if session is not None:
            return session, 0.0
        began = self._timer()
        deadline = began + SESSION_WAIT_SECONDS
        while session is None:
            if self._session_arrived is None:
                self._session_arrived = asyncio.Event()
            self._session_arrived.clear()
            arrived = await ticket.race(self._session_arrived.wait(), deadline - self._timer())
            if ticket.superseded:
                raise Superseded("a newer request arrived while the model side started")
            session = self._session()
            if session is None and not arrived:
                raise ModelUnavailable("the model session is still starting")
        self.stats.count("waited_for_session")
        self._timed("session_wait", began)
        return session, self._timer() - began

    def _offer_prefetch(
        self, query: CompletionQuery, before: str, after: str, suggestion: Suggestion
    ) -> None:
        """Start preparing what follows ``suggestion`` once accepted, unless already there."""
        options = self._options()
        text = suggestion.text
        if not options.prefetch or not text:
            return
        target = AcceptTarget(
            uri=query.uri,
            version=query.doc.version,
            line=query.line,
            column=query.doc.to_column(query.line, query.character),
            before=before,
            after=after,
            suggestion=text,
            before_chars=BEFORE_CHARS,
            parent=suggestion.response_id,
            whole_reply=suggestion.whole_reply,
        )
        if self.prefetcher.covers(target):
            return
        if self.cache.holds(query.uri, target.accepted_before, after):
            return
        self.prefetcher.start(target, lambda ticket: self._prefetch(query, target, ticket))

    async def _prefetch(self, query: CompletionQuery, target: AcceptTarget, ticket: Ticket) -> None:
        """Ask for the continuation after ``target``'s suggestion; cache it as a prefetch."""
        await asyncio.sleep(0)  # the suggestion goes to the editor first
        session = self._session()
        if ticket.superseded or query.doc.version != target.version or session is None:
            return
        if not self._admits(query):
            self.stats.count("prefetch_refused")
            return
        self.stats.count("prefetch_calls")
        options = self._options()
        prompt = self._context.completion_prompt(
            query, options.context_tokens, typed_ahead=target.suggestion
        )
        ctx = self._filter_context(query, accepted=target.suggestion)
        accepted = target.accepted_before
        chain = None
        if target.parent is not None and session.can_chain:
            message = target.accepted_message()
            counter = query.doc.counter
            tokens = counter.count(prompt.instructions) + counter.count(message)
            chain = _Chain(target.parent, message, tokens)
        sent_before = self.stats.counters["input_bytes"], self.stats.counters["input_tokens"]
        key = (query.uri, accepted, target.after)
        answer = await self._call(session, key, prompt, ctx, ticket, chain)
        counters = self.stats.counters
        self.stats.count("prefetch_input_bytes", counters["input_bytes"] - sent_before[0])
        self.stats.count("prefetch_input_tokens", counters["input_tokens"] - sent_before[1])
        text, raw, response_id = answer.text, answer.raw, answer.response_id
        if text is not None:
            parent = response_id if text == raw else None  # the next prefetch chains from it
            self.cache.put(query.uri, accepted, target.after, text, "prefetch", parent)
        else:  # "nothing follows" answers the request after the accept too
            self.cache.put_nothing(query.uri, accepted, target.after, origin="prefetch")
        self.stats.count("prefetch_ready")  # answered, whatever it said: cached for the accept

    async def variant(self, query: CompletionQuery, note: str, ticket: Ticket) -> str | None:
        """One more suggestion for an explicit request, for the user to cycle through.

        ``note`` opens the volatile message (not the instructions, which key the warm anchor)
        so that calls asked side by side differ. Not cached, joined or prefetched: the user
        asked once, and the main suggestion keeps those roles.
        """
        session, _ = await self._ready_session(ticket)
        prompt, ctx = self._build(query)
        prompt = replace(prompt, volatile=note + prompt.volatile)
        self.stats.count("alternative_calls")
        alone = SharedCall(query.uri, "", "", lambda call: None)
        raw, _ = await self._stream(session, prompt, ctx, ticket, alone)
        return self._filter(raw, ctx())

    def _build(self, query: CompletionQuery) -> tuple[Prompt, FilterContext]:
        """The prompt (the context stage), and the filters' context to judge later."""
        began = self._timer()
        options = self._options()
        prompt = self._context.completion_prompt(query, options.context_tokens)
        ctx = self._filter_context(query)
        self._timed("context", began)
        return prompt, ctx

    def _filter_context(self, query: CompletionQuery, accepted: str | None = None) -> FilterContext:
        return FilterContext(
            cursor_lines(query),
            multiline=self._options().multiline,
            accepted=accepted,
            record_ms=lambda ms: self.stats.time("filter_context", ms),
        )

    async def _call(
        self,
        session: ModelCalls,
        key: tuple[str, str, str],
        prompt: Prompt,
        ctx: FilterContext,
        ticket: Ticket,
        chain: _Chain | None = None,
    ) -> _Answer:
        """One model call, fresh or prefetch alike: announced as in flight under the text it
        answers (``key``: uri, text before, text after) so a request for that text joins it
        instead of asking again, then streamed and filtered; joiners get the filtered text,
        or the failure."""
        handle = self.inflight.start(*key)
        began = self._timer()
        try:
            raw, response_id = await self._stream(session, prompt, ctx, ticket, handle, chain)
        except BaseException as exc:
            handle.fail(exc if isinstance(exc, Exception) else Superseded("cancelled"))
            raise
        model_s = self._timer() - began
        text = self._filter(raw, ctx())
        handle.finish(text)
        return _Answer(text, raw, response_id, model_s)

    async def _stream(
        self,
        session: ModelCalls,
        prompt: Prompt,
        ctx: FilterContext,
        ticket: Ticket,
        handle: SharedCall,
        chain: _Chain | None = None,
    ) -> tuple[str, str | None]:
        """The model's raw reply and its response id; ``chain`` sends only a message after an
        earlier response, with the whole prompt as the fallback on a miss."""
        options = self._options()
        began = self._timer()
        self.stats.count("model_calls")
        check: StreamCheck | None = None
        try:
            # The privacy boundary checks what the prompt quotes; an anchor warm-up the
            # request starts runs in a task that inherits the declaration.
            with quoting(prompt.sources):
                request = self._request(prompt, options, chain)
                response = session.stream(request, full_input=prompt.input_texts)
            async with response:
                response.on_sent(ctx)  # judged while the model thinks
                async for delta in response:
                    if check is None:
                        self._timed("model_first_token", began)
                        check = StreamCheck(ctx())
                    handle.append(delta)
                    self.stats.count("model_deltas")
                    if ticket.superseded and not handle.has_waiters:
                        raise Superseded("a newer request replaced this one")
                    if check.feed(delta):
                        self.stats.count("early_stops")
                        break
                status, reason = response.status, response.incomplete_reason
                self._note_empty(check is None, status, reason, options)
                cut = cut_by_budget(response.status, response.incomplete_reason)
            self._count_input(response.chained, response.bytes_sent, prompt, chain)
            response_id = response.response_id
        except SparkError as exc:
            if not isinstance(exc, Superseded):
                self.stats.count("model_errors")
                self.delay.record_failure()
            raise
        finally:
            self._timed("model", began)
        self.delay.record_model_latency(self._timer() - began)
        text = "" if check is None else check.text
        if cut:  # the budget ran out mid-thought: offer whole lines only (``{"`` is no help)
            self.stats.count("cut_replies")
            return text[: text.rfind("\n") + 1], response_id
        return text, response_id

    def _request(
        self, prompt: Prompt, options: CompletionOptions, chain: _Chain | None
    ) -> CreateRequest:
        """The request to send: chained after ``chain``'s response (only its message), after a
        warm anchor (only the volatile part), or the whole prompt."""
        template = CreateRequest(
            input_texts=prompt.input_texts,
            model=options.model,
            instructions=prompt.instructions,
            max_output_tokens=options.max_output_tokens + options.reasoning_tokens,
            prompt_cache_key=options.prompt_cache_key,
            reasoning_effort=options.reasoning_effort,
        )
        if chain is not None:
            return replace(
                template, input_texts=(chain.message,), previous_response_id=chain.parent
            )
        return self.anchors.request_for(prompt, template)

    def _count_input(self, chained: bool, sent: int, prompt: Prompt, chain: _Chain | None) -> None:
        """What one call sent: bytes on the wire, and tokens as counted while building it (the
        whole prompt, the volatile part after an anchor, or a chained message)."""
        self.stats.count("input_bytes", sent)
        if not chained:
            tokens = prompt.tokens
        elif chain is not None:
            tokens = chain.tokens
        else:
            tokens = prompt.volatile_tokens
        self.stats.count("input_tokens", tokens)

    def _note_empty(
        self, empty: bool, status: str | None, reason: str | None, options: CompletionOptions
    ) -> None:
        """An ``incomplete`` response with no text: say why once (not on every keystroke)."""
        if not empty:
            self._noticed_empty = False
            return
        if status != "incomplete" or self._noticed_empty:
            return
        self._noticed_empty = True
        self.stats.count("empty_incomplete")
        self._notice(
            f"spark-lsp: the model stopped ({reason or 'incomplete'}) before writing any text: "
            f"its output budget of {options.max_output_tokens + options.reasoning_tokens} "
            "tokens went to reasoning. Raise spark.model.reasoningTokens "
            f"(now {options.reasoning_tokens}) or lower spark.model.reasoningEffort "
            f"(now {options.reasoning_effort!r}). Completions stay empty until then."
        )

    def _filter(self, raw: str, ctx: CompletionContext) -> str | None:
        began = self._timer()
        text = postprocess(raw, ctx)
        self._timed("postprocess", began)
        if text is None:
            self.stats.count("filtered_empty")
        return text

    def _timed(self, stage: str, began: float) -> None:
        self.stats.time(stage, (self._timer() - began) * 1000)


def _cache_key_parts(query: CompletionQuery) -> tuple[str, str]:
    """The text just before and after the cursor, read line by line (never the whole text)."""
    doc = query.doc
    line = min(query.line, doc.line_count - 1)
    column = doc.to_column(line, query.character)
    return doc.text_around(line, column, BEFORE_CHARS, AFTER_CHARS)


@dataclass(frozen=True, slots=True)
class CursorLines:
    """The lines around the cursor, copied out of the document (which moves on as keys come).

    Copying is cheap; judging them (inside a string? the file's indent step?) costs a parse and
    a lexer pass, which the filters need only once the reply comes: :meth:`judged` runs while
    the model thinks, not before the request goes out.
    """

    language_id: str
    prefix: str
    suffix: str
    prev_lines: tuple[str, ...]
    next_lines: tuple[str, ...]
    near: tuple[str, ...]
    eol: str

    def judged(self, *, multiline: bool) -> CompletionContext:
        language_id = self.language_id
        return CompletionContext(
            line_prefix=self.prefix,
            line_suffix=self.suffix,
            next_lines=self.next_lines,
            prev_lines=self.prev_lines,
            language_id=language_id,
            multiline=multiline and suffix_allows_multiline(self.suffix),
            indent_unit=indent_unit(self.near, language_id),
            eol=self.eol,
            in_text=cursor_in_text(
                language_id, "".join(p + "\n" for p in self.prev_lines) + self.prefix
            ),
        )


def cursor_lines(query: CompletionQuery) -> CursorLines:
    """Copy the lines the filters read, bounded (never the whole text)."""
    doc = query.doc
    line = min(query.line, doc.line_count - 1)
    line_text = doc.line(line)
    column = doc.to_column(query.line, query.character)
    first, last = max(0, line - CONTEXT_LINES_ABOVE), min(doc.line_count, line + 4)
    return CursorLines(
        language_id=query.language_id,
        prefix=_bounded(line_text[:column], tail=True),
        suffix=_bounded(line_text[column:]),
        prev_lines=tuple(_bounded(doc.line(i)) for i in range(first, line)),
        next_lines=tuple(_bounded(doc.line(i)) for i in range(line + 1, last)),
        near=tuple(doc.lines(max(0, line - 50), min(doc.line_count, line + 50))),
        eol="\r\n" if doc.raw_line(line).endswith("\r\n") or _crlf_above(doc, line) else "\n",
    )


class FilterContext:
    """The filters' context of one call, judged once: right after the request is on the
    wire (:meth:`ResponseStream.on_sent`), or when first read if it never went out."""

    def __init__(
        self,
        lines: CursorLines,
        *,
        multiline: bool,
        accepted: str | None = None,
        record_ms: Callable[[float], None] | None = None,
    ) -> None:
        self._lines = lines
        self._multiline = multiline
        self._accepted = accepted
        self._record_ms = record_ms
        self._ctx: CompletionContext | None = None

    def __call__(self) -> CompletionContext:
        if self._ctx is None:
            began = time.perf_counter()
            ctx = self._lines.judged(multiline=self._multiline)
            if self._accepted is not None:
                ctx = accepted_context(ctx, self._accepted)
            self._ctx = ctx
            if self._record_ms is not None:
                self._record_ms((time.perf_counter() - began) * 1000)
        return self._ctx


def _bounded(text: str, *, tail: bool = False) -> str:
    """A line the filters can afford to read: a minified or megabyte line keeps its
    indentation and the :data:`FILTER_LINE_CHARS` characters nearest the cursor."""
    if len(text) <= FILTER_LINE_CHARS:
        return text
    if not tail:
        return text[:FILTER_LINE_CHARS]
    indent = text[: len(text) - len(text.lstrip(" \t"))][:FILTER_LINE_CHARS]
    return indent + text[-FILTER_LINE_CHARS:].lstrip(" \t")


def _crlf_above(doc: DocumentIndex, line: int) -> bool:
    return line > 0 and doc.raw_line(line - 1).endswith("\r\n")
