"""Command line of the bundled model server (``python -m spark_lsp.modelserver``).

The first stdout line is the contract with whoever started us (the embedded launcher, tests,
scripts): ``LISTENING ws://HOST:PORT/v1/responses``, followed by `` http://HOST:PORT2/v1``
with ``--http-port``. Everything else goes to stderr, as single lines, because a parent may
show it to a user. ``add_arguments``/``run`` are shared with the ``spark-lsp model-server``
subcommand.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from spark_lsp.errors import ConfigError
from spark_lsp.modelserver.contract import EXCLUDE_OPTION, LISTENING_PREFIX, TOKEN_ENV
from spark_lsp.modelserver.engines.base import Engine
from spark_lsp.modelserver.engines.local import LocalEngine
from spark_lsp.modelserver.engines.scripted import Script, ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the server's options on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    parser.add_argument(
        "--token", help=f"bearer token clients must send (prefer the {TOKEN_ENV} variable)"
    )
    parser.add_argument("--engine", choices=("local", "scripted"), default="local")
    parser.add_argument("--script", type=Path, help="JSON script for --engine scripted")
    parser.add_argument(
        "--workspace",
        type=Path,
        action="append",
        default=[],
        help="directory the local engine learns from (repeatable: one per workspace folder)",
    )
    parser.add_argument(
        EXCLUDE_OPTION,
        action="append",
        default=[],
        metavar="PATTERN",
        help="gitignore-style pattern of workspace files never to learn from (repeatable)",
    )
    parser.add_argument("--max-age-s", type=float, default=3600.0, help="connection age limit")
    parser.add_argument(
        "--no-lanes", action="store_true", help="refuse stream_id, like an older server"
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    parser.add_argument(
        "--http-port", type=int, help="also serve the HTTP APIs (Responses, Chat) on this port"
    )
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve wss:// instead of ws://")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (parent died)"
    )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_engine(args: argparse.Namespace) -> Engine:
    """The engine the arguments ask for; raises ``ConfigError`` with a one-line reason."""
    if args.engine == "scripted":
        return ScriptedEngine(Script.load(args.script) if args.script else None)
    folders: list[Path] = args.workspace
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"--workspace {folder} is not a directory")
    return LocalEngine(folders, args.exclude)


def resolve_token(args: argparse.Namespace) -> str:
    """``--token``, else the environment, else a fresh token announced on stderr."""
    token: str | None = args.token or os.environ.get(TOKEN_ENV)
    if token:
        return token
    token = secrets.token_urlsafe(32)
    sys.stderr.write(f"model server token: {token}\n")
    return token


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM (or stdin EOF when asked); returns the exit status."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    if not is_loopback(args.host) and not args.allow_remote:
        _fail(f"refusing to bind non-loopback host {args.host} without --allow-remote")
        return 2
    try:
        engine = build_engine(args)
        config = ServerConfig(
            token=resolve_token(args),
            host=args.host,
            port=args.port,
            max_age_s=args.max_age_s,
            lanes=not args.no_lanes,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            http_port=args.http_port,
        )
        return asyncio.run(_serve(ModelServer(config, engine), args.exit_on_stdin_eof))
    except ConfigError as exc:
        _fail(str(exc))
        return 2
    except OSError as exc:
        _fail(f"cannot start the model server: {exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> None:
    sys.stderr.write(f"spark model server: {message}\n")


async def _serve(server: ModelServer, exit_on_stdin_eof: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if exit_on_stdin_eof:
        _watch_stdin(loop, stop)
    async with server:
        http = f" {server.http_url}" if server.config.http_port is not None else ""
        sys.stdout.write(f"{LISTENING_PREFIX}{server.url}{http}\n")
        sys.stdout.flush()
        await stop.wait()
    return 0


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` when stdin reaches EOF: our parent closed it or died (no orphans)."""

    def wait_for_eof() -> None:
        # os.read, not sys.stdin.buffer: a daemon thread blocked inside a buffered reader
        # aborts the interpreter at exit ("_enter_buffered_busy") when SIGTERM stops us.
        try:
            while os.read(sys.stdin.fileno(), 4096):
                pass
        except (OSError, ValueError):
            pass
        try:
            loop.call_soon_threadsafe(stop.set)
        except RuntimeError:  # the loop already ended: we are exiting anyway
            pass

    threading.Thread(target=wait_for_eof, name="stdin-eof", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run."""
    parser = argparse.ArgumentParser(
        prog="python -m spark_lsp.modelserver",
        description="The bundled model server (Responses API, WebSocket mode).",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
