"""Typing-through cache: a shown suggestion keeps answering while the user types into it.

When the user types the first characters of ghost text, the editor asks again at every
keystroke. The answer is already known (the rest of the same suggestion), so :meth:`put`
pre-seeds one entry per prefix of the suggestion the user might type, and those requests are
served with zero model calls.

Keys are BLAKE2b digests of (uri, the last ``before_chars`` of text before the cursor, the first
``after_chars`` after it): equal windows mean equal context for the model's purposes, a far
edit does not invalidate the cache needlessly, and no 2000-character prefix is kept alive per
entry. Values are ``(suggestion, offset, origin, response)`` tuples sharing one string, so 64
seeds of a long suggestion cost 64 small tuples, not 64 copies. ``origin`` says who put the
suggestion there (the model answering a request, or a prefetch for the text as it reads once a
suggestion is accepted), so statistics can tell what the prefetch saved; ``response`` is the id
of the model response whose whole reply the suggestion is, if any (the next prefetch chains
from it).

"Nothing to suggest here" is an answer too (:meth:`put_nothing`): a prefetch whose reply the
filters emptied stores it, so the request after the accept is answered empty at once instead of
making the same model call again. Such an entry has no seeds (there is nothing to type through).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from hashlib import blake2b
from typing import NamedTuple

from cachetools import TTLCache

__all__ = ["CacheHit", "CompletionCache"]

BEFORE_CHARS = 2000
AFTER_CHARS = 200
MAX_SEEDS = 64


class CacheHit(NamedTuple):
    """What a lookup found: the untyped rest, who stored it, and how much was typed since."""

    text: str
    origin: str
    typed: int
    response_id: str | None = None


_Key = tuple[str, bytes]
_Value = tuple[str, int, str, str | None]


def _digest(before: str, after: str) -> bytes:
    """Hash both parts, length-prefixed so ("ab", "c") and ("a", "bc") never collide."""
    h = blake2b(digest_size=16)
    for part in (before, after):
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def _seed_ends(suggestion: str, limit: int) -> list[int]:
    """Typed lengths worth seeding: never inside a surrogate pair or a CRLF.

    Neither can be typed halfway, so such a seed could never be hit; skipping them keeps the
    seed budget for positions a user can reach.
    """
    ends = []
    for k in range(1, min(len(suggestion) - 1, limit) + 1):
        if "\ud800" <= suggestion[k - 1] <= "\udbff":
            continue
        if suggestion[k - 1 : k + 1] == "\r\n":
            continue
        ends.append(k)
    return ends


class CompletionCache:
    """LRU + TTL cache of suggestions by cursor context, with typing-through seeds.

    ``maxsize`` counts entries, seeds included, so memory is bounded whatever is stored. Typed
    newlines are seeded too: the user accepting a suggestion line by line types through its
    line breaks while the text after the cursor stays the same. (If the editor auto-indents the
    new line differently from the suggestion, the next key simply misses.)
    """

    def __init__(
        self,
        maxsize: int = 512,
        ttl: float = 60.0,
        timer: Callable[[], float] = time.monotonic,
        *,
        before_chars: int = BEFORE_CHARS,
        after_chars: int = AFTER_CHARS,
        max_seeds: int = MAX_SEEDS,
    ) -> None:
        self._entries: TTLCache[_Key, _Value] = TTLCache(maxsize, ttl, timer=timer)
        self._before_chars = before_chars
        self._after_chars = after_chars
        self._max_seeds = max_seeds

    def _tail(self, before: str) -> str:
        return before[-self._before_chars :] if self._before_chars else ""

    def _key(self, uri: str, before: str, after: str) -> _Key:
        return uri, _digest(self._tail(before), after[: self._after_chars])

    def put(
        self,
        uri: str,
        before: str,
        after: str,
        suggestion: str,
        origin: str = "model",
        response_id: str | None = None,
    ) -> None:
        """Remember ``suggestion`` at this cursor, and its rest after each typed prefix."""
        if not suggestion:
            return
        tail = self._tail(before)
        value = (suggestion, 0, origin, response_id)
        self._entries[self._key(uri, tail, after)] = value
        for k in _seed_ends(suggestion, self._max_seeds):
            value = (suggestion, k, origin, response_id)
            self._entries[self._key(uri, tail + suggestion[:k], after)] = value

    def put_nothing(self, uri: str, before: str, after: str, origin: str) -> None:
        """Remember that the model has nothing to suggest at this exact cursor context."""
        self._entries[self._key(uri, self._tail(before), after)] = ("", 0, origin, None)

    def get(self, uri: str, before: str, after: str) -> str | None:
        """The suggestion (or its untyped rest) for this cursor context, if still fresh."""
        found = self.lookup(uri, before, after)
        return None if found is None else found.text

    def lookup(self, uri: str, before: str, after: str) -> CacheHit | None:
        """Like :meth:`get`, with where the entry came from (``text`` is "" for nothing)."""
        found = self._entries.get(self._key(uri, before, after))
        if found is None:
            return None
        suggestion, offset, origin, response_id = found
        return CacheHit(suggestion[offset:], origin, offset, response_id)

    def holds(self, uri: str, before: str, after: str) -> bool:
        """Whether an entry exists for this exact context (no seed lookup, no TTL refresh)."""
        return self._key(uri, before, after) in self._entries

    def invalidate(self, uri: str) -> None:
        """Forget every entry of ``uri`` (document closed or replaced)."""
        for key in [key for key in self._entries if key[0] == uri]:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything (e.g. the model or its settings changed)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
