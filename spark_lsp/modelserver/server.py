"""The bundled model server: the Responses API's WebSocket mode on a loopback port.

It speaks the protocol subset the client relies on (``spark_lsp/model/protocol.py``) strictly
enough that a client passing against it should pass against the real API: unknown parameters are
refused, lanes are FIFO and bounded, ``previous_response_id`` state is connection-local and
evicted on failure, connections age out. The engine behind it only decides the text (or the
fault); everything on the wire is decided here, in one place.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import ssl
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from spark_lsp.errors import ProtocolError
from spark_lsp.model.protocol import (
    DEFAULT_MODEL,
    JSON,
    MIN_OUTPUT_TOKENS,
    STREAM_ID_PATTERN,
    Usage,
    decode_client_message,
    input_texts_of,
)
from spark_lsp.modelserver.encoder import PartKind, ResponseEncoder, encode_error, error_type_for
from spark_lsp.modelserver.engines.base import (
    Action,
    AgeLimit,
    Directive,
    Drop,
    Engine,
    EngineRequest,
    Fail,
    Garbage,
    Reasoning,
    Refusal,
    Text,
)
from spark_lsp.shared.token_estimate import estimate_tokens

RESPONSES_PATH = "/v1/responses"
STATS_PATH = "/v1/spark/stats"
LOGGER = logging.getLogger("spark_lsp.modelserver")
_T = TypeVar("_T")

#: Every parameter of ``POST /v1/responses`` we accept; anything else is ``unknown_parameter``
#: as on the real API. ``stream_id`` is added when lanes are enabled.
ALLOWED_FIELDS = frozenset(
    {
        "type", "model", "instructions", "input", "max_output_tokens", "prompt_cache_key",
        "previous_response_id", "store", "stream", "background", "generate", "temperature",
        "top_p", "metadata", "text", "reasoning", "tools", "tool_choice",
        "parallel_tool_calls", "truncation", "user", "include", "service_tier",
    }
)  # fmt: skip

CHARS_PER_TOKEN = 4
CACHE_BLOCK_TOKENS = 128
CACHE_MIN_TOKENS = 1024
AGE_LIMIT_MESSAGE = (
    "Responses websocket connection limit reached (connection age). "
    "Create a new websocket connection to continue."
)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How a server listens and which limits it enforces (defaults mirror the real API)."""

    token: str
    host: str = "127.0.0.1"
    port: int = 0
    max_age_s: float = 3600.0
    lanes: bool = True
    max_message_bytes: int = 16 * 2**20
    max_connections: int = 64
    max_in_flight: int = 16
    max_lanes: int = 32
    received_history: int = 500
    #: Also serve the HTTP APIs (Responses and Chat Completions over SSE) on this port (0: any).
    http_port: int | None = None
    #: The models this server's keys may use (None: any name), like a key without access.
    models: frozenset[str] | None = None
    #: Larger requests are cut to this: 10^18 would keep the engine generating for ever.
    max_output_tokens: int = 32_768
    #: PEM certificate chain and key: serve ``wss://`` (as real endpoints do) instead of ``ws://``.
    tls_cert: str | None = None
    tls_key: str | None = None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A server TLS context when a certificate is configured."""
        if self.tls_cert is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls_cert, self.tls_key)
        return context


@dataclass(slots=True)
class ServerStats:
    """Counters that let tests see how many model calls a client made, and with what."""

    connections_total: int = 0
    connections_open: int = 0
    requests_total: int = 0
    generate_requests: int = 0
    http_connections_total: int = 0
    http_connections_open: int = 0
    received: deque[JSON] = field(default_factory=lambda: deque(maxlen=500))
    _sizes: deque[int] = field(default_factory=deque)
    _chars: int = 0

    def record(self, message: JSON) -> None:
        """Count one parsed client message and keep a bounded sample of it for inspection.

        Samples are capped per string (:data:`SAMPLE_STRING_CHARS`) and the history by total
        size (:data:`SAMPLE_TOTAL_CHARS`): 75 requests of 4 MiB used to stay whole in memory.
        """
        sample = _sample(message)
        if len(self.received) == self.received.maxlen:
            self._forget_oldest()
        self.received.append(sample)
        self._sizes.append(_sampled_size([sample]))
        self._chars += self._sizes[-1]
        while len(self.received) > 1 and self._chars > SAMPLE_TOTAL_CHARS:
            self._forget_oldest()

        if message.get("type") == "response.create":
            self.requests_total += 1
            if message.get("generate") is not False:
                self.generate_requests += 1

    def _forget_oldest(self) -> None:
        self.received.popleft()
        self._chars -= self._sizes.popleft()

    def to_json(self) -> JSON:
        """The body of ``GET /v1/spark/stats``."""
        return {
            "connections_total": self.connections_total,
            "connections_open": self.connections_open,
            "requests_total": self.requests_total,
            "generate_requests": self.generate_requests,
            "http_connections_total": self.http_connections_total,
            "http_connections_open": self.http_connections_open,
            "received": list(self.received),
        }


#: A string longer than this is cut in a stats sample (a 128k-token prompt still fits whole).
SAMPLE_STRING_CHARS = 2**20
#: All samples together stay under this many characters.
SAMPLE_TOTAL_CHARS = 4 * 2**20


def _sample(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SAMPLE_STRING_CHARS:
        return value[:SAMPLE_STRING_CHARS] + f"... [truncated: {len(value)} characters]"
    if isinstance(value, dict):
        return {k: _sample(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sample(v) for v in value]
    return value


def _sampled_size(samples: Iterable[Any]) -> int:
    """Characters held by the samples' strings (what their memory is made of)."""
    total = 0
    stack = list(samples)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return total


class PrefixCache:
    """Emulates the provider's prompt cache: exact prefixes in 128-token blocks, ≥1024 tokens.

    Blocks are chained digests, so a prompt's k-th digest stands for its whole first k blocks
    and one pass over the prompt finds the longest cached prefix.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._capacity = capacity
        self._digests: OrderedDict[bytes, None] = OrderedDict()

    def lookup(self, prompt: str) -> tuple[int, int]:
        """How many leading tokens of ``prompt`` were cached, and how many it newly writes.

        Remembers the prompt's blocks: those that missed are the cache writes of this request.
        """
        if estimate_tokens(prompt) < CACHE_MIN_TOKENS:
            return 0, 0
        size = CACHE_BLOCK_TOKENS * CHARS_PER_TOKEN
        digest, hits, blocks, hitting = b"", 0, 0, True
        for start in range(0, len(prompt) - size + 1, size):
            block = prompt[start : start + size].encode("utf-8", "surrogatepass")
            digest = blake2b(digest + block, digest_size=16).digest()
            hitting = hitting and digest in self._digests
            hits += hitting
            blocks += 1
            self._remember(digest)
        return hits * CACHE_BLOCK_TOKENS, (blocks - hits) * CACHE_BLOCK_TOKENS

    def _remember(self, digest: bytes) -> None:
        self._digests[digest] = None
        self._digests.move_to_end(digest)
        if len(self._digests) > self._capacity:
            self._digests.popitem(last=False)


def _capped(max_output_tokens: int | None, config: ServerConfig) -> int | None:
    """The client's limit, never above the server's (None keeps the engine's default)."""
    if max_output_tokens is None:
        return None
    return min(max_output_tokens, config.max_output_tokens)


# ---------------------------------------------------------------------------------------------
# Request validation
# ---------------------------------------------------------------------------------------------


class RequestRefused(Exception):
    """A request the server answers with an ``error`` event instead of a response."""

    def __init__(
        self, code: str, message: str, *, param: str | None = None, status: int = 400
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.status = status


@dataclass(frozen=True, slots=True)
class CreateParams:
    """The validated fields of a ``response.create`` the server acts on."""

    input_texts: tuple[str, ...]
    model: str = DEFAULT_MODEL
    instructions: str | None = None
    max_output_tokens: int | None = None
    previous_response_id: str | None = None
    generate: bool = True


def lane_of(message: JSON, *, lanes: bool) -> str | None:
    """The lane a message belongs to (None: the default lane); validates ``stream_id``.

    Without lanes the field is left for ``parse_create`` to refuse as unknown, like an older
    server that has never heard of it.
    """
    stream_id = message.get("stream_id")
    if not lanes or stream_id is None:
        return None
    if not isinstance(stream_id, str) or not STREAM_ID_PATTERN.match(stream_id):
        raise RequestRefused(
            "invalid_stream_id",
            "Invalid 'stream_id': expected 1-256 characters of [A-Za-z0-9_.-].",
            param="stream_id",
        )
    return stream_id


def parse_create(message: JSON, *, lanes: bool) -> CreateParams:
    """Validate a ``response.create`` as strictly as the real API does."""
    allowed = ALLOWED_FIELDS | {"stream_id"} if lanes else ALLOWED_FIELDS
    for name in message:
        if name not in allowed:
            raise RequestRefused("unknown_parameter", f"Unknown parameter: '{name}'.", param=name)
    try:
        input_texts = input_texts_of(message.get("input", []))
    except ProtocolError as exc:
        raise RequestRefused("invalid_value", str(exc), param="input") from None
    return CreateParams(
        input_texts=input_texts,
        model=_typed(message, "model", str) or DEFAULT_MODEL,
        instructions=_typed(message, "instructions", str),
        max_output_tokens=_max_output_tokens(message),
        previous_response_id=_typed(message, "previous_response_id", str),
        generate=_typed(message, "generate", bool) is not False,
    )


def check_model(model: str, allowed: frozenset[str] | None) -> None:
    """Refuse a model the key may not use, with the real API's code and status."""
    if allowed is not None and model not in allowed:
        raise RequestRefused(
            "model_not_found",
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
            status=404,
        )


def _typed(message: JSON, name: str, kind: type[_T]) -> _T | None:
    """The field's value if present and of the right type; refuses other types."""
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RequestRefused(
            "invalid_type", f"Invalid type for '{name}': expected {kind.__name__}.", param=name
        )
    return value


def _max_output_tokens(message: JSON) -> int | None:
    value = _typed(message, "max_output_tokens", int)
    if value is not None and value < MIN_OUTPUT_TOKENS:
        raise RequestRefused(
            "integer_below_min_value",
            f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= "
            f"{MIN_OUTPUT_TOKENS}, but got {value} instead.",
            param="max_output_tokens",
        )
    return value


# ---------------------------------------------------------------------------------------------
# One connection
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What ``previous_response_id`` resolves to: the full context including the answer."""

    response_id: str
    context: tuple[str, ...]


@dataclass(eq=False, slots=True)
class _Lane:
    """A FIFO of requests with its own worker and its most recent response."""

    name: str | None
    queue: asyncio.Queue[JSON] = field(default_factory=asyncio.Queue)
    latest: StoredResponse | None = None
    worker: asyncio.Task[None] | None = None


class _Session:
    """Serves one WebSocket connection: reads frames, schedules lanes, writes events."""

    def __init__(self, ws: ServerConnection, server: ModelServer) -> None:
        self.ws = ws
        self.server = server
        self.config = server.config
        self.lanes: dict[str | None, _Lane] = {}
        self.in_flight = asyncio.Semaphore(self.config.max_in_flight)
        self.expiry: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Serve until the peer goes away or the connection ages out."""
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.config.max_age_s, self.expire)
        try:
            async for raw in self.ws:
                await self.accept(raw)
        except ConnectionClosed:
            pass
        finally:
            timer.cancel()
            await self._stop_workers()

    async def _stop_workers(self) -> None:
        workers = [lane.worker for lane in self.lanes.values() if lane.worker is not None]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self.expiry is not None:
            await asyncio.gather(self.expiry, return_exceptions=True)

    def expire(self) -> None:
        """End the connection the way the real API does at its age limit (once)."""
        if self.expiry is None:
            self.expiry = asyncio.create_task(self._close_aged())

    async def _close_aged(self) -> None:
        try:
            event = encode_error("websocket_connection_limit_reached", AGE_LIMIT_MESSAGE)
            await self.ws.send(event)
            await self.ws.close(1001, "connection age limit reached")
        except ConnectionClosed:
            pass

    async def accept(self, raw: str | bytes) -> None:
        """Route one client frame to its lane, or answer it at once if it has none."""
        try:
            message = decode_client_message(raw)
        except ProtocolError as exc:
            await self.send(encode_error("invalid_json", str(exc)))
            return
        self.server.stats.record(message)
        if message["type"] != "response.create":
            error = f"Unsupported event type '{message['type']}'; expected 'response.create'."
            await self.send(encode_error("invalid_value", error, param="type"))
            return
        await self._enqueue(message)

    async def _enqueue(self, message: JSON) -> None:
        raw_id = message.get("stream_id")
        try:
            lane = self._lane(lane_of(message, lanes=self.config.lanes))
        except RequestRefused as refused:
            stream_id = raw_id if isinstance(raw_id, str) else None
            await self.send(_refusal_event(refused, stream_id))
            return
        lane.queue.put_nowait(message)

    def _lane(self, name: str | None) -> _Lane:
        lane = self.lanes.get(name)
        if lane is not None:
            return lane
        named = len(self.lanes) - (None in self.lanes)
        if name is not None and named >= self.config.max_lanes:
            raise RequestRefused(
                "websocket_stream_limit_reached",
                f"Too many streams on this connection (at most {self.config.max_lanes}).",
                param="stream_id",
            )
        lane = self.lanes[name] = _Lane(name)
        lane.worker = asyncio.create_task(self._work(lane))
        return lane

    async def _work(self, lane: _Lane) -> None:
        """Run the lane's requests one after another, within the connection's in-flight cap."""
        try:
            while True:
                message = await lane.queue.get()
                async with self.in_flight:
                    await self._run_turn(lane, message)
        except ConnectionClosed:
            pass

    async def _run_turn(self, lane: _Lane, message: JSON) -> None:
        """Run one turn; a bug in it fails that request only, never the lane."""
        try:
            await _Turn(self, lane, message).run()
        except ConnectionClosed:
            raise
        except Exception:
            LOGGER.error("model server: a request failed unexpectedly", exc_info=True)
            event = encode_error(
                "server_error",
                "The model server failed while handling this request.",
                status=500,
                error_type="server_error",
                stream_id=lane.name,
            )
            await self.send(event)

    async def send(self, event: str) -> None:
        """Send one frame (one event)."""
        await self.ws.send(event)

    def find(self, response_id: str) -> StoredResponse | None:
        """The stored response with that id: the latest of some lane of this connection."""
        for lane in self.lanes.values():
            if lane.latest is not None and lane.latest.response_id == response_id:
                return lane.latest
        return None

    def evict(self, response_id: str | None) -> None:
        """Forget a response a failed turn referenced (as the real server does)."""
        for lane in self.lanes.values():
            if lane.latest is not None and lane.latest.response_id == response_id:
                lane.latest = None

    def abort(self) -> None:
        """Cut the TCP connection without a close frame."""
        self.ws.transport.abort()


def _refusal_event(refused: RequestRefused, stream_id: str | None) -> str:
    return encode_error(
        refused.code,
        refused.message,
        status=refused.status,
        param=refused.param,
        stream_id=stream_id,
    )


class _Host(Protocol):
    """What a turn needs from the connection it runs on (a WebSocket, or one HTTP request)."""

    @property
    def server(self) -> ModelServer: ...
    @property
    def config(self) -> ServerConfig: ...
    async def send(self, event: str) -> None: ...
    def find(self, response_id: str) -> StoredResponse | None: ...
    def evict(self, response_id: str | None) -> None: ...
    def abort(self) -> None: ...
    def expire(self) -> None: ...


class EventSink(Protocol):
    """Where an HTTP request's events go (an SSE or a chat-chunk writer)."""

    async def send(self, event: str) -> None: ...
    def abort(self) -> None: ...


class _RequestHost:
    """A turn's host for one HTTP request: nothing is kept between requests (``store: false``)."""

    def __init__(self, server: ModelServer, sink: EventSink) -> None:
        self.server = server
        self.config = replace(server.config, lanes=False)
        self.sink = sink

    async def send(self, event: str) -> None:
        """Write one event to the response."""
        await self.sink.send(event)

    def find(self, response_id: str) -> StoredResponse | None:
        """No response outlives its HTTP request."""
        del response_id
        return None

    def evict(self, response_id: str | None) -> None:
        """Nothing to evict."""

    def abort(self) -> None:
        """Cut the TCP connection (a crashed server)."""
        self.sink.abort()

    def expire(self) -> None:
        """HTTP requests have no connection age limit."""


class _Turn:
    """One request on one lane, from validation to its terminal event."""

    def __init__(self, session: _Host, lane: _Lane, message: JSON) -> None:
        self.session = session
        self.lane = lane
        self.message = message
        model = message.get("model")
        self.encoder = ResponseEncoder(
            "resp_" + uuid.uuid4().hex,
            model if isinstance(model, str) else DEFAULT_MODEL,
            stream_id=lane.name,
        )
        self.started = False
        #: Output tokens the engine spent reasoning (billed to the limit, never shown).
        self.reasoning_tokens = 0
        #: Pieces sent as a refusal (output tokens too, but no text to chain on).
        self.refusal_pieces = 0

    @property
    def parent_id(self) -> str | None:
        """The ``previous_response_id`` as sent, if it is a string."""
        parent = self.message.get("previous_response_id")
        return parent if isinstance(parent, str) else None

    async def run(self) -> None:
        """Validate, resolve the chain, then generate (or only prepare)."""
        try:
            params = parse_create(self.message, lanes=self.session.config.lanes)
            check_model(params.model, self.session.config.models)
            context = self._resolve(params)
        except RequestRefused as refused:
            self.session.evict(self.parent_id)
            await self.session.send(
                self.encoder.error(
                    refused.code, refused.message, status=refused.status, param=refused.param
                )
            )
            return
        request = EngineRequest(
            input_texts=context,
            instructions=params.instructions,
            max_output_tokens=_capped(params.max_output_tokens, self.session.config),
            model=params.model,
        )
        if params.generate:
            await self._generate(request)
        else:
            await self._open(generate=False)
            await self._finish(request, [], generate=False)

    def _resolve(self, params: CreateParams) -> tuple[str, ...]:
        if params.previous_response_id is None:
            return params.input_texts
        parent = self.session.find(params.previous_response_id)
        if parent is None:
            raise RequestRefused(
                "previous_response_not_found",
                f"Previous response with id '{params.previous_response_id}' not found.",
                param="previous_response_id",
            )
        return parent.context + params.input_texts

    async def _open(self, *, generate: bool = True) -> None:
        for event in self.encoder.opening(generate=generate):
            await self.session.send(event)
        self.started = True

    async def _generate(self, request: EngineRequest) -> None:
        plan = self.session.server.engine.plan(request)
        if isinstance(plan, Directive):
            await self._execute(plan)
            return
        await self._open()
        pieces: list[str] = []
        ended = await self._stream(plan, request.max_output_tokens, pieces)
        if ended != "directive":
            await self._finish(request, pieces, incomplete_reason=ended)

    async def _stream(
        self, actions: AsyncGenerator[Action, None], limit: int | None, pieces: list[str]
    ) -> str | None:
        """Send the engine's pieces, collecting them in ``pieces``.

        Returns None when the engine finished, ``"max_output_tokens"`` when it had more to say
        (or to think) than the limit allows, ``"directive"`` when a fault ended the response.
        Refusal pieces are sent as such and not collected: they are no answer to chain on.
        """
        async with aclosing(actions):
            async for action in actions:
                if isinstance(action, Reasoning):
                    spent = self.reasoning_tokens + action.tokens
                    self.reasoning_tokens = spent if limit is None else min(spent, limit)
                    if limit is not None and spent >= limit:
                        return "max_output_tokens"
                elif isinstance(action, Text | Refusal):
                    spent = len(pieces) + self.refusal_pieces + self.reasoning_tokens
                    if limit is not None and spent >= limit:
                        return "max_output_tokens"
                    await self._send_piece(action, pieces)
                elif await self._execute(action):
                    return "directive"
        return None

    async def _send_piece(self, piece: Text | Refusal, pieces: list[str]) -> None:
        """One piece of the answer (or of a refusal), opening its content part if needed."""
        encoder = self.encoder
        kind: PartKind = "output_text" if isinstance(piece, Text) else "refusal"
        for event in encoder.open_part(kind):
            await self.session.send(event)
        if kind == "output_text":
            pieces.append(piece.text)
            await self.session.send(encoder.delta(piece.text))
        else:
            self.refusal_pieces += 1
            await self.session.send(encoder.refusal_delta(piece.text))

    async def _execute(self, directive: Directive) -> bool:
        """Carry out a fault; True when it ended the response."""
        if isinstance(directive, Garbage):
            await self.session.send("<html>502 Bad Gateway: this frame is not JSON</html>")
            return False
        if isinstance(directive, Drop):
            self.session.abort()
        elif isinstance(directive, AgeLimit):
            self.session.expire()
        elif isinstance(directive, Fail):
            await self._fail(directive)
        return True

    async def _fail(self, fail: Fail) -> None:
        self.session.evict(self.parent_id)
        if self.started:
            await self.session.send(self.encoder.failed(fail.code, fail.message))
            return
        headers = None
        if fail.retry_after_s is not None:
            headers = {"retry-after": f"{fail.retry_after_s:g}"}
        event = self.encoder.error(
            fail.code,
            fail.message,
            status=fail.status,
            error_type=fail.error_type or error_type_for(fail.status),
            headers=headers,
        )
        await self.session.send(event)

    async def _finish(
        self,
        request: EngineRequest,
        pieces: list[str],
        *,
        generate: bool = True,
        incomplete_reason: str | None = None,
    ) -> None:
        """Send the closing events with usage and make the response chainable."""
        prompt = "\x1e".join((request.instructions or "", *request.input_texts))
        cached, written = self.session.server.prefix_cache.lookup(prompt)
        usage = Usage(
            input_tokens=estimate_tokens(prompt),
            cached_tokens=cached,
            output_tokens=len(pieces) + self.refusal_pieces,
        )
        for event in self.encoder.closing(
            usage,
            generate=generate,
            incomplete_reason=incomplete_reason,
            reasoning_tokens=self.reasoning_tokens,
            cache_write_tokens=written,
        ):
            await self.session.send(event)
        text = "".join(pieces)
        context = request.input_texts + ((text,) if text else ())
        self.lane.latest = StoredResponse(self.encoder.response_id, context)


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def _json_response(connection: ServerConnection, status: int, body: JSON) -> Response:
    response = connection.respond(status, json.dumps(body) + "\n")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


def _error_response(connection: ServerConnection, status: int, code: str, message: str) -> Response:
    body = {"error": {"type": error_type_for(status), "code": code, "message": message}}
    return _json_response(connection, status, body)


def _is_upgrade(headers: Headers) -> bool:
    return any(v.strip().lower() == "websocket" for v in headers.get_all("Upgrade"))


class ModelServer:
    """A running model server; use ``async with ModelServer(config, engine) as server``.

    ``engine`` is a public attribute: tests may swap it (or mutate its script) between requests.
    """

    def __init__(self, config: ServerConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self.stats = ServerStats(received=deque(maxlen=config.received_history))
        self.prefix_cache = PrefixCache()
        self._server: Server | None = None
        self._http: asyncio.Server | None = None
        self._http_clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        """Bind and start serving; returns the URL (with the actual port when port=0)."""
        self.engine.start()
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            max_size=self.config.max_message_bytes,
            compression="deflate",
            logger=LOGGER,
            ssl=self.config.ssl_context(),
        )
        if self.config.http_port is not None:
            self._http = await asyncio.start_server(
                self._serve_http, self.config.host, self.config.http_port,
                ssl=self.config.ssl_context(),
            )  # fmt: skip
        return self.url

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from spark_lsp.modelserver.http_api import HttpApi  # only servers with an HTTP port

        self._http_clients.add(writer)
        try:
            await HttpApi(self).handle(reader, writer)
        finally:
            self._http_clients.discard(writer)

    def model_names(self) -> list[str]:
        """What ``GET /v1/models`` lists."""
        return sorted(self.config.models or {DEFAULT_MODEL})

    async def run_http_turn(self, sink: EventSink, message: JSON) -> None:
        """Run one HTTP request's turn, its events written by ``sink`` (no lanes, no state)."""
        await _Turn(_RequestHost(self, sink), _Lane(None), message).run()

    async def close(self) -> None:
        """Close every connection (1001) and stop listening; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._http is not None:
            self._http.close()
            for writer in list(self._http_clients):
                writer.close()
            await self._http.wait_closed()
            self._http = None
        server.close()
        await server.wait_closed()
        self.engine.close()

    async def __aenter__(self) -> ModelServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        """The bound port (meaningful after ``start``)."""
        if self._server is None:
            raise RuntimeError("the model server is not running")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def http_url(self) -> str:
        """``http://HOST:PORT/v1`` (``https://`` with TLS): the base URL of the HTTP APIs."""
        if self._http is None:
            raise RuntimeError("the model server has no HTTP port")
        port = self._http.sockets[0].getsockname()[1]
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        scheme = "https" if self.config.tls_cert else "http"
        return f"{scheme}://{host}:{port}/v1"

    @property
    def url(self) -> str:
        """``ws://HOST:PORT/v1/responses`` (``wss://`` with TLS)."""
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        scheme = "wss" if self.config.tls_cert else "ws"
        return f"{scheme}://{host}:{self.port}{RESPONSES_PATH}"

    def authorized(self, values: list[str]) -> bool:
        """True when exactly one ``Authorization`` value carries this server's token."""
        expected = f"Bearer {self.config.token}".encode()
        return len(values) == 1 and hmac.compare_digest(values[0].encode(), expected)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Answer plain HTTP (404/401/426/stats) and refuse upgrades before the handshake."""
        path = urlsplit(request.path).path
        if path not in (RESPONSES_PATH, STATS_PATH):
            return _error_response(connection, 404, "not_found", f"No route for {path}.")
        if not self.authorized(request.headers.get_all("Authorization")):
            return _error_response(
                connection, 401, "invalid_api_key", "Missing or invalid bearer token."
            )
        if path == STATS_PATH:
            return _json_response(connection, 200, self.stats.to_json())
        if not _is_upgrade(request.headers):
            return _error_response(
                connection, 426, "upgrade_required", "This endpoint speaks WebSocket only."
            )
        return self._admission(connection)

    def _admission(self, connection: ServerConnection) -> Response | None:
        if self.stats.connections_open >= self.config.max_connections:
            return _error_response(connection, 503, "too_many_connections", "Try again later.")
        status = self.engine.handshake_status()
        if status is not None:
            return _error_response(
                connection, status, "upgrade_rejected", "The scripted engine refused the upgrade."
            )
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        self.stats.connections_total += 1
        self.stats.connections_open += 1
        try:
            await _Session(connection, self).run()
        finally:
            self.stats.connections_open -= 1
