"""The ``spark-lsp`` command: serve (default), model-server, doctor, complete.

Every failure ends in one line on stderr and a non-zero exit code, never a traceback: the
command is run by editors and by people, and neither can act on a stack dump.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from spark_lsp import __version__
from spark_lsp.errors import ConfigError, SparkError
from spark_lsp.shared.scrub import scrub

SUBCOMMANDS = ("serve", "model-server", "doctor", "complete")


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _serve_parser(parser: argparse.ArgumentParser) -> None:
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="serve over stdio (default)")
    transport.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="serve over TCP")
    transport.add_argument("--ws", type=_host_port, metavar="HOST:PORT", help="serve over WS")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="let --tcp/--ws listen on a non-loopback address (the token is still required)",
    )
    parser.add_argument("--log-file", help="also write the log to this file")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])


def build_parser() -> argparse.ArgumentParser:
    """The full command line; ``spark-lsp`` alone (or with ``--stdio``) serves."""
    parser = argparse.ArgumentParser(prog="spark-lsp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"spark-lsp {__version__}")
    commands = parser.add_subparsers(dest="command")
    _serve_parser(commands.add_parser("serve", help="run the language server (default)"))
    # The model server parses its own options (`spark-lsp model-server --help`); importing it
    # here would slow every start of the language server.
    commands.add_parser("model-server", help="run the bundled model server (see its --help)")
    commands.add_parser("doctor", help="check that the model answers, and how fast")
    complete = commands.add_parser("complete", help="complete once at FILE:LINE:COL (1-based)")
    complete.add_argument("location", metavar="FILE:LINE:COL")
    return parser


class ScrubCredentials(logging.Filter):
    """Pass every log line (and its traceback) through the one secret scrubber.

    At DEBUG, websockets logs request headers; exceptions may quote a URL with credentials.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _configure_logging(level: str, log_file: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.addFilter(ScrubCredentials())
    logging.basicConfig(
        level=level, handlers=handlers, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if level != "DEBUG":
        # pygls logs every JSON-RPC message at INFO: noisy, and it would copy code into logs.
        logging.getLogger("pygls").setLevel(logging.WARNING)


def _serve(args: argparse.Namespace) -> int:
    from spark_lsp.app import create_server

    _configure_logging(args.log_level, args.log_file)
    if args.tcp or args.ws:
        return _listen(args)
    server = create_server()
    server.start_io()
    return server.exit_code


def _listen(args: argparse.Namespace) -> int:
    """``--tcp``/``--ws``: loopback and a launch token, or one line and exit status 2."""
    from spark_lsp.app import serve_network

    host, port = args.tcp or args.ws
    try:
        return serve_network(
            "tcp" if args.tcp else "ws", host, port, os.environ.get("SPARK_LSP_TOKEN"),
            allow_remote=args.allow_remote,
        )
    except ConfigError as exc:
        print(f"spark-lsp: {exc}", file=sys.stderr)
        return 2


def _doctor() -> int:
    from spark_lsp.commands.doctor import run_doctor

    _configure_logging("WARNING", None)
    return asyncio.run(run_doctor(lambda line: print(scrub(line))))


def _complete(location: str) -> int:
    from spark_lsp.commands.oneshot import run_complete

    _configure_logging("WARNING", None)
    return asyncio.run(run_complete(location, print))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["model-server"]:
        from spark_lsp.modelserver import main as modelserver_main

        return modelserver_main.main(argv[1:])
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "serve")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "doctor":
            return _doctor()
        return _complete(args.location)
    except SparkError as exc:
        print(f"spark-lsp: {scrub(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
