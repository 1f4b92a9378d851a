"""A circuit breaker on the model endpoint: stop calling one that keeps failing, and say so once.

An endpoint that drops every connection or answers 5xx makes each model call fail after a
reconnect; editors ask again on every keystroke and on every pick of an action, so a broken
endpoint used to cost hundreds of calls, reconnects and identical messages a minute. After
``threshold`` failures in a row the breaker opens: calls fail at once with :class:`CircuitOpen`
for a back-off period (doubling on each failed trial, up to a cap), then one trial call is let
through; a success closes it. Opening and closing are reported through ``on_change`` once each,
never per refused call.

Every model call of the engine passes :class:`GuardedSession`, the one place the breaker is
checked and fed: completions, next edits, code actions, prefetches and warm-ups alike.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from spark_lsp.errors import (
    ModelRequestError,
    ModelUnavailable,
    ProtocolError,
    RateLimited,
    SparkError,
)

if TYPE_CHECKING:
    from spark_lsp.model import AnchorState, CreateRequest, ModelSession, ResponseStream

#: Failures in a row that open the breaker.
THRESHOLD = 3
#: The first back-off; each failed trial doubles it, up to ``MAX_COOLDOWN_S``.
COOLDOWN_S = 20.0
MAX_COOLDOWN_S = 300.0

_Inner = TypeVar("_Inner")
_Wrapper = TypeVar("_Wrapper")


class CircuitOpen(ModelUnavailable):
    """The breaker refused a call without making it (the reason was said once already)."""


def counts_as_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the endpoint is failing (not the request, the key or the user).

    Dropped connections, timeouts, protocol garbage and 5xx answers count. A rate limit has
    its own cool-down in the session; a refused key, a 4xx, a superseded or cancelled request
    say nothing about the endpoint's health.
    """
    if isinstance(exc, CircuitOpen | RateLimited):
        return False
    if isinstance(exc, ModelUnavailable | ProtocolError):
        return True
    return isinstance(exc, ModelRequestError) and exc.transient


class CircuitBreaker:
    """Closed → (``threshold`` failures) → open → (back-off) → one trial → closed or open.

    ``on_change(detail, announce)`` hears every change the status should show: ``detail`` when
    calls pause, None when they may go again; ``announce`` is True only for the first pause of
    an outage (what the log says once), not for the re-pauses of failed trials.
    """

    def __init__(
        self,
        on_change: Callable[[str | None, bool], None] = lambda detail, announce: None,
        *,
        threshold: int = THRESHOLD,
        cooldown_s: float = COOLDOWN_S,
        max_cooldown_s: float = MAX_COOLDOWN_S,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_change = on_change
        self._threshold = threshold
        self._first_cooldown = cooldown_s
        self._max_cooldown = max_cooldown_s
        self._timer = timer
        self._failures = 0
        self._cooldown = cooldown_s
        self._open_until: float | None = None
        self._trial = False
        self._last = ""
        self._showing_pause = False
        #: Calls refused while open (shown in the stats, never one message each).
        self.refused = 0

    @property
    def is_open(self) -> bool:
        """True from opening until a trial call succeeds."""
        return self._open_until is not None

    def check(self) -> None:
        """Raise :class:`CircuitOpen` unless a call may be made now.

        Once the back-off is over, exactly one call (the trial) goes through; the others are
        refused until it ends.
        """
        if self._open_until is None:
            return
        now = self._timer()
        if now >= self._open_until and not self._trial:
            self._trial = True
            return
        self.refused += 1
        left = max(0.0, self._open_until - now)
        raise CircuitOpen(
            f"model calls are paused for {left:.0f} s after {self._threshold} failures in a "
            f"row ({self._last})"
        )

    def succeeded(self) -> None:
        """A call completed (or streamed text): the endpoint works."""
        self._failures, self._open_until, self._trial = 0, None, False
        self._cooldown = self._first_cooldown
        self._resume()

    def failed(self, exc: BaseException) -> None:
        """A call failed; open after ``threshold`` endpoint failures in a row."""
        if not counts_as_failure(exc):
            if self._trial:  # the trial said nothing about the endpoint: let another try
                self._trial = False
            return
        self._failures += 1
        self._last = str(exc)[:200] or type(exc).__name__
        if self._trial:  # the trial failed: back off longer, without announcing it again
            self._trial = False
            self._cooldown = min(self._max_cooldown, self._cooldown * 2)
            self._pause(announce=False)
        elif self._open_until is None and self._failures >= self._threshold:
            self._pause(announce=True)

    def endpoint_back(self) -> None:
        """The endpoint, unreachable a moment ago, accepted a connection: try it now rather
        than at the end of the back-off (a trial, as after the back-off)."""
        if self._open_until is not None and not self._trial:
            self._open_until = self._timer()
            self._resume()

    def reset(self) -> None:
        """A new model session (new settings, new endpoint): start closed."""
        self.succeeded()

    def _resume(self) -> None:
        if self._showing_pause:
            self._showing_pause = False
            self._on_change(None, False)

    def _pause(self, *, announce: bool) -> None:
        self._open_until = self._timer() + self._cooldown
        self._showing_pause = True
        self._on_change(
            f"model calls paused for {self._cooldown:.0f} s after {self._failures} failures "
            f"in a row ({self._last}); they resume by themselves",
            announce,
        )


class ModelStream(Protocol):
    """What the engine reads of a streamed response."""

    @property
    def status(self) -> str | None: ...

    @property
    def incomplete_reason(self) -> str | None: ...

    @property
    def response_id(self) -> str | None:
        """The server's id for this response (what a chained prefetch names as its parent)."""

    @property
    def chained(self) -> bool:
        """Whether the request went out chained (only the volatile part or a message)."""

    @property
    def bytes_sent(self) -> int:
        """The request's size on the wire."""

    def on_sent(self, work: Callable[[], object]) -> None:
        """Run ``work`` once the request is on the wire (while the model thinks)."""

    async def __aenter__(self) -> ModelStream: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...


class ModelCalls(Protocol):
    """The model session as the engine uses it (``ModelSession`` or :class:`GuardedSession`)."""

    @property
    def can_chain(self) -> bool: ...

    def stream(
        self, request: CreateRequest, *, full_input: tuple[str, ...] | None = None
    ) -> ModelStream: ...

    async def complete(self, request: CreateRequest, *, resend: bool = True) -> str: ...

    async def warm(self, request: CreateRequest) -> str: ...

    def anchor_state(self, anchor_id: str) -> AnchorState: ...


class GuardedStream:
    """A response stream whose outcome feeds the breaker; the breaker was checked before."""

    def __init__(self, inner: ResponseStream, breaker: CircuitBreaker) -> None:
        self._inner = inner
        self._breaker = breaker

    @property
    def status(self) -> str | None:
        return self._inner.status

    @property
    def incomplete_reason(self) -> str | None:
        return self._inner.incomplete_reason

    @property
    def response_id(self) -> str | None:
        return self._inner.response_id

    @property
    def chained(self) -> bool:
        return self._inner.chained

    @property
    def bytes_sent(self) -> int:
        return self._inner.bytes_sent

    def on_sent(self, work: Callable[[], object]) -> None:
        self._inner.on_sent(work)

    async def __aenter__(self) -> GuardedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas()

    async def _deltas(self) -> AsyncIterator[str]:
        streamed = False
        try:
            async for delta in self._inner:
                if not streamed:
                    streamed = True
                    self._breaker.succeeded()  # text arrived: the endpoint works
                yield delta
        except SparkError as exc:
            if not streamed:
                self._breaker.failed(exc)
            raise
        if not streamed:
            self._breaker.succeeded()  # an empty but complete answer


class GuardedSession:
    """A model session whose every call passes the breaker."""

    def __init__(self, inner: ModelSession, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self._breaker = breaker

    @property
    def can_chain(self) -> bool:
        return self.inner.can_chain

    def anchor_state(self, anchor_id: str) -> AnchorState:
        return self.inner.anchor_state(anchor_id)

    def stream(
        self,
        request: CreateRequest,
        *,
        full_input: tuple[str, ...] | None = None,
        resend: bool = True,
    ) -> GuardedStream:
        """Start a response; raises :class:`CircuitOpen` while the breaker is open."""
        self._breaker.check()
        inner = self.inner.stream(request, full_input=full_input, resend=resend)
        return GuardedStream(inner, self._breaker)

    async def complete(self, request: CreateRequest, *, resend: bool = True) -> str:
        """Run a response to its end and return its whole text."""
        async with self.stream(request, resend=resend) as response:
            return "".join([delta async for delta in response])

    async def warm(self, request: CreateRequest) -> str:
        """A warm-up is a model call like any other."""
        self._breaker.check()
        try:
            anchor = await self.inner.warm(request)
        except SparkError as exc:
            self._breaker.failed(exc)
            raise
        self._breaker.succeeded()
        return anchor


def guarded(
    session: Callable[[], ModelSession | None], breaker: CircuitBreaker
) -> Callable[[], GuardedSession | None]:
    """``session`` behind ``breaker``."""
    return wrapper_per_session(session, lambda inner: GuardedSession(inner, breaker))


def wrapper_per_session(
    session: Callable[[], _Inner | None], wrap: Callable[[_Inner], _Wrapper]
) -> Callable[[], _Wrapper | None]:
    """``wrap`` of the live session, made again only when the session changes: one wrapper
    per live session, since anchors compare the sessions they were warmed on."""
    made: list[tuple[_Inner, _Wrapper]] = []

    def current() -> _Wrapper | None:
        inner = session()
        if inner is None:
            return None
        if not made or made[0][0] is not inner:
            made[:] = [(inner, wrap(inner))]
        return made[0][1]

    return current
