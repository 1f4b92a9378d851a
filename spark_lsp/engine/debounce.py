"""How long an automatic completion waits, and newest-wins between requests of one document.

:class:`AdaptiveDelay` learns the user's typing rhythm; :class:`Supersession` lets a newer
request for the same document wake and cancel the older ones at once, at any stage.

Why adaptive: a fixed debounce is either too long for fast typists' pauses (the suggestion
feels late) or too short for slow ones (a model call per keystroke, each thrown away). The
right wait is "just longer than this user's gap between keystrokes inside a burst": if no key
came by then, the user has most likely paused and wants a suggestion.

The numbers (all seconds):

* rhythm = 90th percentile of the last 32 inter-key gaps, x 1.05: the wait must outlast
  nearly every gap inside a burst, or each early-firing request is a model call thrown away
  (measured: with the 75th percentile x 1.25 and a fast-model discount, a 60-key burst at
  40 ms/key made 41 model calls; with the 90th percentile it makes 1-3). A percentile, not a
  mean, because one slow key in a burst should not stretch every wait. x 1.05 rather than the
  earlier x 1.3: the trailing wait is pure latency after the last key (x 1.3 cost ~60 ms at
  40 ms/key), and the burst budget below bounds what a too-short wait can cost.
* leading edge (:meth:`AdaptiveDelay.wait_for`): the first key after a pause (a gap longer
  than twice the wait and than 0.3 s, or the first key in a document) asks at once: nothing
  suggests another key is coming, and the user who paused is the one waiting. Twice, and a
  floor: a gap just over the wait is a hiccup inside a burst (a loaded machine, a slow key),
  not a pause. Keys that follow inside the rhythm are debounced and supersede it. The trailing
  wait counts from the last key, not from the request, so the editor's own delay between
  change and request is not waited twice.
* burst budget: a burst (the keys from one pause to the next) may make 3 model calls: the
  leading edge, one misfire (a wait that ran out just before the next key: jitter), and the
  final request. Once two have been spent, the last call waits for a pause: the gap after
  which the next key would start a new burst anyway. So the budget holds whatever the
  machine does (an earlier stretch of x1.5 the wait still let a loaded 2-core machine, load
  5-9, make a fourth call: its stalls of 70-190 ms outlast any stretch that keeps the final
  suggestion quick), and the price, a pause-length wait, is paid only by a burst that
  already misfired. The next pause resets the budget.
* gaps over 1 s are pauses (thinking, reading), not rhythm, and are ignored; so is the gap
  across a switch of document, which measures navigation, not typing; and so are gaps under
  15 ms, which are not typing either: keys that queued while the server was busy (a server
  just started, still loading) are read together, and an editor's own follow-up edits
  (closing a bracket, formatting on type) come right behind a key. Learned as rhythm they
  shrink the wait to its floor (measured: a burst typed into a server 0.1 s old learned
  15 ms from nine queued keys, and its waits then ran out between real keys).
* cold start (fewer than 4 gaps): 0.075 s, a fast typist's gap, so the first suggestions of
  a session are not slow while the rhythm is learned.
* model latency only ever lengthens the wait, by up to x1.25 for a slow model (from 0.2 s
  to >= 0.4 s): there every wasted call is expensive and the wait a small part of the total. A
  fast model never shortens it below the rhythm; its speed is spent on answering sooner after
  the pause.
  (Subtracting the latency from the wait, as some clients do, gets this backwards: the slower
  the model, the more calls it would waste.)
* the result is clamped to [0.015, 0.35]: below 15 ms the editor's own change events race
  each other; above 350 ms the suggestion feels late whatever the rhythm says.
* after consecutive failures the wait grows x1.5 per failure (up to x4, at most 1 s), so a
  failing or rate-limited server is not hammered at typing speed; one success resets it.
* ``fixed`` (the ``debounceMs`` setting) replaces all of this, back-off included: a user who
  set a number gets that number.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType

__all__ = ["AdaptiveDelay", "Supersession", "Ticket", "related"]

PAUSE_SECONDS = 1.0
BUNCHED_GAP = 0.015
WINDOW = 32
MIN_SAMPLES = 4
RHYTHM_QUANTILE = 0.9
RHYTHM_FACTOR = 1.05
PAUSE_FACTOR = 2.0
PAUSE_FLOOR = 0.3
BURST_CALLS = 3
COLD_DELAY = 0.075
MIN_DELAY = 0.015
MAX_DELAY = 0.35
ASSUMED_LATENCY = 0.15
FAST_LATENCY = 0.2
SLOW_LATENCY = 0.4
LATENCY_EWMA_ALPHA = 0.3
FAILURE_GROWTH = 1.5
MAX_FAILURE_STEPS = 4
FAILURE_CEILING = 1.0


class AdaptiveDelay:
    """Learns a debounce delay from keystroke timing and model latency; pure, clock injected."""

    def __init__(
        self,
        *,
        fixed: float | None = None,
        min_delay: float = MIN_DELAY,
        max_delay: float = MAX_DELAY,
        cold_delay: float = COLD_DELAY,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fixed = fixed
        self._min = min_delay
        self._max = max_delay
        self._cold = cold_delay
        self._timer = timer
        self._gaps: deque[float] = deque(maxlen=WINDOW)
        self._last: tuple[str, float] | None = None
        self._leading = False
        self._burst_calls = 0
        self._latency = ASSUMED_LATENCY
        self._failures = 0

    def record_keystroke(self, key: str) -> None:
        """Note a document change; ``key`` says where (e.g. the document URI)."""
        now = self._timer()
        last, self._last = self._last, (key, now)
        gap = None if last is None or last[0] != key else now - last[1]
        self._leading = gap is None or gap > self.pause_gap()
        if self._leading:
            self._burst_calls = 0
        if gap is not None and BUNCHED_GAP <= gap <= PAUSE_SECONDS:
            self._gaps.append(gap)

    def record_model_latency(self, seconds: float) -> None:
        """Note how long a successful model call took; also ends a failure streak."""
        self._failures = 0
        if seconds >= 0:
            self._latency += LATENCY_EWMA_ALPHA * (seconds - self._latency)

    def record_failure(self) -> None:
        """Note a failed model call: the next waits grow a little."""
        self._failures = min(self._failures + 1, MAX_FAILURE_STEPS)

    def record_call(self) -> None:
        """Note an automatic request that went to the model: it spends the burst's budget."""
        self._burst_calls += 1

    def wait_for(self, key: str) -> float:
        """Seconds an automatic request for ``key`` made now should still wait.

        0 on the leading edge (no key typed in ``key`` yet, or the last key came after a pause,
        and the burst has not called yet) and once the wait has already passed since the last
        key; else the rest of the wait (a pause-length one for the burst's last call).
        """
        wait = self.delay()
        if self.fixed is not None:
            return wait
        last = self._last
        if last is None or last[0] != key or (self._leading and not self._burst_calls):
            return 0.0
        if self._burst_calls >= BURST_CALLS - 1:
            wait = self.pause_gap()
        return max(0.0, wait - (self._timer() - last[1]))

    def pause_gap(self) -> float:
        """The gap after which the next key starts a new burst (and asks at once).

        Twice the wait, and a floor: a gap just over the wait is a hiccup inside a burst (a
        loaded machine, a slow key), not a pause.
        """
        return max(PAUSE_FLOOR, PAUSE_FACTOR * self.delay())

    @property
    def rhythm(self) -> float | None:
        """The user's in-burst keystroke gap (a high percentile), or None while cold."""
        if len(self._gaps) < MIN_SAMPLES:
            return None
        ordered = sorted(self._gaps)
        return ordered[int(RHYTHM_QUANTILE * (len(ordered) - 1))]

    def delay(self) -> float:
        """Seconds an automatic request should wait before calling the model."""
        if self.fixed is not None:
            return max(0.0, self.fixed)
        base = self._cold if self.rhythm is None else self._learned(self.rhythm)
        if not self._failures:
            return base
        return min(base * FAILURE_GROWTH**self._failures, max(FAILURE_CEILING, self._max))

    def _learned(self, rhythm: float) -> float:
        slowness = (self._latency - FAST_LATENCY) / (SLOW_LATENCY - FAST_LATENCY)
        speed = 1.0 + 0.25 * min(1.0, max(0.0, slowness))
        return min(self._max, max(self._min, rhythm * RHYTHM_FACTOR * speed))


def related(key: str, name: str) -> str:
    """The key of request ``name`` that belongs to ``key``'s document beside its newest
    request: a newer request for ``key`` does not supersede it, an edit does
    (:meth:`Supersession.cancel_related`)."""
    return f"{key}\0{name}"


def _resolve(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)


class Ticket:
    """One request's claim to be the newest for its key.

    Cheap by design: no task and no polling; :meth:`wait` parks on a future that either the
    event loop's timer or the next :meth:`Supersession.begin` resolves.
    """

    __slots__ = ("_owner", "_superseded", "_waiter", "key")

    def __init__(self, owner: Supersession, key: str) -> None:
        self._owner = owner
        self.key = key
        self._superseded = False
        self._waiter: asyncio.Future[bool] | None = None

    @property
    def superseded(self) -> bool:
        """Whether a newer request for the same key has begun (or the key was cancelled)."""
        return self._superseded

    async def wait(self, delay: float) -> bool:
        """Sleep up to ``delay`` s; False as soon as (or if already) superseded, else True."""
        if self._superseded or delay <= 0:
            return not self._superseded
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(delay, _resolve, waiter, True)
        self._waiter = waiter
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def race(self, awaitable: Awaitable[object], timeout: float | None) -> bool:
        """Await ``awaitable`` until it is done (True), the timeout passes or this ticket is
        superseded (False; the awaitable is then cancelled). For the rare waits that are not a
        plain delay, such as a model session still connecting."""
        if self._superseded:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never started: no "never awaited" warning
            return False
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(awaitable)
        waiter: asyncio.Future[bool] = loop.create_future()
        task.add_done_callback(lambda _: _resolve(waiter, True))
        timer = None
        if timeout is not None:
            timer = loop.call_later(max(0.0, timeout), _resolve, waiter, False)
        self._waiter = waiter
        try:
            return await waiter and not self._superseded
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None
            if not task.done():
                task.cancel()

    def done(self) -> None:
        """Release the key; call when the request has finished, however it finished."""
        self._owner._release(self)

    def _supersede(self) -> None:
        self._superseded = True
        if self._waiter is not None:
            _resolve(self._waiter, False)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.done()


class Supersession:
    """Newest wins per key: beginning a ticket supersedes the previous one of that key."""

    def __init__(self) -> None:
        self._current: dict[str, Ticket] = {}

    def begin(self, key: str) -> Ticket:
        """Start the newest request for ``key``; the previous one is superseded now."""
        self.cancel(key)
        ticket = Ticket(self, key)
        self._current[key] = ticket
        return ticket

    def cancel(self, key: str) -> None:
        """Supersede the current request for ``key`` without starting a new one."""
        ticket = self._current.pop(key, None)
        if ticket is not None:
            ticket._supersede()

    def cancel_related(self, key: str) -> None:
        """Supersede the requests begun under :func:`related` keys of ``key``: they belong to
        its document without competing with its newest request (an explicit request's
        alternatives), and an edit of the document makes them stale all the same."""
        prefix = related(key, "")
        for other in [k for k in self._current if k.startswith(prefix)]:
            self.cancel(other)

    def __len__(self) -> int:
        return len(self._current)

    def _release(self, ticket: Ticket) -> None:
        if self._current.get(ticket.key) is ticket:
            del self._current[ticket.key]
