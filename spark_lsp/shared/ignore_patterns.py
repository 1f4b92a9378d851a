"""gitignore globs compiled to linear-time matchers (no backtracking, ever).

Translating a glob to a backtracking regex lets one ignore line hang the server:
``*a*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a name of 40 ``a`` grows ~4x per two characters, and
``**/`` repeated 30 times does the same on a deep path. Here a glob becomes a list of tokens
run as a set-of-states automaton (Thompson's construction): the work is at most
``len(path) x len(pattern)`` steps whatever the input. Malformed globs (``[z-a]``, ``[!]``)
are refused with a reason instead of failing every completion later, and every decision can
run under a time budget, past which the caller treats the file as excluded (fail closed).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass

#: Longer ignore lines are refused: nobody writes them, and they bound the matcher's cost.
MAX_PATTERN_CHARS = 1024

_LITERAL, _ONE, _CLASS, _STAR, _DIRS, _TAIL = range(6)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "ignore_pattern_deadline", default=None
)


class InvalidPattern(ValueError):
    """An ignore line that cannot be a glob; the message says why."""


class BudgetExceeded(Exception):
    """A decision ran past its time budget (see :func:`time_budget`)."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: int
    chars: str = ""  # the literal, or the class's members (ranges expanded to pairs)
    negated: bool = False

    def accepts(self, c: str) -> bool:
        if self.kind == _LITERAL:
            return c == self.chars
        if c == "/":
            return False
        if self.kind == _ONE:
            return True
        ranges = zip(self.chars[::2], self.chars[1::2], strict=True)
        inside = any(lo <= c <= hi for lo, hi in ranges)
        return inside != self.negated


class GlobMatcher:
    """A compiled glob; ``match(path)`` is True when the glob matches the whole path (or a
    leading run of its directories), as the regex ``^prefix glob(?:/.*)?$`` did.

    The automaton's states are bits of one integer: bit ``2i`` is "about to match token i",
    bit ``2i+1`` "inside token i's repetition" (``**/``, a trailing ``/**``); the last token's
    ``2n+1`` is the ``/...`` a directory match allows after the end. A character moves every
    state at once with a few shifts and masks, so a match costs O(len(path)) big-integer steps.
    """

    __slots__ = ("_accepts", "_dirs", "_end", "_skip", "_stars", "_tails", "_tokens", "pattern")

    def __init__(self, tokens: list[_Token], pattern: str) -> None:
        self._tokens = tokens
        self.pattern = pattern
        self._end = 2 * len(tokens)
        self._stars = self._mask(_STAR)
        self._dirs = self._mask(_DIRS)
        self._tails = self._mask(_TAIL)
        self._skip = self._stars | self._dirs  # may match nothing
        self._accepts: dict[str, int] = {}

    def _mask(self, kind: int) -> int:
        return sum(1 << 2 * i for i, token in enumerate(self._tokens) if token.kind == kind)

    def _single(self, c: str) -> int:
        """The states whose one-character token accepts ``c`` (cached per character)."""
        mask = self._accepts.get(c)
        if mask is None:
            mask = sum(
                1 << 2 * i
                for i, token in enumerate(self._tokens)
                if token.kind in (_LITERAL, _ONE, _CLASS) and token.accepts(c)
            )
            self._accepts[c] = mask
        return mask

    def _closure(self, states: int) -> int:
        """Add what is reachable without input: ``*``/``**/`` skipped, a ``/**`` finished."""
        while True:
            grown = states | (states & self._skip) << 2 | (states & self._tails << 1) << 1
            if grown == states:
                return states
            states = grown

    def match(self, path: str) -> bool:
        """Run the automaton over ``path``."""
        _check_budget()
        end_bit, after_end = 1 << self._end, 1 << self._end + 1
        dirs, dirs_in = self._dirs, self._dirs << 1
        tails, tails_in = self._tails, self._tails << 1
        states = self._closure(1)
        for c in path:
            slash = c == "/"
            moved = (states & self._single(c)) << 2
            moved |= (states & dirs) << 1 | states & dirs_in  # ``.*`` inside ``**/``
            moved |= states & tails_in | states & after_end
            if slash:
                moved |= (states & dirs) << 2 | (states & dirs_in) << 1
                moved |= (states & tails) << 1 | (after_end if states & end_bit else 0)
            else:
                moved |= states & self._stars
            if not moved:
                return False
            states = self._closure(moved)
        return bool(states & (end_bit | after_end))


def compile_glob(glob: str, anchored: bool) -> GlobMatcher:
    """Compile one gitignore glob (already stripped of ``!`` and a trailing ``/``).

    Raises :class:`InvalidPattern` for what no glob can mean.
    """
    if len(glob) > MAX_PATTERN_CHARS:
        raise InvalidPattern(f"longer than {MAX_PATTERN_CHARS} characters")
    tokens = [] if anchored else [_Token(_DIRS)]
    i = 0
    while i < len(glob):
        token, i = _next_token(glob, i)
        if token.kind == _STAR and tokens and tokens[-1].kind == _STAR:
            continue  # ``**`` inside a name is one ``*``
        if token.kind == _DIRS and tokens and tokens[-1].kind == _DIRS:
            continue  # ``**/**/`` is one ``**/``
        tokens.append(token)
    return GlobMatcher(tokens, glob)


def _next_token(glob: str, i: int) -> tuple[_Token, int]:
    if glob.startswith("**/", i):
        return _Token(_DIRS), i + 3
    if glob.startswith("/**", i) and i + 3 == len(glob):
        return _Token(_TAIL), i + 3
    c = glob[i]
    if c == "*":
        return _Token(_STAR), i + 1
    if c == "?":
        return _Token(_ONE), i + 1
    if c == "[":
        return _character_class(glob, i)
    if c == "\\" and i + 1 < len(glob):
        return _Token(_LITERAL, glob[i + 1]), i + 2
    return _Token(_LITERAL, c), i + 1


def _character_class(glob: str, start: int) -> tuple[_Token, int]:
    """``[...]`` (``]`` first is a member); an unclosed class never matches in git: refused."""
    i = start + 1
    negated = i < len(glob) and glob[i] in "!^"
    i += negated
    first = i
    pairs: list[str] = []
    while i < len(glob) and (glob[i] != "]" or i == first):
        lo = glob[i]
        if lo == "\\" and i + 1 < len(glob):
            i += 1
            lo = glob[i]
        if i + 2 < len(glob) and glob[i + 1] == "-" and glob[i + 2] != "]":
            hi = glob[i + 2]
            if hi < lo:
                raise InvalidPattern(f"the range {lo}-{hi} in {glob[start:]!r} is reversed")
            pairs.append(lo + hi)
            i += 3
        else:
            pairs.append(lo + lo)
            i += 1
    if i >= len(glob):
        raise InvalidPattern(f"the character class in {glob[start:]!r} is never closed")
    return _Token(_CLASS, "".join(pairs), negated), i + 1


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Bound every match made inside the block; past it, a match raises BudgetExceeded."""
    reset = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(reset)


def check_budget() -> None:
    """Raise BudgetExceeded when the current :func:`time_budget` has run out."""
    _check_budget()


def _check_budget() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise BudgetExceeded("the exclusion check ran past its time budget")
