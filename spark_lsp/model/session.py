"""The persistent model session: warm connections, lanes or a pool, reconnects and rotation.

Everything here exists so that no completion ever pays for a handshake: the session connects
when the language server starts, keeps the connection alive with pings, dials a spare before the
provider's 60-minute connection limit, and redials in the background with jittered back-off
after a drop. Requests run on ``stream_id`` lanes when the server has them (probed once at
connect, never assumed) and otherwise on a small pool of connections, one response each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from spark_lsp.errors import (
    AuthError,
    ModelRequestError,
    ModelTimeout,
    ModelUnavailable,
    PreviousResponseNotFound,
    RateLimited,
    SparkError,
)
from spark_lsp.model.backoff import Backoff
from spark_lsp.model.connection import Connection, ConnectOptions, Inflight, dial
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    ResponseFinished,
    TextDelta,
    Usage,
)

log = logging.getLogger(__name__)

State = Literal["connecting", "ready", "rate_limited", "offline", "auth_failed", "closed"]
LANE_NAMES = tuple(f"l{i}" for i in range(8))
ANCHOR_LANES = tuple(f"a{i}" for i in range(4))
PROBE_LANE = "probe"
#: Warmed anchors remembered per session (the engine keeps no more stable prefixes warm).
MAX_ANCHORS = 4


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
    #: How long a request waits for a busy pool before dialling one more connection.
    pool_wait_s: float = 0.05


@dataclass
class SessionStats:
    """Counters for ``spark/stats``, ``doctor`` and the benchmarks."""

    handshakes: int = 0
    reconnects: int = 0
    requests: int = 0
    failures: int = 0
    retries: int = 0
    chained: int = 0
    chain_misses: int = 0
    bytes_sent: int = 0
    handshake_ms: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    ttft_ms: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    total_ms: deque[float] = field(default_factory=lambda: deque(maxlen=512))


@dataclass(frozen=True)
class SessionStatus:
    """What a status bar shows: the state and, when unhealthy, why (never a secret)."""

    state: State
    detail: str | None = None


class ModelSession:
    """One logical session to the model, shared by every feature of the server."""

    def __init__(
        self,
        options: SessionOptions,
        on_status: Callable[[SessionStatus], None] | None = None,
    ) -> None:
        self.options = options
        self.stats = SessionStats()
        self.lanes: bool | None = options.lanes
        self._on_status = on_status
        self._status = SessionStatus("connecting")
        self._conns: list[Connection] = []
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._backoff = Backoff()
        self._fatal: SparkError | None = None
        self._last_error: SparkError | None = None
        self._cooldown_until = 0.0
        self._anchors: dict[str, Connection] = {}
        self._anchor_turn = 0
        self._anchor_lock = asyncio.Lock()
        self._maintainer: asyncio.Task[None] | None = None
        self._ever_connected = False
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        """The current state of the session."""
        return self._status

    @property
    def open_connections(self) -> int:
        """Sockets currently open (live, rotating or draining)."""
        return sum(not conn.closed.is_set() for conn in self._conns)

    def start(self) -> None:
        """Begin connecting in the background; the first request should find a warm socket."""
        if self._maintainer is None:
            self._maintainer = asyncio.get_running_loop().create_task(self._maintain())

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until a connection is up (or the session failed for good)."""
        deadline = time.monotonic() + timeout
        while not self._usable_connections():
            gave_up = self._fatal is not None or self._status.state == "offline"
            if gave_up or time.monotonic() >= deadline:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
        return True

    async def close(self) -> None:
        """Stop the background work and close every socket.

        The maintainer is cancelled until it has stopped: Python 3.11's ``wait_for`` loses a
        cancellation that lands as its inner await completes (the lane probe, a dial), and one
        lost cancel used to leave ``close`` (so LSP ``shutdown``) waiting for ever. The
        ``_closed`` flag stops its loop too. ``asyncio.wait`` never swallows our own cancel.
        """
        self._closed = True
        self._set_status(SessionStatus("closed"))
        maintainer = self._maintainer
        while maintainer is not None and not maintainer.done():
            maintainer.cancel()
            await asyncio.wait([maintainer], timeout=0.5)
        await asyncio.gather(*(conn.close() for conn in self._conns), return_exceptions=True)
        self._conns.clear()

    # -- requests ---------------------------------------------------------------------------

    def stream(
        self, request: CreateRequest, *, full_input: tuple[str, ...] | None = None
    ) -> ResponseStream:
        """Start a response; iterate the returned stream for text deltas.

        With ``previous_response_id`` set, pass ``full_input``: it is sent instead when the
        chained-from response is gone.
        """
        return ResponseStream(self, request, full_input)

    async def complete(self, request: CreateRequest) -> str:
        """Run a response to its end and return its whole text."""
        async with self.stream(request) as response:
            return "".join([delta async for delta in response])

    @property
    def can_chain(self) -> bool:
        """Chaining from a warmed anchor is reliable only where lanes can fork it."""
        return self.lanes is True

    async def warm(self, request: CreateRequest) -> str:
        """Send a ``generate: false`` request and return its id, an anchor to chain from."""
        conn = await self._first_connection()
        async with self._anchor_lock:
            lane = ANCHOR_LANES[self._anchor_turn % len(ANCHOR_LANES)]
            self._anchor_turn += 1
            sent_before = conn.bytes_sent
            inflight = await conn.send(replace(request, generate=False), lane)
            self.stats.bytes_sent += conn.bytes_sent - sent_before
            finished = await self._await_terminal(conn, inflight)
        if finished.response_id is None:
            raise ModelRequestError("the model did not name the warmed response")
        self._anchors[finished.response_id] = conn
        while len(self._anchors) > MAX_ANCHORS:  # the server keeps only recent ones anyway
            del self._anchors[next(iter(self._anchors))]
        return finished.response_id

    # -- used by ResponseStream -------------------------------------------------------------

    async def acquire(self, request: CreateRequest) -> tuple[Connection, str]:
        """Find a lane for ``request``; a chained one must run where its anchor lives."""
        self._raise_if_unusable()
        parent = request.previous_response_id
        if parent is not None:
            conn = self._anchors.get(parent)
            if conn is not None and conn.alive:
                lane = await self._lane_on(conn)
                if lane is not None:
                    self.stats.chained += 1
                    return conn, lane
            raise PreviousResponseNotFound("the anchor's connection is gone", code="local_miss")
        return await self._any_lane()

    def record(self, started: float, first_delta: float | None, sent: int) -> None:
        """Account one finished request."""
        now = time.monotonic()
        self.stats.requests += 1
        self.stats.bytes_sent += sent
        self.stats.total_ms.append((now - started) * 1000)
        if first_delta is not None:
            self.stats.ttft_ms.append((first_delta - started) * 1000)

    def note_failure(self, error: SparkError, conn: Connection | None) -> None:
        """React to a failed request: cool down on 429, stop on auth, drop a stalled socket."""
        self.stats.failures += 1
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after is not None else 1.0
            self._cooldown_until = max(self._cooldown_until, time.monotonic() + wait)
            self._set_status(
                SessionStatus("rate_limited", f"rate limited; retrying in {wait:.0f} s")
            )
        elif isinstance(error, AuthError):
            self._fail_for_good(error)
        elif isinstance(error, ModelTimeout) and conn is not None:
            asyncio.get_running_loop().create_task(conn.close())

    def note_success(self) -> None:
        """A response completed: a rate-limit cool-down, if any, is over."""
        if self._status.state == "rate_limited":
            self._set_status(SessionStatus("ready"))

    @property
    def stall_timeout(self) -> float:
        """Seconds without an event after which a response counts as stalled."""
        return self.options.stall_timeout_s

    # -- internals: lanes --------------------------------------------------------------------

    def _usable_connections(self) -> list[Connection]:
        return [conn for conn in self._conns if conn.alive]

    def _raise_if_unusable(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        wait = self._cooldown_until - time.monotonic()
        if wait > 0:
            raise RateLimited(f"rate limited by the model endpoint; retrying in {wait:.1f} s", wait)

    async def _any_lane(self) -> tuple[Connection, str]:
        deadline = time.monotonic() + self.options.connect.connect_timeout
        dialled_extra = False
        while True:
            for conn in reversed(self._usable_connections()):
                lane = conn.take_lane()
                if lane is not None:
                    return conn, lane
            if not self._usable_connections() and self._last_error and not self._connecting():
                raise self._last_error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModelUnavailable("no model connection became free in time")
            if await self._wait_changed(min(remaining, self.options.pool_wait_s)):
                continue
            if not dialled_extra and self.lanes is False and self._usable_connections():
                dialled_extra = True
                await self._dial_one(reconnect=False)

    async def _lane_on(self, conn: Connection) -> str | None:
        deadline = time.monotonic() + self.options.pool_wait_s * 4
        while conn.alive:
            lane = conn.take_lane()
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

    def _connecting(self) -> bool:
        return self._status.state == "connecting"

    async def _first_connection(self) -> Connection:
        self._raise_if_unusable()
        if not await self.wait_ready(self.options.connect.connect_timeout):
            raise self._fatal or self._last_error or ModelUnavailable("the model is not connected")
        return self._usable_connections()[-1]

    async def _await_terminal(self, conn: Connection, inflight: Inflight) -> ResponseFinished:
        try:
            while True:
                item = await asyncio.wait_for(inflight.queue.get(), self.stall_timeout)
                if isinstance(item, SparkError):
                    raise item
                if isinstance(item, ErrorEvent):
                    raise item.to_exception()
                if isinstance(item, ResponseFinished):
                    return item
        except TimeoutError:
            raise ModelTimeout("the model did not answer in time") from None
        finally:
            if not inflight.finished.is_set():
                conn.abandon(inflight)

    # -- internals: connections ---------------------------------------------------------------

    async def _maintain(self) -> None:
        """Keep the wanted number of live connections, rotating old ones before their limit."""
        while not self._closed:
            try:
                await self._maintain_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not kill the session
                log.exception("model session maintenance failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    async def _maintain_once(self) -> None:
        if self._fatal is not None:
            return
        self._rotate_old_connections()
        self._conns = [conn for conn in self._conns if not conn.closed.is_set()]
        await self._trim_extra_connections()
        while len(self._usable_connections()) < self._wanted() and self._fatal is None:
            if self._closed:
                return
            if not await self._dial_one(reconnect=self._ever_connected):
                delay = self._backoff.next_delay(self._cooldown_until - time.monotonic())
                log.info("reconnecting to the model in %.1f s", delay)
                await asyncio.sleep(delay)

    def _wanted(self) -> int:
        return 1 if self.lanes is not False else self.options.pool_size

    def _rotate_old_connections(self) -> None:
        limit = self.options.rotate_after_s - self.options.spare_lead_s
        for conn in self._usable_connections():
            if conn.age >= limit:
                log.info("rotating a model connection after %.0f s", conn.age)
                conn.retire()

    async def _trim_extra_connections(self) -> None:
        usable = self._usable_connections()
        extra = len(usable) - self._wanted()
        for conn in usable[:extra]:
            if conn.idle:
                await conn.close()

    async def _dial_one(self, *, reconnect: bool) -> bool:
        """Dial (and probe, the first time) one connection; False when it failed."""
        try:
            conn = await dial(self.options.connect)
            if self.lanes is None:
                self.lanes = await self._probe_lanes(conn)
        except SparkError as exc:
            self._on_dial_failure(exc)
            return False
        if self._closed:  # dialled while closing: never revive a closed session
            await conn.close()
            return True
        conn.set_lanes(LANE_NAMES if self.lanes else ("",))
        self._adopt(conn, reconnect)
        return True

    async def _probe_lanes(self, conn: Connection) -> bool:
        """Ask once whether the server knows ``stream_id``; decides lanes vs pool."""
        probe = CreateRequest(input_texts=("ping",), model=self.options.model, generate=False)
        inflight = await conn.send(probe, PROBE_LANE)
        try:
            await self._await_terminal(conn, inflight)
        except ModelRequestError as exc:
            log.info("the model server has no stream_id lanes (%s); using a pool", exc)
            return False
        except (AuthError, ModelUnavailable):
            await conn.close()
            raise
        return True

    def _adopt(self, conn: Connection, reconnect: bool) -> None:
        conn.on_closed = self._on_connection_closed
        conn.on_lane_freed = self._changed.set
        self._conns.append(conn)
        self.stats.handshakes += 1
        self.stats.handshake_ms.append(conn.handshake_s * 1000)
        if reconnect:
            self.stats.reconnects += 1
        self._ever_connected = True
        self._backoff.reset()
        self._last_error = None
        self._set_status(SessionStatus("ready"))
        self._changed.set()

    def _on_dial_failure(self, error: SparkError) -> None:
        self._last_error = error
        if isinstance(error, AuthError):
            self._fail_for_good(error)
            return
        if isinstance(error, RateLimited) and error.retry_after:
            self._cooldown_until = time.monotonic() + error.retry_after
        if not self._usable_connections():
            self._set_status(SessionStatus("offline", str(error)))
        self._changed.set()

    def _on_connection_closed(self, conn: Connection, error: SparkError) -> None:
        self._anchors = {rid: c for rid, c in self._anchors.items() if c is not conn}
        if not conn.retired or not self._usable_connections():
            self._last_error = error
        if not self._usable_connections() and self._status.state == "ready":
            self._set_status(SessionStatus("connecting", str(error)))
        self._changed.set()
        self._wake.set()

    def _fail_for_good(self, error: SparkError) -> None:
        self._fatal = error
        self._set_status(SessionStatus("auth_failed", str(error)))
        self._changed.set()

    def _set_status(self, status: SessionStatus) -> None:
        if status == self._status:
            return
        self._status = status
        if self._on_status is not None:
            self._on_status(status)


class ResponseStream:
    """Text deltas of one response; leaving it early abandons the response safely.

    Use as ``async with session.stream(req) as response: async for delta in response``.
    Leaving the block (break, exception, task cancellation) hands the lane back to the
    connection to drain, so the next request never waits for or reads this one's events.
    """

    def __init__(
        self, session: ModelSession, request: CreateRequest, full_input: tuple[str, ...] | None
    ) -> None:
        self._session = session
        self._request = request
        self._full_input = full_input
        self._gen: AsyncGenerator[str, None] | None = None
        self.response_id: str | None = None
        self.usage = Usage()
        self.status: str | None = None
        self.incomplete_reason: str | None = None
        self.chained = request.previous_response_id is not None

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

    async def _run(self) -> AsyncGenerator[str, None]:
        request = self._request
        retried = False
        while True:
            try:
                async for delta in self._attempt(request):
                    yield delta
                return
            except PreviousResponseNotFound:
                if self._full_input is None or request.previous_response_id is None:
                    raise
                self._session.stats.chain_misses += 1
                self.chained = False
                request = request.unchained(self._full_input)
            except ModelUnavailable as exc:
                if retried or self.status == "streaming" or isinstance(exc, ModelTimeout):
                    raise
                retried = True
                self._session.stats.retries += 1

    async def _attempt(self, request: CreateRequest) -> AsyncGenerator[str, None]:
        session = self._session
        try:
            conn, lane = await session.acquire(request)
        except SparkError as exc:
            if not isinstance(exc, PreviousResponseNotFound):
                session.note_failure(exc, None)
            raise
        started = time.monotonic()
        sent_before = conn.bytes_sent
        inflight = await conn.send(request, lane)
        first: float | None = None
        try:
            while True:
                event = await self._next(inflight)
                if isinstance(event, TextDelta):
                    if first is None:
                        first = time.monotonic()
                        self.status = "streaming"
                    yield event.delta
                elif isinstance(event, ResponseFinished):
                    self._finish(event)
                    session.note_success()
                    return
        except SparkError as exc:
            session.note_failure(exc, conn)
            raise
        finally:
            if not inflight.finished.is_set():
                conn.abandon(inflight)
            session.record(started, first, conn.bytes_sent - sent_before)

    async def _next(self, inflight: Inflight) -> TextDelta | ResponseFinished:
        while True:
            try:
                item = await asyncio.wait_for(inflight.queue.get(), self._session.stall_timeout)
            except TimeoutError:
                raise ModelTimeout(
                    f"the model sent nothing for {self._session.stall_timeout:.0f} s"
                ) from None
            if isinstance(item, SparkError):
                raise item
            if isinstance(item, ErrorEvent):
                raise item.to_exception()
            if isinstance(item, TextDelta | ResponseFinished):
                return item

    def _finish(self, event: ResponseFinished) -> None:
        self.response_id = event.response_id
        self.usage = event.usage
        self.status = event.status
        self.incomplete_reason = event.incomplete_reason
        if event.status == "failed":
            error = event.error
            if error is not None:
                raise error.to_exception()
            raise ModelRequestError("the model reported that the response failed")
