"""What every transport's connection shares: responses in flight, routed by lane.

A *link* is one dialled connection of some transport (a WebSocket, or an HTTP client with its
keep-alive sockets). The session sees only this surface: ``send`` a request on a lane, read the
response's events from its ``Inflight`` queue, ``abandon`` it, ``close``. Which lanes are free is
the pool's business (``model/pool.py``); a link only says when a lane's response has ended
(``on_released``) and when the whole link is gone (``on_closed``).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from spark_lsp.errors import ModelUnavailable, SparkError
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    ResponseFinished,
    ResponseStarted,
    ServerEvent,
)

Item = ServerEvent | SparkError


class Inflight:
    """The receiving end of one response on one lane."""

    def __init__(self, lane: str) -> None:
        self.lane = lane
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.abandoned = False
        self.finished = asyncio.Event()
        self.response_id: str | None = None
        #: Bytes the request took on the wire (the frame, or the HTTP body).
        self.sent = 0


class Link(ABC):
    """One connection to the model, of whichever transport."""

    #: The transport's name, for ``doctor`` and the stats (``websocket``, ``http``).
    transport: ClassVar[str]
    #: The API spoken on it (``responses`` or ``chat``).
    api: str = "responses"
    #: True when ``previous_response_id`` works here (connection-local state of WebSocket mode).
    can_chain: bool = False

    def __init__(self, handshake_s: float) -> None:
        self.handshake_s = handshake_s
        self.inflight: dict[str, Inflight] = {}
        self.closed = asyncio.Event()
        self.bytes_sent = 0
        self.on_closed: Callable[[Link, SparkError], None] | None = None
        self.on_released: Callable[[Link, str], None] | None = None
        self._shut_reported = False

    @abstractmethod
    async def send(self, request: CreateRequest, lane: str) -> Inflight:
        """Start ``request`` on a lane the pool reserved; its events arrive on the inflight."""

    @abstractmethod
    def abandon(self, inflight: Inflight) -> None:
        """The consumer went away: stop delivering (drain or cut, as the transport can)."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection and fail whatever still runs on it."""

    # -- shared bookkeeping -------------------------------------------------------------------

    def _open(self, lane: str) -> Inflight:
        inflight = Inflight(lane)
        self.inflight[lane] = inflight
        return inflight

    def _deliver(self, inflight: Inflight, event: ServerEvent) -> None:
        """Hand an event to its consumer; a terminal event or an error ends the lane's turn."""
        if isinstance(event, ResponseStarted):
            inflight.response_id = event.response_id
        if not inflight.abandoned:
            inflight.queue.put_nowait(event)
        if isinstance(event, ResponseFinished | ErrorEvent):
            self._release(inflight.lane)

    def _release(self, lane: str) -> None:
        inflight = self.inflight.pop(lane, None)
        if inflight is None:
            return
        inflight.finished.set()
        if self.on_released is not None:
            self.on_released(self, lane)

    def _fail_all(self, error: SparkError) -> None:
        for lane, inflight in list(self.inflight.items()):
            if not inflight.abandoned:
                inflight.queue.put_nowait(error)
            self._release(lane)

    def _shut(self, error: SparkError) -> None:
        """Fail what runs here, mark the link closed and tell the session (once)."""
        self._fail_all(error)
        self.closed.set()
        if self.on_closed is not None and not self._shut_reported:
            self._shut_reported = True
            self.on_closed(self, error)

    def _closed_by_us(self) -> None:
        self._shut(ModelUnavailable("the model connection was closed"))
