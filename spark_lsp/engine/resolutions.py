"""At most one model call per user pick of an action, however often the editor asks.

Emacs' Eglot resolves an action again whenever the answer carries no edit, and VS Code may
resolve the same action from several places at once. So the computation of one action (keyed
by its spec: kind, document, version, range, task) is shared while it runs, and a failure is
remembered for a short while: asking again within that time gets the same failure at once,
without a model call, as :class:`Remembered` (so the caller can tell it was already reported).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from spark_lsp.errors import SparkError, Superseded

T = TypeVar("T")

#: How long a failed action answers with its failure instead of being computed again.
REMEMBER_FAILURE_S = 15.0
#: Failed actions remembered at most (the oldest is forgotten first).
MAX_REMEMBERED = 64


class Remembered(SparkError):
    """The action failed moments ago; not computed again (the message is the failure's)."""

    def __init__(self, original: SparkError) -> None:
        super().__init__(str(original))
        self.original = original


class Resolutions(Generic[T]):
    """Shares the running computation of a key and remembers its recent failure.

    Failures of the types in ``forget`` are not remembered: those made no model call (a
    refusal that depends on other requests, a paused endpoint) or say nothing about the next
    attempt (a superseded one).
    """

    def __init__(
        self,
        remember_s: float = REMEMBER_FAILURE_S,
        max_remembered: int = MAX_REMEMBERED,
        *,
        forget: tuple[type[SparkError], ...] = (Superseded,),
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._remember_s = remember_s
        self._forget = forget
        self._max = max_remembered
        self._timer = timer
        self._running: dict[Hashable, asyncio.Task[T]] = {}
        self._failed: OrderedDict[Hashable, tuple[float, SparkError]] = OrderedDict()

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """``compute()``'s result for ``key``: joined if running, refused if it just failed."""
        failed = self._failed.get(key)
        if failed is not None:
            if self._timer() - failed[0] < self._remember_s:
                raise Remembered(failed[1])
            del self._failed[key]
        task = self._running.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._compute(key, compute))
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        # A cancelled asker (the editor gave up) leaves the others their shared answer.
        return await asyncio.shield(task)

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        try:
            return await compute()
        except SparkError as exc:
            if isinstance(exc, self._forget):
                raise
            self._failed[key] = (self._timer(), exc)
            while len(self._failed) > self._max:
                self._failed.popitem(last=False)
            raise

    def _finished(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        with contextlib.suppress(asyncio.CancelledError):
            task.exception()  # retrieved: awaiters re-raise it, nobody else should log it
