"""One response's text deltas, read from whichever link the session picked.

Leaving the stream early (break, exception, task cancellation) abandons the response safely:
the link drains it (WebSocket) or cuts it (HTTP), so the next request never waits for or reads
this one's events. A chained request whose anchor is gone is resent in full once; a request
that lost its link before any text arrived is retried once on another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Protocol

from spark_lsp.errors import (
    ModelRefused,
    ModelRequestError,
    ModelTimeout,
    ModelUnavailable,
    PreviousResponseNotFound,
    ReplyTooLarge,
    ResponseDeadline,
    SparkError,
)
from spark_lsp.model.limits import reply_cap
from spark_lsp.model.link import Inflight, Link
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    RefusalDelta,
    ResponseFinished,
    ServerEvent,
    TextDelta,
    Usage,
    cut_by_budget,
)


class StreamHost(Protocol):
    """What a response stream needs from its session (``ModelSession`` provides it)."""

    @property
    def stall_timeout(self) -> float:
        """Seconds without an event after which a response counts as stalled."""

    def response_deadline(self, request: CreateRequest) -> float:
        """Seconds a whole response to ``request`` may take (events arriving or not)."""

    async def acquire(self, request: CreateRequest) -> tuple[Link, str, CreateRequest]:
        """A link and lane for ``request``, and the request as it goes on the wire."""

    def chain_missed(self, request: CreateRequest, *, by_server: bool) -> None:
        """A chained request fell back to its full prompt."""

    def note_started(self, response_id: str, link: Link, inflight: Inflight) -> None:
        """The server named a response running on ``link`` (a later request may chain it)."""

    def note_failure(self, error: SparkError, link: Link | None) -> SparkError:
        """React to a failure; returns the error to raise."""

    def note_success(self) -> None:
        """A response completed."""

    def note_retry(self) -> None:
        """A request is retried on another link."""

    def record(self, started: float, first_delta: float | None, sent: int) -> None:
        """Account one finished request."""


@dataclass(frozen=True)
class Deadline:
    """When a whole response must have ended (``started + seconds``, monotonic clock)."""

    started: float
    seconds: float

    @property
    def left(self) -> float:
        """Seconds until the deadline (negative once it passed)."""
        return self.started + self.seconds - time.monotonic()


async def next_item(inflight: Inflight, stall_s: float, deadline: Deadline) -> ServerEvent:
    """A response's next event; a delivered failure or error event is raised.

    Two clocks: nothing for ``stall_s`` is a stall (``ModelTimeout``); events that keep coming
    without the response ending (a token every few seconds, endless ``in_progress``) meet the
    whole-response deadline (``ResponseDeadline``).
    """
    left = deadline.left
    try:
        item = await asyncio.wait_for(inflight.queue.get(), max(0.0, min(stall_s, left)))
    except TimeoutError:
        if left <= stall_s:
            raise ResponseDeadline(
                f"the model's response did not finish within {deadline.seconds:.0f} s; "
                "stopped waiting"
            ) from None
        raise ModelTimeout(f"the model sent nothing for {stall_s:.0f} s") from None
    if isinstance(item, SparkError):
        raise item
    if isinstance(item, ErrorEvent):
        raise item.to_exception()
    return item


class ResponseStream:
    """Text deltas of one response; use as ``async with session.stream(req) as response``."""

    def __init__(
        self,
        session: StreamHost,
        request: CreateRequest,
        full_input: tuple[str, ...] | None,
        *,
        resend: bool = True,
    ) -> None:
        self._session = session
        self._request = request
        self._full_input = full_input
        #: Whether a link that drops before the first token gets the request once more.
        self._resend = resend
        self._gen: AsyncGenerator[str, None] | None = None
        self.response_id: str | None = None
        self.usage = Usage()
        self.status: str | None = None
        self.incomplete_reason: str | None = None
        self.chained = request.previous_response_id is not None
        #: Bytes this response's request took on the wire (after any fallback).
        self.bytes_sent = 0
        #: UTF-8 bytes of reply text received; capped by ``reply_cap`` of the budget.
        self.text_bytes = 0
        self._refusal: list[str] = []
        self._on_sent: list[Callable[[], object]] = []

    def on_sent(self, work: Callable[[], object]) -> None:
        """Run ``work`` once, right after the request is on the wire: the model's time to
        first token is idle time for this process, so work the reply will need (and the
        request does not) is done there instead of before the request goes out."""
        self._on_sent.append(work)

    @property
    def cut(self) -> bool:
        """The output budget ran out: the text ends mid-thought (offer whole lines only)."""
        return cut_by_budget(self.status, self.incomplete_reason)

    async def __aenter__(self) -> ResponseStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncGenerator[str, None]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def aclose(self) -> None:
        """Abandon the response if it is still running."""
        if self._gen is not None:
            await self._gen.aclose()

    async def text(self) -> str:
        """Read the whole response."""
        return "".join([delta async for delta in self])

    async def _run(self) -> AsyncGenerator[str, None]:
        request = self._request
        retried = False
        while True:
            try:
                async for delta in self._attempt(request):
                    yield delta
                return
            except PreviousResponseNotFound as exc:
                if self._full_input is None or request.previous_response_id is None:
                    raise
                self._session.chain_missed(request, by_server=exc.code != "local_miss")
                self.chained = False
                request = request.unchained(self._full_input)
            except ModelUnavailable as exc:
                if (
                    retried
                    or not self._resend
                    or self.status == "streaming"
                    or isinstance(exc, ModelTimeout)
                ):
                    raise
                retried = True
                self._session.note_retry()

    async def _attempt(self, request: CreateRequest) -> AsyncGenerator[str, None]:
        session = self._session
        self.response_id = None
        try:
            link, lane, wire = await session.acquire(request)
        except PreviousResponseNotFound:
            raise
        except SparkError as exc:
            raise session.note_failure(exc, None) from None
        started = time.monotonic()
        deadline = Deadline(started, session.response_deadline(request))
        inflight = await link.send(wire, lane)
        self.bytes_sent = inflight.sent
        first: float | None = None
        try:
            work, self._on_sent = self._on_sent, []
            for item in work:
                item()
            while True:
                event = await self._next(inflight, deadline)
                if self.response_id is None and inflight.response_id is not None:
                    self.response_id = inflight.response_id  # known from response.created
                    session.note_started(inflight.response_id, link, inflight)
                if isinstance(event, TextDelta):
                    self._count(event.delta, request)
                    if first is None:
                        first = time.monotonic()
                        self.status = "streaming"
                    yield event.delta
                elif isinstance(event, RefusalDelta):
                    self._count(event.delta, request)
                    self._refusal.append(event.delta)
                elif isinstance(event, ResponseFinished):
                    self._finish(event, answered=first is not None)
                    session.note_success()
                    return
        except PreviousResponseNotFound:
            raise
        except SparkError as exc:
            raise session.note_failure(exc, link) from None
        finally:
            if not inflight.finished.is_set():
                link.abandon(inflight)
            session.record(started, first, inflight.sent)

    def _count(self, delta: str, request: CreateRequest) -> None:
        """Add a delta to the reply's size; past the cap the reply is refused, not read on."""
        self.text_bytes += len(delta.encode("utf-8", "surrogatepass"))
        cap = reply_cap(request.max_output_tokens)
        if self.text_bytes > cap:
            raise ReplyTooLarge(
                f"the model's reply exceeded {cap} bytes, more than its budget of "
                f"{request.max_output_tokens or 'unlimited'} tokens can spell; stopped reading it"
            )

    async def _next(
        self, inflight: Inflight, deadline: Deadline
    ) -> TextDelta | RefusalDelta | ResponseFinished:
        while True:
            item = await next_item(inflight, self._session.stall_timeout, deadline)
            if isinstance(item, TextDelta | RefusalDelta | ResponseFinished):
                return item

    def _finish(self, event: ResponseFinished, *, answered: bool) -> None:
        self.response_id = event.response_id
        self.usage = event.usage
        self.status = event.status
        self.incomplete_reason = event.incomplete_reason
        if event.status == "failed":
            error = event.error
            if error is not None:
                raise error.to_exception()
            raise ModelRequestError("the model reported that the response failed")
        refusal = "".join(self._refusal) or event.refusal
        if refusal and not answered:
            raise ModelRefused(refusal)
