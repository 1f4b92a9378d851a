"""One secret scrubber for everything that leaves the process towards a person.

Status details, popups, log messages, the log file and stderr, ``spark/stats``, ``doctor`` and
exception texts all pass through :func:`scrub`. It hides the configured API key in every form
it may take on the way out (whole, trimmed, each line or invisible-separated piece of a
damaged key, ``repr``-escaped), the userinfo and credential query parameters of URLs, and the
value of any ``Authorization`` header or ``Bearer``/``Basic`` credential. Keys are validated
where they are read (:func:`key_problem`): a copy-paste accident is named by its variable,
never shown.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

REDACTED = "[redacted]"
#: Pieces of a registered secret shorter than this are left alone (they would hide words).
MIN_PIECE = 8

_AUTH_HEADER = re.compile(r"(?i)(\bauthorization\s*[:=]\s*)([^\r\n]+)")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token|digest)(\s+)[A-Za-z0-9._~+/=-]{6,}")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]*@")
_QUERY_CREDENTIAL = re.compile(
    r"(?i)([?&;](?:api[_-]?key|key|token|access[_-]?token|auth|password|passwd|pwd|secret"
    r"|client[_-]?secret|sig|signature)=)[^&#\s'\"]*"
)
#: Characters a key never contains but a copy-paste can smuggle in: controls (newline, tab,
#: escape) and format characters (zero-width space and joiners, BOM, direction marks).
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})


class Scrubber:
    """Registered secrets plus the credential shapes every text is checked for."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, secret: str | None) -> None:
        """Hide ``secret`` from now on, in every form it may be printed in."""
        if not secret or not secret.strip():
            return
        forms = {secret, secret.strip(), repr(secret)[1:-1], secret.encode("unicode_escape")
                 .decode("ascii")}
        forms.update(_pieces(secret))
        with self._lock:
            self._secrets.update(f for f in forms if len(f) >= MIN_PIECE)
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, longest_first)))

    def scrub(self, text: str) -> str:
        """``text`` without registered secrets or credential shapes."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        if "://" in text:
            text = _USERINFO.sub(rf"\1{REDACTED}@", text)
        if "=" in text:
            text = _QUERY_CREDENTIAL.sub(rf"\1{REDACTED}", text)
        lowered = text.lower()
        if "authorization" in lowered:
            text = _AUTH_HEADER.sub(rf"\1{REDACTED}", text)
        if any(s in lowered for s in ("bearer", "basic", "token", "digest")):
            text = _AUTH_SCHEME.sub(rf"\1\2{REDACTED}", text)
        return text

    def scrub_tree(self, value: Any) -> Any:
        """Scrub every string in a JSON-like tree (``spark/stats``)."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_tree(v) for v in value]
        return value


def _pieces(secret: str) -> list[str]:
    """The parts a damaged key splits into when printed: per line, per invisible character."""
    cleaned = "".join(" " if unicodedata.category(c) in _INVISIBLE else c for c in secret)
    return cleaned.split()


#: Longer than any API key or gateway token; a longer "key" is a mistake (a file's content).
MAX_KEY_CHARS = 8192


def key_problem(source: str, value: str) -> str | None:
    """Why the key from ``source`` (``$OPENAI_API_KEY``, a command's output) cannot be right.

    The one check for keys from every source, naming the source, never the value.
    """
    value = value.strip()
    if len(value) > MAX_KEY_CHARS:
        return (
            f"{source} is {len(value)} characters long, more than any API key "
            f"(at most {MAX_KEY_CHARS}); check that it holds only the key"
        )
    for c in value:
        if unicodedata.category(c) in _INVISIBLE or c.isspace():
            name = unicodedata.name(c, f"U+{ord(c):04X}")
            return (
                f"{source} contains a control or invisible character ({name}), most likely a "
                "copy-paste accident; set it again without it"
            )
    return None


#: The process-wide scrubber: the configured key is registered where it is read.
SCRUBBER = Scrubber()


def scrub(text: str) -> str:
    """:meth:`Scrubber.scrub` with the process-wide scrubber."""
    return SCRUBBER.scrub(text)


def register_secret(secret: str | None) -> None:
    """Register a secret with the process-wide scrubber."""
    SCRUBBER.register(secret)
