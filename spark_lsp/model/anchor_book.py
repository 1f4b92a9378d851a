"""Logical anchors as pure state: which warmed response each one stands for now.

A caller chains from a *logical* anchor id (the response id of its first warm-up) and keeps it
for good, while the response it stands for moves: a rotation re-warms it on the spare, a dropped
link or a ``previous_response_not_found`` leaves it unbound until it is re-warmed. This book keeps
that translation, and the few recent responses a request may chain from without a warm-up. Which
lane of which link holds a response is the pool's (``model/pool.py``), consulted here; sending
the warm-ups and awaiting them is the session's. No sockets and no clock: a unit test drives it
with a ``Pool`` of plain strings.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from spark_lsp.model.link import Inflight
from spark_lsp.model.pool import Pool
from spark_lsp.model.protocol import CreateRequest

__all__ = ["Anchor", "AnchorBook", "AnchorState"]

L = TypeVar("L", bound=Hashable)
AnchorState = Literal["ready", "warming", "gone"]
#: Recent responses a request may chain from (the server keeps each lane's latest only).
RECENT_RESPONSES = 16


@dataclass(eq=False)
class Anchor:
    """A logical anchor: the warm-up to replay, and the response standing for it now."""

    request: CreateRequest
    #: None while unbound: lost with its link (or by the server), not re-warmed yet.
    response_id: str | None = None

    @property
    def bound(self) -> bool:
        """True while a warmed response stands for this anchor."""
        return self.response_id is not None


class AnchorBook(Generic[L]):
    """Logical anchors, least recently used first, and recent responses; pure state."""

    def __init__(self, pool: Pool[L], *, capacity: int, recent: int = RECENT_RESPONSES) -> None:
        self._pool = pool
        #: Anchors kept beyond it are dropped when unbound (bound ones the pool caps itself).
        self.capacity = capacity
        self._anchors: OrderedDict[str, Anchor] = OrderedDict()
        self._recent_cap = recent
        #: Response id -> where it ran, for chaining from a response that was not warmed as an
        #: anchor (the prefetch after a shown suggestion chains from that suggestion's response).
        self._recent: OrderedDict[str, tuple[L, Inflight]] = OrderedDict()

    # -- anchors ------------------------------------------------------------------------------

    def add(self, anchor_id: str, anchor: Anchor) -> None:
        """Keep a freshly warmed anchor under ``anchor_id`` (its first response id).

        Bound anchors are capped by the pool's lane policy (``reserve`` evicts); unbound ones
        (lost with their link, not re-warmed yet) must not pile up beyond what one link can
        hold, so the least recently used of them go first.
        """
        self._anchors[anchor_id] = anchor
        unbound = [key for key, held in self._anchors.items() if not held.bound]
        while len(self._anchors) > self.capacity and unbound:
            del self._anchors[unbound.pop(0)]

    def state(self, anchor_id: str) -> AnchorState:
        """``ready`` to chain from now, ``warming`` (being re-warmed) or ``gone`` (evicted)."""
        anchor = self._anchors.get(anchor_id)
        if anchor is None:
            return "gone"
        if anchor.response_id is not None and self._pool.holder(anchor.response_id) is not None:
            return "ready"
        return "warming"

    def home(self, anchor_id: str) -> tuple[L, str] | None:
        """Where a request chained from ``anchor_id`` runs, and the response id it names on
        that link; None when the anchor is gone or not on a live link."""
        anchor = self._anchors.get(anchor_id)
        if anchor is None or anchor.response_id is None:
            return None
        link = self._pool.anchor_home(anchor.response_id)
        return None if link is None else (link, anchor.response_id)

    def touch(self, anchor_id: str) -> None:
        """A request chains from ``anchor_id``: it is re-warmed first after a drop."""
        if anchor_id in self._anchors:
            self._anchors.move_to_end(anchor_id)

    def anchors(self) -> list[Anchor]:
        """Every anchor kept, least recently used first (a snapshot: warming may change it)."""
        return list(self._anchors.values())

    def unbound(self) -> list[Anchor]:
        """Anchors to re-warm, most recently used first."""
        return [anchor for anchor in reversed(self._anchors.values()) if not anchor.bound]

    # -- where warm-ups go ----------------------------------------------------------------------

    def reserve(self, link: L) -> str | None:
        """The lane a warm-up goes to on ``link`` (the pool's policy); an anchor whose lane it
        takes over is gone (the server keeps one response per lane). None: no lane is free."""
        spot = self._pool.anchor_lane(link)
        if spot is None:
            return None
        if spot.evicted is not None:
            self._evict(spot.evicted)
        return spot.lane

    def bind(self, anchor: Anchor, link: L, lane: str, response_id: str) -> None:
        """The warm-up on ``lane`` finished: ``response_id`` stands for ``anchor`` now."""
        self._pool.bind_anchor(link, lane, response_id)
        anchor.response_id = response_id

    def unbind(self, response_ids: list[str]) -> None:
        """Those responses are gone (with their link): their anchors wait for a re-warm."""
        lost = set(response_ids)
        for anchor in self._anchors.values():
            if anchor.response_id in lost:
                anchor.response_id = None

    def lost_by_server(self, anchor_id: str) -> bool:
        """The server no longer has what ``anchor_id`` stands for; True when that unbound it
        (re-warm it then)."""
        anchor = self._anchors.get(anchor_id)
        if anchor is None or anchor.response_id is None:
            return False
        self._pool.forget_anchor(anchor.response_id)
        self.unbind([anchor.response_id])
        return True

    def _evict(self, response_id: str) -> None:
        for anchor_id, anchor in list(self._anchors.items()):
            if anchor.response_id == response_id:
                del self._anchors[anchor_id]

    # -- recent responses -----------------------------------------------------------------------

    def remember(self, response_id: str, link: L, inflight: Inflight) -> None:
        """A response runs on ``link``: a request may chain from it there (newest kept)."""
        self._recent[response_id] = (link, inflight)
        while len(self._recent) > self._recent_cap:
            self._recent.popitem(last=False)

    def recent(self, response_id: str) -> tuple[L, Inflight] | None:
        """Where a recent response that is not an anchor ran (an anchor is chained by
        ``home``, which follows it across links)."""
        if response_id in self._anchors:
            return None
        return self._recent.get(response_id)
