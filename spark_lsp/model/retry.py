"""How long a rate limit asks us to wait, read from any place a server puts it.

One parser for every source: the ``Retry-After`` header (seconds or an HTTP date), the
``retry-after-ms`` header, ``x-ratelimit-reset-*`` (``1m30s``, ``20ms``), a WebSocket
handshake's 429, and the error message itself ("Please try again in 11.054s", as OpenAI's
``rate_limit_exceeded`` errors say). Whatever the source, the wait is clamped to
``[MIN_WAIT_S, MAX_WAIT_S]``: a hostile or broken value (``999999999``, ``1e400``, ``-30``,
``nan``) must neither leave completions dead until a restart nor show as "retrying in -30 s".
A value that cannot be read, or is negative or not finite, counts as absent (the caller's
default applies).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

MIN_WAIT_S = 0.25
MAX_WAIT_S = 300.0

#: Header names that carry a wait, most specific first.
RETRY_HEADERS = (
    "retry-after-ms",
    "retry-after",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
)

_UNIT_S = {"ms": 0.001, "s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0,
           "minute": 60.0, "h": 3600.0, "hour": 3600.0}  # fmt: skip
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|hours?|h|minutes?|min|m|seconds?|sec|s)(?![a-z])", re.I)
_DURATION = re.compile(rf"^\s*(?:{_PART.pattern}\s*)+$", re.I)
_IN_MESSAGE = re.compile(
    r"(?:try again|retry|wait)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*[a-z]+\s*)+)", re.I
)


def clamp_wait(seconds: float | None) -> float | None:
    """A wait within ``[MIN_WAIT_S, MAX_WAIT_S]``; None for a negative or non-finite one."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return min(MAX_WAIT_S, max(MIN_WAIT_S, seconds))


def duration_seconds(text: str) -> float | None:
    """``11.054s``, ``20ms``, ``1m30s``, ``2 seconds`` -> seconds (unclamped); None otherwise."""
    if len(text) > 64 or _DURATION.match(text) is None:
        return None
    total = 0.0
    for number, unit in _PART.findall(text):
        total += float(number) * _unit(unit)
    return total


def _unit(unit: str) -> float:
    unit = unit.lower()
    return _UNIT_S.get(unit, _UNIT_S.get(unit.rstrip("s"), 1.0))


def header_seconds(name: str, value: Any) -> float | None:
    """The wait one header names (unclamped), or None when it cannot be read."""
    text = str(value).strip()[:64]
    if name.lower().endswith("-ms"):
        number = _number(text)
        return None if number is None else number / 1000
    number = _number(text)
    if number is not None:
        return number
    duration = duration_seconds(text)
    if duration is not None:
        return duration
    if name.lower() == "retry-after":
        return _http_date_seconds(text)
    return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _http_date_seconds(text: str) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp() - time.time()


def message_seconds(message: str) -> float | None:
    """The wait an error message names ("Please try again in 1m30s"), unclamped."""
    found = _IN_MESSAGE.search(message[:4096])
    if found is None:
        return None
    words = found.group(1).strip().rstrip(".")
    # "in 11.054s. Visit ..." -> keep the leading duration tokens only.
    parts = _PART.findall(words)
    if not parts:
        return None
    return sum(float(number) * _unit(unit) for number, unit in parts)


def retry_after(headers: Mapping[str, Any] | None, message: str | None = None) -> float | None:
    """The clamped wait a rate-limited answer asks for: headers first, then its message."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    for name in RETRY_HEADERS:
        if name in lowered:
            wait = clamp_wait(header_seconds(name, lowered[name]))
            if wait is not None:
                return wait
    if message:
        return clamp_wait(message_seconds(message))
    return None
