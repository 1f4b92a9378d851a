"""``--tcp`` and ``--ws``: a listener only the editor that launched us can use.

A port on 127.0.0.1 is reachable by every local process and, for WebSocket, by every web page
the user visits: without a check, a page could initialize with any ``rootUri`` and read the
workspace through completions. So: loopback only unless ``--allow-remote``; a per-launch token
(``$SPARK_LSP_TOKEN``, which the editor sets when it starts the server) that the client's
``initialize`` must carry as ``initializationOptions.authToken``; a WebSocket handshake with an
``Origin`` header (only browsers send one) is refused with 403. One client at a time; a
refused connection is closed without disturbing the one in use.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from spark_lsp.errors import ConfigError
from spark_lsp.lsp.framing import BrokenFrame, FrameParser, dispatch
from spark_lsp.shared.scrub import register_secret

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

    from spark_lsp.lsp.server import SparkServer

log = logging.getLogger(__name__)

TOKEN_ENV = "SPARK_LSP_TOKEN"
TOKEN_OPTION = "authToken"
MIN_TOKEN_CHARS = 16


class ListenerRefused(ConfigError):
    """A listener that must not start (no token, a non-loopback address); one line says why."""


def check_listener(host: str, token: str | None, allow_remote: bool) -> str:
    """Validate the address and the launch token; return the token."""
    if not allow_remote and not _loopback(host):
        raise ListenerRefused(
            f"{host} is not a loopback address; pass --allow-remote to listen on it anyway"
        )
    if token is None or len(token.strip()) < MIN_TOKEN_CHARS:
        raise ListenerRefused(
            f"--tcp/--ws need a per-launch token of at least {MIN_TOKEN_CHARS} characters in "
            f"${TOKEN_ENV}; the editor sends it as initializationOptions.{TOKEN_OPTION}"
        )
    register_secret(token)
    return token.strip()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_problem(body: bytes | str, token: str) -> str | None:
    """Why the first message of a connection is refused, or None when it may go on."""
    try:
        message = json.loads(body)
        options = message["params"].get("initializationOptions") or {}
        sent = options.get(TOKEN_OPTION) if isinstance(options, dict) else None
        method = message.get("method")
    except (ValueError, TypeError, KeyError, AttributeError):
        return "the first message must be initialize carrying the launch token"
    if method != "initialize":
        return "the first message must be initialize carrying the launch token"
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), token.encode()):
        return f"initialize must carry the launch token as initializationOptions.{TOKEN_OPTION}"
    return None


def refusal(body: bytes | str, reason: str) -> bytes:
    """An InvalidRequest answer to the refused message."""
    try:
        msg_id = json.loads(body).get("id")
    except (ValueError, AttributeError):
        msg_id = None
    error = {"code": -32600, "message": f"spark-lsp: {reason}"}
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": error}).encode()


class Gate:
    """One client at a time, admitted by its first message."""

    def __init__(self, server: SparkServer, token: str) -> None:
        self.server = server
        self.token = token
        self.busy = False
        self.done = asyncio.Event()

    def admit(self, body: bytes | str) -> str | None:
        """None when this first message opens the session; else why not (logged)."""
        if self.busy:
            return "another client is connected"
        reason = token_problem(body, self.token)
        if reason is not None:
            log.warning("refused a connection: %s", reason)
        return reason

    def on_error(self, error: Exception) -> None:
        self.server.report_server_error(error, None)


async def serve_tcp(server: SparkServer, host: str, port: int, token: str) -> None:
    """Serve LSP over TCP until the admitted client leaves."""
    gate = Gate(server, token)

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _tcp_session(gate, reader, writer)
        finally:
            writer.close()

    listener = await asyncio.start_server(on_connection, host, port)
    async with listener:
        log.info("serving LSP over TCP on %s:%d (token required)", host, port)
        await gate.done.wait()


async def _tcp_session(
    gate: Gate, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    parser = FrameParser()
    admitted = False
    try:
        while chunk := await reader.read(65536):
            for item in parser.feed(chunk):
                if isinstance(item, BrokenFrame):
                    continue
                if not admitted:
                    reason = gate.admit(item)
                    if reason is not None:
                        body = refusal(item, reason)
                        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                        await writer.drain()
                        return
                    admitted = gate.busy = True
                    gate.server.protocol.set_writer(_TcpWriter(writer))
                dispatch(item, gate.server.protocol, gate.on_error)
    finally:  # the client left or sent ``exit`` (raised through here)
        if admitted:
            await gate.server.close_model_side()
            gate.done.set()


class _TcpWriter:
    """pygls' writer interface over a StreamWriter."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    def close(self) -> None:
        self._writer.close()


def _refuse_browsers(connection: ServerConnection, request: Request) -> Response | None:
    """Only browsers send Origin; no editor client does. 403 before any LSP is spoken."""
    if request.headers.get("Origin") is not None:
        log.warning("refused a WebSocket connection from a web page (Origin header)")
        return connection.respond(403, "spark-lsp does not accept connections from web pages\n")
    return None


async def serve_ws(server: SparkServer, host: str, port: int, token: str) -> None:
    """Serve LSP over WebSocket until the admitted client leaves."""
    from pygls.io_ import WebSocketWriter
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    gate = Gate(server, token)

    async def on_connection(ws: ServerConnection) -> None:
        try:
            first = await ws.recv()
        except ConnectionClosed:
            return
        reason = gate.admit(first)
        if reason is not None:
            await ws.send(refusal(first, reason).decode())
            await ws.close(1008, "refused")
            return
        gate.busy = True
        server.protocol.set_writer(WebSocketWriter(ws), include_headers=False)
        message: Any = first
        try:
            while True:
                data = message.encode() if isinstance(message, str) else message
                dispatch(data, server.protocol, gate.on_error)
                message = await ws.recv()
        except ConnectionClosed:
            pass
        finally:
            await server.close_model_side()
            gate.done.set()

    async with serve(on_connection, host, port, process_request=_refuse_browsers):
        log.info("serving LSP over WebSocket on %s:%d (token required)", host, port)
        await gate.done.wait()


def run_listener(
    serve: Callable[[SparkServer, str, int, str], Coroutine[Any, Any, None]],
    server: SparkServer,
    host: str,
    port: int,
    token: str,
) -> None:
    """Run a listener until its client leaves or sends ``exit``."""
    try:
        asyncio.run(serve(server, host, port, token))
    except SystemExit as exc:
        server.exit_code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        server.exit_code = 130
