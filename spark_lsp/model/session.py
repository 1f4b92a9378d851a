"""The persistent model session: warm links, lanes or a pool, anchors that follow their link.

Everything here exists so that no completion ever pays for a handshake: the session connects
when the language server starts, rotates onto a warm spare before the provider's 60-minute
connection limit, and redials in the background with jittered back-off after a drop. Requests
run on ``stream_id`` lanes when the server has them (probed once, never assumed) and otherwise
on a small pool of connections, one response each.

The parts: ``Pool`` (pure state: lanes, rotation, anchor ownership), ``SessionHealth`` (pure
state: status, rate-limit cool-down, fatal errors), ``AnchorBook`` (pure state: the *logical*
anchors callers chain from), ``Maintainer`` (dials, backs off, rotates), ``ResponseStream`` (one
response's deltas), the links of each transport. This class wires them and does the I/O their
decisions ask for: it sends warm-ups and the lane probe, closes spoiled links, wakes waiting
requests and tells the status listener. A logical anchor keeps its id while the response it
stands for is re-warmed on a new link after a rotation, a reconnect or a
``previous_response_not_found``, in the background, so callers never see the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from spark_lsp.errors import (
    ModelRequestError,
    ModelTimeout,
    ModelUnavailable,
    PreviousResponseNotFound,
    ReplyTooLarge,
    SparkError,
)
from spark_lsp.model.anchor_book import Anchor, AnchorBook, AnchorState
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.health import SessionHealth, SessionStatus
from spark_lsp.model.limits import response_deadline
from spark_lsp.model.link import Inflight, Link
from spark_lsp.model.maintainer import Maintainer
from spark_lsp.model.pool import Pool
from spark_lsp.model.protocol import CreateRequest, ResponseFinished
from spark_lsp.model.stream import Deadline, ResponseStream, next_item
from spark_lsp.model.transports import Dialer

__all__ = [
    "AnchorState",
    "ModelSession",
    "ResponseStream",
    "SessionOptions",
    "SessionStats",
    "SessionStatus",
]

log = logging.getLogger(__name__)

LANE_NAMES = tuple(f"l{i}" for i in range(8))
ANCHOR_LANES = tuple(f"a{i}" for i in range(4))
#: How long a request chained from a recent response waits for the server to finish it (a
#: response the client stopped reading early still runs to its end there).
CHAIN_PARENT_WAIT_S = 2.0
PROBE_LANE = "probe"

DialFn = Callable[[ConnectOptions], Awaitable[Link]]


@dataclass(frozen=True)
class SessionOptions:
    """Tunables of a session; defaults suit a fast model over a good network."""

    connect: ConnectOptions
    model: str
    pool_size: int = 2
    rotate_after_s: float = 3300.0
    spare_lead_s: float = 30.0
    stall_timeout_s: float = 10.0
    #: None: probe whether the server has lanes; True/False: skip the probe.
    lanes: bool | None = None
    #: How long a request waits for a busy pool before asking for one more connection.
    pool_wait_s: float = 0.05
    #: Seconds a whole response may take; None derives it from the request's output budget
    #: (``model/limits.py``: the budget at the slowest rate we accept, plus a floor).
    response_timeout_s: float | None = None


@dataclass
class SessionStats:
    """Counters for ``spark/stats``, ``doctor`` and the benchmarks."""

    handshakes: int = 0
    reconnects: int = 0
    rotations: int = 0
    requests: int = 0
    failures: int = 0
    retries: int = 0
    chained: int = 0
    chain_misses: int = 0
    rewarms: int = 0
    #: Requests that found no serving link and waited for a dial (a rotation must add none).
    waits_for_link: int = 0
    bytes_sent: int = 0
    handshake_ms: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    ttft_ms: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    total_ms: deque[float] = field(default_factory=lambda: deque(maxlen=512))


class ModelSession:
    """One logical session to the model, shared by every feature of the server."""

    def __init__(
        self,
        options: SessionOptions,
        on_status: Callable[[SessionStatus], None] | None = None,
        *,
        dialer: DialFn | None = None,
    ) -> None:
        self.options = options
        self.stats = SessionStats()
        self.lanes: bool | None = options.lanes
        self._on_status = on_status
        self._dialer: DialFn = dialer or Dialer()
        self._health = SessionHealth(options.model, self._status_changed)
        self._pool: Pool[Link] = Pool(
            wanted=1,
            rotate_at_s=options.rotate_after_s - options.spare_lead_s,
            lanes=("",),
            drain_grace_s=options.spare_lead_s,
        )
        self._maintainer = Maintainer(self._pool, self)
        self._links: set[Link] = set()
        self._changed = asyncio.Event()
        self._anchors: AnchorBook[Link] = AnchorBook(self._pool, capacity=len(ANCHOR_LANES))
        self._rewarm: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.transport: str | None = None
        self.api: str | None = None
        if self.lanes is not None:
            self._configure_pool(self.lanes)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        """The current state of the session."""
        return self._health.status

    @property
    def open_connections(self) -> int:
        """Links currently open (serving, standby or retiring)."""
        return sum(not link.closed.is_set() for link in self._links)

    def start(self) -> None:
        """Begin connecting in the background; the first request should find a warm link."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._maintainer.run())

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until a link serves (or the session failed for good)."""
        deadline = time.monotonic() + timeout
        while not self._pool.serving():
            if self._health.gave_up() or time.monotonic() >= deadline:
                return False
            await self._wait_changed(deadline - time.monotonic())
        return True

    async def close(self) -> None:
        """Stop the background work and close every link.

        Tasks are cancelled until they have stopped: Python 3.11's ``wait_for`` loses a
        cancellation that lands as its inner await completes (the lane probe, a dial), and one
        lost cancel used to leave ``close`` (so LSP ``shutdown``) waiting for ever. The
        maintainer's stop flag ends its loop too; ``asyncio.wait`` never swallows our cancel.
        """
        self._maintainer.stop()
        self._health.closed()
        for task in (self._task, self._rewarm):
            while task is not None and not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.5)
        await asyncio.gather(*(link.close() for link in self._links), return_exceptions=True)
        self._links.clear()

    # -- requests ---------------------------------------------------------------------------

    def stream(
        self,
        request: CreateRequest,
        *,
        full_input: tuple[str, ...] | None = None,
        resend: bool = True,
    ) -> ResponseStream:
        """Start a response; iterate the returned stream for text deltas.

        With ``previous_response_id`` set (an anchor from ``warm``), pass ``full_input``: it is
        sent instead when the anchor is not available on a live link. ``resend=False``: a link
        that drops before the first token is an error, not a second model call.
        """
        return ResponseStream(self, request, full_input, resend=resend)

    async def complete(self, request: CreateRequest, *, resend: bool = True) -> str:
        """Run a response to its end and return its whole text."""
        async with self.stream(request, resend=resend) as response:
            return "".join([delta async for delta in response])

    @property
    def can_chain(self) -> bool:
        """Chaining from a warmed anchor is reliable only where lanes can fork it."""
        return self.lanes is True and self.transport == "websocket"

    async def warm(self, request: CreateRequest) -> str:
        """Send a ``generate: false`` request; returns a logical anchor id to chain from."""
        link = await self._first_link()
        if not self.can_chain:
            raise ModelUnavailable("this endpoint cannot keep a warmed context to chain from")
        anchor = Anchor(replace(request, generate=False))
        anchor_id = await self._bind(anchor, link)
        self._anchors.add(anchor_id, anchor)
        return anchor_id

    def anchor_state(self, anchor_id: str) -> AnchorState:
        """``ready`` to chain from now, ``warming`` (being re-warmed) or ``gone`` (evicted)."""
        return self._anchors.state(anchor_id)

    # -- used by ResponseStream -------------------------------------------------------------

    async def acquire(self, request: CreateRequest) -> tuple[Link, str, CreateRequest]:
        """Find a lane for ``request``; a chained one runs where its anchor lives.

        Returns the link, the lane and the request as it goes on the wire (a logical anchor
        id replaced by the response id it stands for on that link).
        """
        self._health.raise_if_unusable()
        anchor_id = request.previous_response_id
        if anchor_id is None:
            link, lane = await self._any_lane()
            return link, lane, request
        recent = self._anchors.recent(anchor_id)
        if recent is not None:
            return await self._acquire_after(request, *recent)
        home = self._anchors.home(anchor_id)
        if home is not None:
            link, response_id = home
            chained_lane = await self._lane_on(link)
            if chained_lane is not None:
                self.stats.chained += 1
                self._anchors.touch(anchor_id)
                return link, chained_lane, replace(request, previous_response_id=response_id)
        raise PreviousResponseNotFound("the anchor is not on a live connection", code="local_miss")

    def note_started(self, response_id: str, link: Link, inflight: Inflight) -> None:
        """Remember where a response runs, so a request can chain from it on that connection."""
        if self.can_chain:
            self._anchors.remember(response_id, link, inflight)

    async def _acquire_after(
        self, request: CreateRequest, link: Link, parent: Inflight
    ) -> tuple[Link, str, CreateRequest]:
        """A lane on the connection that holds ``parent``, once the server has finished it
        (only then can it be chained); a local miss otherwise (the caller sends in full)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(parent.finished.wait(), CHAIN_PARENT_WAIT_S)
        if parent.finished.is_set() and not link.closed.is_set():
            lane = await self._lane_on(link)
            if lane is not None:
                self.stats.chained += 1
                return link, lane, request
        missed = "the response is not on a live connection"
        raise PreviousResponseNotFound(missed, code="local_miss")

    def chain_missed(self, request: CreateRequest, *, by_server: bool) -> None:
        """A chained request fell back to its full prompt; re-warm an anchor the server lost."""
        self.stats.chain_misses += 1
        if by_server and self._anchors.lost_by_server(request.previous_response_id or ""):
            self._start_rewarm()

    def record(self, started: float, first_delta: float | None, sent: int) -> None:
        """Account one finished request."""
        now = time.monotonic()
        self.stats.requests += 1
        self.stats.bytes_sent += sent
        self.stats.total_ms.append((now - started) * 1000)
        if first_delta is not None:
            self.stats.ttft_ms.append((first_delta - started) * 1000)

    def note_failure(self, error: SparkError, link: Link | None) -> SparkError:
        """React to a failed request; returns the error to raise (named for the user)."""
        self.stats.failures += 1
        if link is not None and _spoils(error, link):
            self._maintainer.close_later(link)
        return self._health.request_failed(error)

    def note_retry(self) -> None:
        """A request that lost its link before any text is retried on another."""
        self.stats.retries += 1

    def note_success(self) -> None:
        """A response completed: a rate-limit cool-down, if any, is over."""
        self._health.request_succeeded()

    @property
    def stall_timeout(self) -> float:
        """Seconds without an event after which a response counts as stalled."""
        return self.options.stall_timeout_s

    def response_deadline(self, request: CreateRequest) -> float:
        """Seconds a whole response to ``request`` may take (events arriving or not)."""
        if self.options.response_timeout_s is not None:
            return self.options.response_timeout_s
        return response_deadline(request.max_output_tokens, self.stall_timeout)

    # -- MaintainerHooks --------------------------------------------------------------------

    def halted(self) -> bool:
        """True after a failure that retrying cannot fix."""
        return self._health.halted()

    def cooldown_left(self) -> float:
        """Seconds a rate limit still asks us to wait."""
        return self._health.cooldown_left()

    async def open_link(self) -> Link:
        """Dial one link and, the first time, probe whether the server has lanes."""
        link = await self._dialer(self.options.connect)
        self._links.add(link)
        link.on_closed = self._link_closed
        link.on_released = self._lane_released
        if link.transport != "websocket":  # HTTP: lanes are just concurrent requests
            self._configure_pool(True, anchors=False)
        elif self.lanes is None:
            try:
                lanes = await self._probe_lanes(link)
            except BaseException:
                self._links.discard(link)
                raise
            self._configure_pool(lanes)
            self.lanes = lanes
        self.transport, self.api = link.transport, link.api
        return link

    async def prepare_spare(self, link: Link) -> None:
        """Re-warm every anchor on a rotation spare before it takes over."""
        for anchor in self._anchors.anchors():
            with contextlib.suppress(SparkError):
                await self._bind(anchor, link)

    def adopted(self, link: Link, *, rotation: bool) -> None:
        """A link serves: count it, report ready, re-warm anchors a drop left unbound."""
        self.stats.handshakes += 1
        self.stats.handshake_ms.append(link.handshake_s * 1000)
        if rotation:
            self.stats.rotations += 1
        if self._health.link_adopted(rotation=rotation):
            self.stats.reconnects += 1
        self._changed.set()
        self._start_rewarm()

    def dial_failed(self, error: SparkError) -> None:
        """Remember why; stop for good on auth, cool down on a rate limit."""
        self._health.dial_failed(error, serving=bool(self._pool.serving()))
        self._changed.set()

    # -- internals: lanes --------------------------------------------------------------------

    def _configure_pool(self, lanes: bool, *, anchors: bool = True) -> None:
        self._pool.lanes = LANE_NAMES if lanes else ("",)
        self._pool.anchor_lanes = ANCHOR_LANES if lanes and anchors else ()
        self._pool.wanted = 1 if lanes else self.options.pool_size

    async def _any_lane(self) -> tuple[Link, str]:
        deadline = time.monotonic() + self.options.connect.connect_timeout
        asked_extra = False
        if not self._pool.serving():
            self.stats.waits_for_link += 1
        while True:
            taken = self._pool.take()
            if taken is not None:
                return taken
            serving = self._pool.serving()
            offline = self._health.offline_error()
            if not serving and offline is not None:
                raise offline
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModelUnavailable("no model connection became free in time")
            if await self._wait_changed(min(remaining, self.options.pool_wait_s)):
                continue
            if not asked_extra and self.lanes is False and serving:
                asked_extra = True
                self._maintainer.request_extra()

    async def _lane_on(self, link: Link) -> str | None:
        deadline = time.monotonic() + self.options.pool_wait_s * 4
        while not link.closed.is_set():
            lane = self._pool.take_on(link)
            if lane is not None or time.monotonic() >= deadline:
                return lane
            await self._wait_changed(deadline - time.monotonic())
        return None

    async def _wait_changed(self, timeout: float) -> bool:
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        return True

    async def _first_link(self) -> Link:
        self._health.raise_if_unusable()
        if not await self.wait_ready(self.options.connect.connect_timeout):
            raise self._health.why_not_ready()
        return self._pool.serving()[0]

    def _lane_released(self, link: Link, lane: str) -> None:
        if self._pool.release(link, lane):
            self._maintainer.close_later(link)
        self._changed.set()

    def _link_closed(self, link: Link, error: SparkError) -> None:
        was_serving = link in self._pool.serving()
        lost = self._pool.remove(link)
        self._anchors.unbind(lost)
        if lost:
            self._start_rewarm()
        self._links.discard(link)
        self._health.link_lost(error, was_serving=was_serving, serving=bool(self._pool.serving()))
        self._changed.set()
        self._maintainer.wake()

    # -- internals: anchors -----------------------------------------------------------------

    async def _bind(self, anchor: Anchor, link: Link) -> str:
        """Warm ``anchor`` on ``link`` (on the lane the pool's policy picks) and bind it there;
        returns the response id that stands for it now."""
        lane = self._anchors.reserve(link)
        if lane is None:
            raise ModelUnavailable("no anchor lane is free on the model connection")
        inflight = await link.send(anchor.request, lane)
        self.stats.bytes_sent += inflight.sent
        finished = await self._await_terminal(link, inflight, anchor.request)
        if finished.response_id is None:
            raise ModelRequestError("the model did not name the warmed response")
        self._anchors.bind(anchor, link, lane, finished.response_id)
        return finished.response_id

    def _start_rewarm(self) -> None:
        idle = self._rewarm is None or self._rewarm.done()
        if self._anchors.unbound() and idle and self._pool.serving():
            self._rewarm = asyncio.get_running_loop().create_task(self._rewarm_unbound())

    async def _rewarm_unbound(self) -> None:
        """Re-warm unbound anchors on the serving link, most recently used first (each looked
        at when its turn comes: one may lose its link while others re-warm)."""
        for anchor in reversed(self._anchors.anchors()):
            serving = self._pool.serving()
            if anchor.bound or not serving:
                continue
            try:
                await self._bind(anchor, serving[0])
                self.stats.rewarms += 1
            except SparkError as exc:
                log.info("could not re-warm a context anchor: %s", exc)

    async def _await_terminal(
        self, link: Link, inflight: Inflight, request: CreateRequest
    ) -> ResponseFinished:
        """Wait for a warm-up's or probe's terminal event, under both clocks of a response."""
        deadline = Deadline(time.monotonic(), self.response_deadline(request))
        try:
            while True:
                item = await next_item(inflight, self.stall_timeout, deadline)
                if isinstance(item, ResponseFinished):
                    return item
        finally:
            if not inflight.finished.is_set():
                link.abandon(inflight)

    # -- internals: probe and status ----------------------------------------------------------

    async def _probe_lanes(self, link: Link) -> bool:
        """Ask once whether the server knows ``stream_id``; decides lanes vs pool.

        Any failure other than "no lanes" closes the link before raising: a probe never leaks
        the socket it opened.
        """
        probe = CreateRequest(input_texts=("ping",), model=self.options.model, generate=False)
        try:
            inflight = await link.send(probe, PROBE_LANE)
            await self._await_terminal(link, inflight, probe)
        except ModelRequestError as exc:
            if exc.param == "stream_id" or "stream_id" in str(exc):
                log.info("the model server has no stream_id lanes (%s); using a pool", exc)
                return False
            await link.close()
            raise
        except BaseException:  # a 429, a drop, a cancelled dial: never leak the socket
            await link.close()
            raise
        return True

    def _status_changed(self, status: SessionStatus) -> None:
        """Tell the listener; wake waiting requests (a session that failed for good or went
        offline must not keep them waiting for a link)."""
        self._changed.set()
        if self._on_status is not None:
            self._on_status(status)


def _spoils(error: SparkError, link: Link) -> bool:
    """True when ``error`` leaves ``link`` unfit to serve on: a stall, or an oversized reply a
    WebSocket would go on draining (HTTP already cut that response's socket when abandoned)."""
    return isinstance(error, ModelTimeout) or (isinstance(error, ReplyTooLarge) and link.can_chain)
