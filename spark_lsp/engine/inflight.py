"""Share model calls that are still streaming.

A user who keeps typing while a suggestion is being generated often types exactly what the model
is producing. The new request then needs no new call: the running one already has the answer,
minus what was typed. An identical request (same cursor, same text) shares the call too.

Pure asyncio and owns no task: the caller that started a call feeds it (:meth:`SharedCall.append`,
:meth:`SharedCall.finish`, :meth:`SharedCall.fail`); joiners only await futures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["SharedCall", "InflightCompletions"]

MAX_PER_URI = 4
MAX_TYPED = 256


class SharedCall:
    """One model call in progress: its streamed text so far and, eventually, its result."""

    def __init__(
        self, uri: str, before: str, after: str, on_done: Callable[[SharedCall], None]
    ) -> None:
        self.uri = uri
        self.before = before
        self.after = after
        self._on_done = on_done
        self._parts: list[str] = []
        self._text = ""
        self._done = False
        self._final: str | None = None
        self._error: BaseException | None = None
        self._waiters: list[asyncio.Future[str | None]] = []

    @property
    def text_so_far(self) -> str:
        """The raw text streamed so far."""
        if self._parts:
            self._text += "".join(self._parts)
            self._parts.clear()
        return self._text

    @property
    def done(self) -> bool:
        return self._done

    @property
    def has_waiters(self) -> bool:
        """Whether someone other than the starter awaits the result (don't abandon it then)."""
        return any(not waiter.done() for waiter in self._waiters)

    def append(self, delta: str) -> None:
        """Add streamed text; ignored once finished, so late events can't leak into a result."""
        if not self._done:
            self._parts.append(delta)

    def finish(self, final: str | None) -> None:
        """Publish the call's result (``None``: no suggestion) to everyone awaiting it."""
        self._settle(final, None)

    def fail(self, exc: BaseException) -> None:
        """Publish the call's failure; :meth:`result` raises ``exc`` in every joiner."""
        self._settle(None, exc)

    async def result(self) -> str | None:
        """Wait for :meth:`finish` (its value) or :meth:`fail` (its exception)."""
        if not self._done:
            waiter: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            return await waiter
        if self._error is not None:
            raise self._error
        return self._final

    async def result_after(self, typed: str) -> str | None:
        """The result minus ``typed``, or None if the result does not continue it."""
        final = await self.result()
        if final is None or not final.startswith(typed) or len(final) == len(typed):
            return None
        return final[len(typed) :]

    def _settle(self, final: str | None, error: BaseException | None) -> None:
        if self._done:
            return
        self._done, self._final, self._error = True, final, error
        for waiter in self._waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(final)
            else:
                waiter.set_exception(error)
        self._waiters.clear()
        self._on_done(self)


def typed_since(old_before: str, new_before: str, max_typed: int = MAX_TYPED) -> str | None:
    """What was typed between two cursor contexts, or None if one doesn't extend the other.

    Works for whole prefixes (``new == old + typed``) and for fixed-size tail windows of them
    (``new == (old + typed)[-cap:]``), which is what a caller gets when it trims the text before
    the cursor to a bounded size: the window slides by exactly what was typed.
    """
    if new_before.startswith(old_before):
        return new_before[len(old_before) :]
    if len(new_before) < len(old_before):
        return None
    for n in range(1, min(max_typed, len(new_before) - 1) + 1):
        cut = len(new_before) - n
        if new_before[cut - 1] != old_before[-1]:
            continue  # cheap reject before comparing whole windows
        if cut >= len(old_before) - n and old_before.endswith(new_before[:cut]):
            return new_before[cut:]
    return None


def _agrees(streamed: str, typed: str) -> bool:
    """Whether the call's output so far and the typing agree. A call that has streamed nothing
    yet is joined only by an identical request: with nothing to compare, a request that typed
    more would wait a full model call on a guess (a burst typed past a leading-edge call)."""
    if typed and not streamed:
        return False
    return streamed.startswith(typed) or typed.startswith(streamed)


class InflightCompletions:
    """Registry of unfinished calls per document, joinable by later requests."""

    def __init__(self, max_per_uri: int = MAX_PER_URI) -> None:
        self._max_per_uri = max_per_uri
        self._by_uri: dict[str, list[SharedCall]] = {}

    def start(self, uri: str, before: str, after: str) -> SharedCall:
        """Register a new call; the oldest one of ``uri`` stops being joinable past the bound."""
        call = SharedCall(uri, before, after, self._remove)
        calls = self._by_uri.setdefault(uri, [])
        calls.append(call)
        del calls[: max(0, len(calls) - self._max_per_uri)]
        return call

    def join(self, uri: str, before: str, after: str) -> tuple[SharedCall, str] | None:
        """The newest unfinished call whose output agrees with what was typed since it began.

        Returns the call and the text typed since (``""`` for an identical request); the caller
        awaits :meth:`SharedCall.result_after` with it.
        """
        for call in reversed(self._by_uri.get(uri, [])):
            if call.done or call.after != after:
                continue
            typed = typed_since(call.before, before)
            if typed is not None and _agrees(call.text_so_far, typed):
                return call, typed
        return None

    def __len__(self) -> int:
        return sum(len(calls) for calls in self._by_uri.values())

    def _remove(self, call: SharedCall) -> None:
        calls = self._by_uri.get(call.uri)
        if calls is None or call not in calls:
            return
        calls.remove(call)
        if not calls:
            del self._by_uri[call.uri]
