"""The session's background worker: dials, backs off, rotates on a warm spare, trims.

It does the I/O that the pool's decisions ask for and nothing else: how to open a link (which
transport, the lane probe), how to prepare a spare (re-warm anchors) and what to do with a
failure are the session's, passed in as ``MaintainerHooks``. Rotation order: dial the spare,
prepare it while the old connection keeps serving, promote it, and only then retire the old
one, which closes when its last response has finished. No request ever waits on a handshake
that a rotation started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from spark_lsp.errors import SparkError
from spark_lsp.model.backoff import Backoff
from spark_lsp.model.link import Link
from spark_lsp.model.pool import Pool

log = logging.getLogger(__name__)

#: The longest the maintainer sleeps between looks at the pool.
TICK_S = 1.0


class MaintainerHooks(Protocol):
    """What the maintainer needs from the session."""

    def halted(self) -> bool:
        """True after a failure no retry fixes (a refused key, a model the key cannot use)."""

    def cooldown_left(self) -> float:
        """Seconds a rate limit still asks us to wait before dialling."""

    async def open_link(self) -> Link:
        """Dial (and, the first time, probe) one link; raises ``SparkError``."""

    async def prepare_spare(self, link: Link) -> None:
        """Make a standby spare ready to take over (re-warm anchors); must not raise."""

    def adopted(self, link: Link, *, rotation: bool) -> None:
        """A link now serves."""

    def dial_failed(self, error: SparkError) -> None:
        """A dial failed (the maintainer backs off and retries unless halted)."""


class Maintainer:
    """Keeps ``pool`` supplied with links for as long as it runs."""

    def __init__(
        self,
        pool: Pool[Link],
        hooks: MaintainerHooks,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool = pool
        self.hooks = hooks
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._wake = asyncio.Event()
        self._closing: set[asyncio.Task[None]] = set()
        #: Set by ``stop``: the loop ends and a link dialled meanwhile is closed, not adopted.
        self.stopped = False

    def stop(self) -> None:
        """End the loop for good (the session is closing)."""
        self.stopped = True
        self.wake()

    def wake(self) -> None:
        """Look at the pool now (a link closed, settings changed, more capacity wanted)."""
        self._wake.set()

    def request_extra(self) -> None:
        """Dial one connection beyond the wanted number (a busy lane-less pool)."""
        self.pool.extra += 1
        self.wake()

    async def run(self) -> None:
        """Maintain until stopped or cancelled; a bug in one pass is logged, never fatal."""
        while not self.stopped:
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not kill the session
                log.exception("model session maintenance failed")
            self._wake.clear()
            wait = min(TICK_S, self.pool.next_due_in(self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.01, wait))

    def close_later(self, link: Link) -> None:
        """Close ``link`` in an owned background task."""
        if link.closed.is_set():
            return
        task = asyncio.get_running_loop().create_task(link.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _tick(self) -> None:
        if self.hooks.halted():
            return
        now = self.clock()
        for link in self.pool.retire_replaced(now) + self.pool.surplus() + self.pool.overdue(now):
            self.close_later(link)
        while (
            self.pool.dials_needed(self.clock()) > 0
            and not self.hooks.halted()
            and not self.stopped
        ):
            if not await self._dial():
                delay = self.backoff.next_delay(self.hooks.cooldown_left())
                log.info("reconnecting to the model in %.1f s", delay)
                await asyncio.sleep(delay)

    async def _dial(self) -> bool:
        """Dial one link, prepare it if it is a rotation spare, then let it serve."""
        rotation = bool(self.pool.due(self.clock()))
        self.pool.dialing += 1
        try:
            try:
                link = await self.hooks.open_link()
            except SparkError as exc:
                self.hooks.dial_failed(exc)
                return False
            if self.stopped:  # dialled while closing: never revive a closed session
                await link.close()
                return True
            self.pool.add(link, self.clock())
            if rotation:
                await self.hooks.prepare_spare(link)
            closable = self.pool.promote(link, self.clock())
        finally:
            self.pool.dialing -= 1
        if link.closed.is_set():  # lost while being prepared
            return False
        self.backoff.reset()
        self.hooks.adopted(link, rotation=rotation)
        for old in closable:
            self.close_later(old)
        return True
