"""One WebSocket connection to a Responses endpoint, with its reader.

A connection owns a single reader task that decodes every frame and routes it to the response
that owns the frame's lane (``stream_id``; ``None`` on a lane-less connection). A response whose
consumer went away is *drained*: its remaining events are read and discarded until its terminal
event, and only then is its lane released, so its late events can never be read as another
response's. Anything that makes the stream untrustworthy (a frame that is not JSON, the socket
closing) fails every response on the connection and closes it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidProxy,
    InvalidStatus,
    InvalidURI,
)
from websockets.frames import CloseCode

from spark_lsp import __version__
from spark_lsp.errors import (
    AuthError,
    ModelUnavailable,
    ProtocolError,
    RateLimited,
    ReplyTooLarge,
    SparkError,
    UpgradeRequired,
)
from spark_lsp.model.limits import MAX_ERROR_BODY_BYTES, MAX_MESSAGE_BYTES
from spark_lsp.model.link import Inflight, Link
from spark_lsp.model.netconfig import Proxy, client_ssl_context
from spark_lsp.model.protocol import (
    CreateRequest,
    ErrorEvent,
    ResponseFinished,
    ServerEvent,
    decode_event,
    encode_create,
)
from spark_lsp.model.retry import retry_after

log = logging.getLogger(__name__)

#: Error codes that end a whole connection rather than one response.
CONNECTION_ERROR_CODES = frozenset({"websocket_connection_limit_reached"})
#: A message (after decompression) beyond this closes the connection: terminal events echo the
#: whole reply, so websockets' 1 MiB default is too small; ``limits.py`` explains the size.
MAX_FRAME_BYTES = MAX_MESSAGE_BYTES


Transport = Literal["auto", "websocket", "http"]
Api = Literal["responses", "chat"]


@dataclass(frozen=True)
class ConnectOptions:
    """How to dial the endpoint; the key is kept out of ``repr`` so it never reaches a log."""

    url: str
    api_key: str | None = field(default=None, repr=False)
    connect_timeout: float = 5.0
    ping_interval: float | None = 20.0
    #: ``auto``: WebSocket mode, falling back to HTTP (for good) when the upgrade gets a 426.
    transport: Transport = "auto"
    api: Api = "responses"
    proxy: Proxy | None = None
    #: A PEM bundle of extra CAs to trust (added to the system store).
    ca_file: str | None = None

    def ssl_context(self, url: str) -> ssl.SSLContext | None:
        """The client TLS context for a secure ``url`` (None for plain ws:// or http://)."""
        secure = urlsplit(url).scheme in ("wss", "https")
        return client_ssl_context(self.ca_file) if secure else None

    def headers(self) -> dict[str, str]:
        """Upgrade headers: bearer auth plus the documented beta opt-in."""
        headers = {"OpenAI-Beta": "responses_websockets=2026-02-06"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


class Connection(Link):
    """A WebSocket in the Responses API's WebSocket mode, with its reader task."""

    transport = "websocket"
    can_chain = True

    def __init__(self, ws: ClientConnection, handshake_s: float) -> None:
        super().__init__(handshake_s)
        self.ws = ws
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        """Close the socket and fail whatever still runs on it."""
        await self.ws.close()
        self._closed_by_us()
        self._reader.cancel()

    async def send(self, request: CreateRequest, lane: str) -> Inflight:
        """Start ``request`` on a lane the pool reserved."""
        inflight = self._open(lane)
        frame = encode_create(request.with_stream_id(lane or None))
        try:
            await self.ws.send(frame)
        except ConnectionClosed:
            self._release(lane)
            raise ModelUnavailable("the model connection closed while sending") from None
        inflight.sent = len(frame.encode())
        self.bytes_sent += inflight.sent
        return inflight

    def abandon(self, inflight: Inflight) -> None:
        """Stop delivering events to a consumer; the lane drains in the background.

        There is no cancel event: the lane is handed out again only after the response's
        terminal event, so its late events can never be read as another response's.
        """
        inflight.abandoned = True
        while not inflight.queue.empty():
            inflight.queue.get_nowait()

    async def _read_loop(self) -> None:
        error: SparkError = ModelUnavailable("the model connection closed")
        try:
            async for raw in self.ws:
                self._route(decode_event(raw))
        except ProtocolError as exc:
            log.warning("closing the model connection: %s", exc)
            error = exc
            # Fail the waiting responses now: the closing handshake may take up to the close
            # timeout, longer than a short stall timeout, which would report the wrong error.
            self._shut(error)
            await self.ws.close(code=1002, reason="protocol error")
        except ConnectionClosed as exc:
            error = _dropped(exc)
        except SparkError as exc:
            error = exc
        finally:
            self._shut(error)

    def _route(self, event: ServerEvent) -> None:
        if isinstance(event, ErrorEvent) and event.code in CONNECTION_ERROR_CODES:
            raise ModelUnavailable(f"the model server ended the connection ({event.code})")
        inflight = self._owner(event)
        if inflight is None:
            log.debug("dropping an event of no running response: %r", event)
            return
        if isinstance(event, ResponseFinished) and not _same_response(inflight, event):
            log.debug("dropping a terminal event of another response: %r", event)
            return
        self._deliver(inflight, event)

    def _owner(self, event: ServerEvent) -> Inflight | None:
        lane = event.stream_id or ""
        if lane in self.inflight:
            return self.inflight[lane]
        if isinstance(event, ErrorEvent) and self.inflight:
            # Errors about the request itself (e.g. an unknown ``stream_id``) carry no lane.
            return next(iter(self.inflight.values()))
        return None


def _same_response(inflight: Inflight, event: ResponseFinished) -> bool:
    return inflight.response_id is None or event.response_id in (None, inflight.response_id)


def _dropped(exc: ConnectionClosed) -> SparkError:
    """The error for a closed socket; one we closed for an oversized message says so."""
    sent = exc.sent
    if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
        return ReplyTooLarge(
            f"the model sent a message over {MAX_FRAME_BYTES} bytes; the connection was closed"
        )
    return ModelUnavailable(f"the model connection dropped ({_close_reason(exc)})")


def _close_reason(exc: ConnectionClosed) -> str:
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "no close frame"
    return f"code {frame.code}{': ' + frame.reason if frame.reason else ''}"


async def dial(options: ConnectOptions) -> Connection:
    """Open a connection; map every failure to the error that says what the user can do."""
    started = time.monotonic()
    try:
        ws = await connect(
            options.url,
            ssl=options.ssl_context(options.url),
            # websockets tunnels with CONNECT and takes credentials from the proxy URL.
            proxy=options.proxy.source if options.proxy is not None else None,
            additional_headers=options.headers(),
            user_agent_header=f"spark-lsp/{__version__}",
            open_timeout=options.connect_timeout,
            ping_interval=options.ping_interval,
            ping_timeout=options.ping_interval,
            max_size=MAX_FRAME_BYTES,
            compression="deflate",
            close_timeout=1.0,
        )
    except InvalidStatus as exc:
        response = exc.response
        body = (response.body or b"")[:MAX_ERROR_BODY_BYTES].decode("utf-8", "replace")
        raise _status_error(options.url, response.status_code, response.headers, body) from None
    except InvalidURI:
        raise ModelUnavailable(
            f"{options.url!r} is not a ws:// or wss:// URL; fix spark.model.endpoint"
        ) from None
    except (OSError, TimeoutError, InvalidHandshake, InvalidProxy) as exc:
        raise ModelUnavailable(
            f"cannot connect to the model at {options.url} ({_describe(exc)})"
        ) from None
    return Connection(ws, time.monotonic() - started)


def _status_error(url: str, status: int, headers: Headers | None, body: str = "") -> SparkError:
    if status in (401, 403):
        return AuthError(
            f"the model endpoint {url} refused the API key (HTTP {status}); "
            "check OPENAI_API_KEY or spark.model.apiKeyEnv"
        )
    if status == 429:
        wait = retry_after(dict(headers.raw_items()) if headers is not None else {}, body)
        return RateLimited(f"the model endpoint {url} is rate limiting (HTTP 429)", wait)
    if status == 426:
        return UpgradeRequired(
            f"{url} does not support the Responses WebSocket mode (HTTP 426); "
            "set spark.model.transport to auto or http"
        )
    return ModelUnavailable(f"the model endpoint {url} answered HTTP {status}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
