"""HTTP streaming transport: the Responses API or Chat Completions over server-sent events.

For servers without WebSocket mode (vLLM, Ollama, llama.cpp, LM Studio, LiteLLM, gateways, or
an endpoint that answers the upgrade with 426). Each response is one ``POST`` on a kept-alive
socket; lanes are simply concurrent requests. Abandoning a response cancels its reader, which
closes its socket: HTTP/1.1 has no other way to stop a body, and a drained stream would cost
the server the whole generation. There is no connection-local state, so nothing chains here.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time

from spark_lsp import __version__
from spark_lsp.errors import ModelUnavailable, ProtocolError, SparkError
from spark_lsp.model.http1 import (
    HttpClient,
    HttpDropped,
    HttpError,
    HttpFramingError,
    HttpResponse,
)
from spark_lsp.model.limits import MAX_ERROR_BODY_BYTES
from spark_lsp.model.link import Inflight, Link
from spark_lsp.model.netconfig import Proxy
from spark_lsp.model.protocol import (
    CreateRequest,
    ServerEvent,
    create_body,
    decode_event,
    dump_body,
)
from spark_lsp.model.sse import DONE, ChatDecoder, SseParser, encode_chat, http_error_event

log = logging.getLogger(__name__)

PATHS = {"responses": "/responses", "chat": "/chat/completions"}


class HttpLink(Link):
    """A pool of keep-alive sockets to one HTTP endpoint, speaking one API."""

    transport = "http"
    can_chain = False

    def __init__(
        self, client: HttpClient, api: str, api_key: str | None, handshake_s: float
    ) -> None:
        super().__init__(handshake_s)
        self.api = api
        self.client = client
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": f"spark-lsp/{__version__}",
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._readers: dict[str, asyncio.Task[None]] = {}

    async def send(self, request: CreateRequest, lane: str) -> Inflight:
        """Start the ``POST`` on a lane the pool reserved; events arrive on the inflight."""
        if self.closed.is_set():
            raise ModelUnavailable("the model connection was closed")
        inflight = self._open(lane)
        body = (encode_chat(request) if self.api == "chat" else _responses_body(request)).encode()
        inflight.sent = self.client.wire_size(PATHS[self.api], self._headers, body)
        self.bytes_sent += inflight.sent
        task = asyncio.get_running_loop().create_task(self._exchange(inflight, body))
        self._readers[lane] = task
        return inflight

    def abandon(self, inflight: Inflight) -> None:
        """Stop the response now: cancelling its reader closes its socket."""
        inflight.abandoned = True
        task = self._readers.get(inflight.lane)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """Cancel every running response and close every socket."""
        readers = list(self._readers.values())
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await self.client.aclose()
        self._closed_by_us()

    @property
    def open_sockets(self) -> int:
        """Sockets open to the endpoint (for tests and stats)."""
        return self.client.open_sockets

    async def _exchange(self, inflight: Inflight, body: bytes) -> None:
        response: HttpResponse | None = None
        try:
            response = await self.client.post(PATHS[self.api], self._headers, body)
            if response.status != 200:
                body = await response.read(MAX_ERROR_BODY_BYTES)
                self._deliver(inflight, http_error_event(response.status, body, response.headers))
                return
            await self._read_stream(inflight, response)
        except HttpFramingError as exc:
            self._fail_one(inflight, ProtocolError(f"the model endpoint's reply is broken: {exc}"))
        except HttpDropped as exc:
            self._fail_one(inflight, ModelUnavailable(f"the model connection dropped ({exc})"))
        except HttpError as exc:
            self._shut(ModelUnavailable(f"the model endpoint cannot be reached ({exc})"))
        except SparkError as exc:
            self._fail_one(inflight, exc)
        except Exception as exc:  # a reader task must never end in an unretrieved traceback
            log.exception("the HTTP response reader failed")
            self._fail_one(
                inflight, ProtocolError(f"the model's response could not be read ({exc})")
            )
        finally:
            if response is not None:
                response.close()  # a no-op once the body was read to its end
            if self._readers.get(inflight.lane) is asyncio.current_task():
                del self._readers[inflight.lane]
            if self._owns(inflight):
                self._release(inflight.lane)

    async def _read_stream(self, inflight: Inflight, response: HttpResponse) -> None:
        parser = SseParser()
        chat = ChatDecoder() if self.api == "chat" else None
        trailing = 0
        async for chunk in response.chunks():
            if not self._owns(inflight):
                trailing += len(chunk)
            for _, data in parser.feed(chunk):
                if not self._owns(inflight):
                    if data.strip() == DONE:
                        continue
                    log.debug("cutting a body that goes on after its terminal event")
                    response.close()
                    return
                for event in _decode(data, chat):
                    self._deliver(inflight, event)
            if trailing > MAX_ERROR_BODY_BYTES:  # endless comments after the end: stop
                response.close()
                return
        if self._owns(inflight):
            raise ProtocolError("the model's event stream ended before the response did")

    def _owns(self, inflight: Inflight) -> bool:
        """The response still holds its lane (the pool reuses lane names once released)."""
        return self.inflight.get(inflight.lane) is inflight

    def _fail_one(self, inflight: Inflight, error: SparkError) -> None:
        if not inflight.abandoned and self._owns(inflight):
            inflight.queue.put_nowait(error)


def _responses_body(request: CreateRequest) -> str:
    return dump_body({**create_body(request), "stream": True})


def _decode(data: str, chat: ChatDecoder | None) -> list[ServerEvent]:
    """Responses over SSE carries WebSocket-mode events verbatim; chat chunks are translated.

    A ``data: [DONE]`` after a Responses stream (OpenRouter and other gateways add the Chat
    Completions terminator) is no event: skipped, the body is read to its end and the socket
    stays kept alive.
    """
    if chat is not None:
        return chat.feed(data)
    return [] if data.strip() == DONE else [decode_event(data)]


async def dial_http(
    base_url: str,
    *,
    api: str,
    api_key: str | None,
    ssl_context: ssl.SSLContext | None,
    proxy: Proxy | None,
    connect_timeout: float,
) -> HttpLink:
    """Open one keep-alive socket ahead of the first request and wrap it in a link."""
    started = time.monotonic()
    client = HttpClient(
        base_url,
        ssl_context=ssl_context,
        proxy=proxy,
        connect_timeout=connect_timeout,
    )
    try:
        await client.warm()
    except (OSError, ssl.SSLError) as exc:
        await client.aclose()
        raise ModelUnavailable(f"cannot connect to the model at {base_url} ({exc})") from None
    return HttpLink(client, api, api_key, time.monotonic() - started)
