"""The lane/connection pool as pure state: which connection serves, which rotates, who owns what.

No sockets and no clock of its own (``now`` is passed in), so every decision the session makes
about its connections — where a request runs, when a spare is dialled, when an old connection
may close, which anchors a lost connection takes with it — is a plain function call a unit test
can drive. The maintainer (``model/maintainer.py``) does the I/O these decisions ask for.

Rotation is on a warm spare: a connection that reaches ``rotate_at`` is *due*; while it keeps
serving, one spare is dialled; when the spare is added, the oldest due connection retires (takes
no new work) and closes once its in-flight responses have finished. Rotations go one at a time,
so connections that aged together are replaced one after another, never all at once.

Anchors (``generate: false`` warm-ups that later requests chain from) live on one lane of one
connection: the server keeps only the latest response per lane. One policy decides both where a
new anchor goes and which anchor it evicts: a free anchor lane, else the least recently used
anchor's lane.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

C = TypeVar("C", bound=Hashable)


@dataclass(eq=False)
class Slot(Generic[C]):
    """One connection's bookkeeping."""

    handle: C
    opened_at: float
    lanes: tuple[str, ...]
    anchor_lanes: tuple[str, ...]
    free: deque[str] = field(default_factory=deque)
    busy: set[str] = field(default_factory=set)
    retiring: bool = False
    #: False while a spare is being prepared (anchors re-warmed): ``take`` skips it, though a
    #: request chained from an anchor already re-warmed there may follow that anchor.
    serving: bool = False
    #: response id → anchor lane, least recently used first.
    anchors: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.free = deque(self.lanes)

    @property
    def idle(self) -> bool:
        """No response (not even a draining one or a warm-up) runs here."""
        return not self.busy


@dataclass(frozen=True)
class AnchorLane(Generic[C]):
    """Where a warm-up goes, and the anchor it replaces there (drop it: the server will)."""

    handle: C
    lane: str
    evicted: str | None


class Pool(Generic[C]):
    """Connections, their lanes and their anchors; every method is a pure state change."""

    def __init__(
        self,
        *,
        wanted: int,
        rotate_at_s: float,
        lanes: tuple[str, ...],
        anchor_lanes: tuple[str, ...] = (),
        drain_grace_s: float = 30.0,
    ) -> None:
        self.wanted = wanted
        self.rotate_at_s = rotate_at_s
        #: How long past ``rotate_at_s`` a retiring connection may keep draining.
        self.drain_grace_s = drain_grace_s
        self.lanes = lanes
        self.anchor_lanes = anchor_lanes
        #: Dials (and spare preparations) under way.
        self.dialing = 0
        #: Connections asked for beyond ``wanted`` (a lane-less pool under load).
        self.extra = 0
        self._slots: dict[C, Slot[C]] = {}

    # -- connections ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[C]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def standby(self, handle: C) -> bool:
        """True while ``handle`` is adopted but not yet serving."""
        slot = self._slots.get(handle)
        return slot is not None and not slot.serving

    def serving(self) -> list[C]:
        """Connections that take new work, newest first."""
        slots = sorted(self._slots.values(), key=lambda s: s.opened_at, reverse=True)
        return [slot.handle for slot in slots if slot.serving and not slot.retiring]

    def due(self, now: float) -> list[C]:
        """Serving connections old enough to be replaced, oldest first."""
        oldest_first = sorted(self.serving(), key=lambda h: self._slots[h].opened_at)
        return [h for h in oldest_first if self.age(h, now) >= self.rotate_at_s]

    def next_due_in(self, now: float) -> float:
        """Seconds until a serving connection that is not due yet becomes due (inf: none)."""
        left = [self.rotate_at_s - self.age(h, now) for h in self.serving()]
        return min((t for t in left if t > 0), default=float("inf"))

    def dials_needed(self, now: float) -> int:
        """How many dials to start now: fill up to ``wanted``, one rotation spare at a time."""
        serving = len(self.serving())
        fresh = serving - len(self.due(now))
        missing = self.wanted + self.extra - serving - self.dialing
        spare = 1 if fresh < self.wanted and self.dialing == 0 else 0
        return max(missing, spare, 0)

    def add(self, handle: C, now: float) -> None:
        """Adopt a dialled connection as a standby: anchors may be warmed, no requests yet."""
        self._slots[handle] = Slot(handle, now, self.lanes, self.anchor_lanes)

    def promote(self, handle: C, now: float) -> list[C]:
        """Let a standby serve; returns connections to close now (replaced and idle).

        When connections are due, the new one is the spare of the oldest: that one retires.
        """
        slot = self._slots.get(handle)
        if slot is None:
            return []
        slot.serving = True
        self.extra = max(0, self.extra - 1)
        return self.retire_replaced(now)

    def retire_replaced(self, now: float) -> list[C]:
        """Retire due connections that others already replace; returns those to close now."""
        closable: list[C] = []
        for handle in self.due(now):
            if len(self.serving()) <= self.wanted:
                break
            closable += self.retire(handle)
        return closable

    def retire(self, handle: C) -> list[C]:
        """Take no new work on ``handle``; returns ``[handle]`` when it can close at once."""
        slot = self._slots.get(handle)
        if slot is None:
            return []
        slot.retiring = True
        slot.free.clear()
        return [handle] if slot.idle else []

    def overdue(self, now: float) -> list[C]:
        """Retiring connections still busy past their grace: close them anyway.

        A drained response whose terminal event never comes must not hold a connection open
        until the provider cuts it at its hard limit.
        """
        limit = self.rotate_at_s + self.drain_grace_s
        return [h for h, s in self._slots.items() if s.retiring and self.age(h, now) >= limit]

    def surplus(self) -> list[C]:
        """Idle serving connections beyond ``wanted`` (extra pool connections dialled on load)."""
        serving = self.serving()
        extra = len(serving) - self.wanted
        idle = [h for h in reversed(serving) if self._slots[h].idle]
        return idle[: max(0, extra)]

    def remove(self, handle: C) -> list[str]:
        """Forget a closed connection; returns the anchors that were lost with it."""
        slot = self._slots.pop(handle, None)
        return list(slot.anchors) if slot is not None else []

    def age(self, handle: C, now: float) -> float:
        """Seconds since ``handle`` was adopted."""
        return now - self._slots[handle].opened_at

    def retiring(self, handle: C) -> bool:
        """True while ``handle`` finishes its last responses."""
        slot = self._slots.get(handle)
        return slot is None or slot.retiring

    def in_flight(self, handle: C) -> int:
        """Responses (including warm-ups and drains) running on ``handle``."""
        slot = self._slots.get(handle)
        return len(slot.busy) if slot is not None else 0

    # -- lanes ------------------------------------------------------------------------------

    def take(self) -> tuple[C, str] | None:
        """A free lane on the newest serving connection that has one."""
        for handle in self.serving():
            lane = self.take_on(handle)
            if lane is not None:
                return handle, lane
        return None

    def take_on(self, handle: C) -> str | None:
        """A free lane on ``handle`` (a chained request must run where its anchor lives)."""
        slot = self._slots.get(handle)
        if slot is None or slot.retiring or not slot.free:
            return None
        lane = slot.free.popleft()
        slot.busy.add(lane)
        return lane

    def release(self, handle: C, lane: str) -> bool:
        """A response on ``lane`` ended; True when ``handle`` is retiring and may now close."""
        slot = self._slots.get(handle)
        if slot is None or lane not in slot.busy:
            return False
        slot.busy.discard(lane)
        if slot.retiring:
            return slot.idle
        if lane in slot.lanes:
            slot.free.append(lane)
        return False

    # -- anchors ----------------------------------------------------------------------------

    def anchor_lane(self, handle: C) -> AnchorLane[C] | None:
        """Reserve the lane a new anchor goes to on ``handle``: free, else the LRU anchor's."""
        slot = self._slots.get(handle)
        if slot is None or slot.retiring:
            return None
        held = set(slot.anchors.values())
        for lane in slot.anchor_lanes:
            if lane not in held and lane not in slot.busy:
                slot.busy.add(lane)
                return AnchorLane(handle, lane, None)
        for response_id, lane in slot.anchors.items():
            if lane not in slot.busy:
                del slot.anchors[response_id]
                slot.busy.add(lane)
                return AnchorLane(handle, lane, response_id)
        return None

    def bind_anchor(self, handle: C, lane: str, response_id: str) -> None:
        """The warm-up on ``lane`` finished: ``response_id`` now lives there."""
        slot = self._slots.get(handle)
        if slot is not None:
            slot.anchors[response_id] = lane

    def holder(self, response_id: str) -> C | None:
        """The connection (not retiring) holding ``response_id``; a pure query."""
        for slot in self._slots.values():
            if response_id in slot.anchors and not slot.retiring:
                return slot.handle
        return None

    def anchor_home(self, response_id: str) -> C | None:
        """Where a request chained from ``response_id`` runs (marks it recently used)."""
        handle = self.holder(response_id)
        if handle is not None:
            self._slots[handle].anchors.move_to_end(response_id)
        return handle

    def forget_anchor(self, response_id: str) -> None:
        """The server no longer has ``response_id`` (``previous_response_not_found``)."""
        for slot in self._slots.values():
            slot.anchors.pop(response_id, None)
