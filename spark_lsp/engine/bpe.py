"""Exact o200k_base byte-pair encoding over a compact rank table (no dict, no native tables).

Why not tiktoken at run time: its Rust core keeps the 200k-token vocabulary three times over
(encoder and decoder hash maps of heap-allocated byte vectors, plus a sorted copy), and building
it needs a 200k-entry Python dict first. Measured on the development machine: +55 MB of steady
RSS and +79 MB at the peak, for a server whose only use of it is *counting* tokens, per line,
with the counts cached. Here the vocabulary lives in three flat buffers:

* ``blob``: every token's bytes, concatenated in rank order (~1.3 MB);
* ``offsets``: ``array('I')`` of n+1 offsets into ``blob``, so token ``r`` is
  ``blob[offsets[r]:offsets[r + 1]]`` (~0.8 MB);
* ``table``: an open-addressing hash table, ``array('i')`` of 2^19 slots holding rank + 1
  (0 = empty), probed linearly from ``hash(token)`` (2 MB; load factor 0.38, ~1.3 probes).

About 4 MB in all. Python's ``hash`` of bytes is salted per process, so the table is built when
the vocabulary loads (in the background, ~0.3 s, like tiktoken's own build) and never stored.

The merge is tiktoken's: split the text with the o200k pattern, then for each piece that is not
itself a token, merge the adjacent pair with the lowest rank (leftmost on ties) until no pair is
a token. Short pieces use a list scan (what tiktoken does); long ones a heap with lazy deletion,
so a 5,000-character run costs O(n log n), not O(n^2) Python steps. Counts of pieces are
memoised (code repeats its words), so counting a line costs a regex scan and a few dict hits.
tests/unit/test_tokens.py checks token ids and counts against tiktoken on a corpus, real files
and generated text. One known limit: the ``regex`` module's Unicode tables are newer than
tiktoken's, so a character assigned after Unicode 14 (e.g. CJK Extension H) may be a letter here
and not there, and the text around it may split by a token differently; code and prose almost
never hold one, and the 128k cap keeps a margin.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import io
from array import array
from typing import Final

__all__ = ["BytePairCounter", "CompactRanks"]

_ABSENT: Final[int] = -1
_INF: Final[int] = 1 << 31
#: Pieces up to this many bytes merge with the quadratic list scan (faster for short pieces).
_SHORT_PIECE: Final[int] = 48
#: Distinct pieces whose counts are memoised; the memo is dropped and restarted when full.
_PIECE_MEMO: Final[int] = 65_536


class CompactRanks:
    """Token bytes -> rank for a BPE vocabulary, in flat buffers instead of a dict."""

    __slots__ = ("_blob", "_mask", "_offsets", "_table")

    def __init__(self, blob: bytes, offsets: array[int]) -> None:
        self._blob = blob
        self._offsets = offsets
        size = 1 << max(4, (len(offsets) * 5 // 2).bit_length())
        self._mask = size - 1
        self._table = array("i", [0]) * size
        for rank in range(len(offsets) - 1):
            self._insert(blob[offsets[rank] : offsets[rank + 1]], rank)

    @classmethod
    def parse(cls, raw: bytes) -> CompactRanks:
        """Build from a ``.tiktoken`` file: ``base64(token) rank`` lines, ranks 0..n-1 in order.

        Raises ``ValueError`` on a malformed file (the caller reports which vocabulary).
        """
        blob = bytearray()
        offsets = array("I", [0])
        try:
            for line in io.BytesIO(raw):  # one line at a time: no 200k-item list
                if not line.strip():
                    continue
                token, rank = line.split()
                if int(rank) != len(offsets) - 1:
                    raise ValueError(f"rank {int(rank)} out of order at {len(offsets) - 1}")
                blob += base64.b64decode(token)
                offsets.append(len(blob))
        except binascii.Error as exc:
            raise ValueError(str(exc)) from exc
        return cls(bytes(blob), offsets)

    def _insert(self, token: bytes, rank: int) -> None:
        table, mask = self._table, self._mask
        slot = hash(token) & mask
        while table[slot]:
            slot = (slot + 1) & mask
        table[slot] = rank + 1

    def rank(self, token: bytes) -> int:
        """The rank of ``token``, or -1 when it is not in the vocabulary."""
        table, mask, blob, offsets = self._table, self._mask, self._blob, self._offsets
        slot = hash(token) & mask
        while True:
            found = table[slot]
            if not found:
                return _ABSENT
            found -= 1
            start = offsets[found]
            if blob[start : offsets[found + 1]] == token:
                return found
            slot = (slot + 1) & mask

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the buffers (for the benchmarks' accounting)."""
        return len(self._blob) + self._offsets.itemsize * len(self._offsets) + len(self._table) * 4


class BytePairCounter:
    """Counts (and encodes) ordinary text exactly as tiktoken's ``encode_ordinary`` does."""

    def __init__(self, ranks: CompactRanks, pattern: str) -> None:
        import regex  # ~20 ms of import: paid on the loader thread, not before initialize

        self.ranks = ranks
        self._split = regex.compile(pattern).findall
        self._memo: dict[str, int] = {}

    def count(self, text: str) -> int:
        """Number of tokens of ``text`` (special-token look-alikes count as plain text)."""
        memo = self._memo
        total = 0
        for piece in self._split(_well_formed(text)):
            known = memo.get(piece)
            if known is None:
                known = len(self._merge(piece.encode("utf-8"))) - 1
                if len(memo) >= _PIECE_MEMO:
                    memo.clear()
                memo[piece] = known
            total += known
        return total

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``: what tests compare with tiktoken, beyond the counts."""
        ids: list[int] = []
        rank = self.ranks.rank
        for piece in self._split(_well_formed(text)):
            data = piece.encode("utf-8")
            bounds = self._merge(data)
            ids += [rank(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
        return ids

    def _merge(self, piece: bytes) -> list[int]:
        """Boundaries of ``piece``'s tokens: ``[0, ..., len(piece)]`` (one more than tokens)."""
        if len(piece) <= 1 or self.ranks.rank(piece) != _ABSENT:
            return [0, len(piece)]
        if len(piece) <= _SHORT_PIECE:
            return self._merge_scan(piece)
        return self._merge_heap(piece)

    def _merge_scan(self, piece: bytes) -> list[int]:
        rank = self.ranks.rank
        starts = list(range(len(piece) + 1))
        pairs = [_or_inf(rank(piece[i : i + 2])) for i in range(len(piece) - 1)]
        while pairs:
            best = min(pairs)
            if best == _INF:
                break
            i = pairs.index(best)
            del starts[i + 1]
            del pairs[i]
            if i < len(pairs):
                pairs[i] = _or_inf(rank(piece[starts[i] : starts[i + 2]]))
            if i > 0:
                pairs[i - 1] = _or_inf(rank(piece[starts[i - 1] : starts[i + 1]]))
        return starts

    def _merge_heap(self, piece: bytes) -> list[int]:
        """The same merges as :meth:`_merge_scan`, in O(n log n): a heap of (rank, start)
        gives the lowest rank, leftmost on ties; stale entries are skipped by version."""
        rank = self.ranks.rank
        n = len(piece)
        nxt = list(range(1, n + 2))
        prv = list(range(-1, n))
        version = [0] * (n + 1)
        heap = [(r, i, 0) for i in range(n - 1) if (r := rank(piece[i : i + 2])) != _ABSENT]
        heapq.heapify(heap)

        def push(start: int) -> None:
            version[start] += 1
            end = nxt[nxt[start]] if nxt[start] < n else n + 1
            if end <= n:
                found = rank(piece[start:end])
                if found != _ABSENT:
                    heapq.heappush(heap, (found, start, version[start]))

        while heap:
            _, start, seen = heapq.heappop(heap)
            if seen != version[start]:
                continue
            gone = nxt[start]  # the right part is absorbed into the left one
            nxt[start] = nxt[gone]
            prv[nxt[gone]] = start
            version[gone] = -1
            push(start)
            if prv[start] >= 0:
                push(prv[start])
        bounds, at = [], 0
        while at <= n:
            bounds.append(at)
            at = nxt[at]
        return bounds


def _or_inf(rank: int) -> int:
    return _INF if rank == _ABSENT else rank


def _well_formed(text: str) -> str:
    """Lone surrogates become U+FFFD, as tiktoken does before encoding."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
