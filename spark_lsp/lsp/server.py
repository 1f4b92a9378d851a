"""The language server object: pygls adapted to the host, and nothing else.

Handlers live in ``features/``; each is a few lines that translate LSP types and call the
engine's one service (``SparkService``), which owns every use case and every check. The house
they share (settings, documents, the model side and its restart rules, the service) is the
:class:`~spark_lsp.host.SparkHost`, opened here the way ``complete`` and ``doctor`` open it;
this module adds the transport, the status reporter and what only an LSP session has
(initialization options, the client's settings). Each feature module lists its handlers in a
``HANDLERS`` table (of :data:`Row`); ``spark_lsp.app`` hands every table to
:meth:`SparkServer.add_handlers`, the one place that registers handlers with pygls.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
)
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from spark_lsp import __version__
from spark_lsp.config import Settings
from spark_lsp.engine.store import DocumentStore
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.host import SparkHost
from spark_lsp.lsp.framing import FrameTooLarge, StdinChunks, serve_frames
from spark_lsp.lsp.protocol import SparkProtocol, describe_invalid
from spark_lsp.lsp.status import StatusReporter

if TYPE_CHECKING:
    from spark_lsp.engine.service import SparkService
    from spark_lsp.model.session import ModelSession

log = logging.getLogger(__name__)


class Method(NamedTuple):
    """A row of a feature's table: an LSP request or notification, the module-level function
    that answers it (``(ls, params)``), and the options pygls advertises for it."""

    name: str
    handler: Callable[..., Any]
    options: Any = None


class Command(NamedTuple):
    """A row of a feature's table: a ``workspace/executeCommand`` command and the module-level
    function that runs it (``(ls, *arguments)``)."""

    name: str
    handler: Callable[..., Any]


class Extension(NamedTuple):
    """A row of a feature's table: an LSP extension, announced under
    ``capabilities.experimental.spark.<name>``; ``connect`` runs on the service once it is
    built, to route what the service tells the client."""

    name: str
    capability: Any
    connect: Callable[[SparkServer, SparkService], None]


#: One row of a feature module's ``HANDLERS`` table.
Row = Method | Command | Extension


class SparkServer(LanguageServer):
    """pygls server plus spark-lsp's state."""

    def __init__(self) -> None:
        super().__init__(
            "spark-lsp",
            __version__,
            protocol_cls=SparkProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.exit_code = 0
        self.init_options: Any = None
        #: The ``workspace/configuration`` answer (or pushed settings): never trusted with a
        #: machine-scoped key, since a repository can supply it.
        self.client_settings: Any = None
        self.diagnostic_tasks: dict[str, asyncio.Task[Any]] = {}
        self.reporter = StatusReporter(
            lambda method, params: self.protocol.notify(method, params),
            self.window_show_message,
            self.window_log_message,
            thinking_after=lambda: self.settings.completion.thinking_after_ms / 1000,
        )
        self.host = SparkHost(self.reporter, os.environ)
        #: LSP extensions announced under ``capabilities.experimental.spark`` (name → details).
        self.experimental_capabilities: dict[str, Any] = {}

    def add_handlers(self, table: Iterable[Row]) -> None:
        """Register a feature's table with pygls: the one place that does, so that every
        handler is a module-level function a reader finds by its method's name."""
        for row in table:
            if isinstance(row, Method):
                self.feature(row.name, row.options)(row.handler)
            elif isinstance(row, Command):
                self.command(row.name)(row.handler)
            else:
                self.experimental_capabilities[row.name] = row.capability
                self.when_service(partial(row.connect, self))

    # -- the host, as the handlers see it ------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self.host.settings

    @property
    def store(self) -> DocumentStore:
        """The open documents."""
        return self.host.store

    @property
    def counter(self) -> TokenCounter:
        """The token counter (loaded in the background after ``initialized``)."""
        return self.host.counter

    @property
    def service(self) -> SparkService:
        """The one door to the model (built on first use: see :meth:`warm_up`)."""
        return self.host.service

    def when_service(self, hook: Callable[[SparkService], None]) -> None:
        """Run ``hook`` on the service as it is built (at once if it already is)."""
        self.host.when_service(hook)

    def warm_up(self) -> None:
        """Build the service now; scheduled by ``initialize`` to run once its result is out,
        so the editor's ``initialize`` is answered without importing the engine."""
        _ = self.host.service

    def model_session(self) -> ModelSession | None:
        """The live session, or None while the model side is (re)starting."""
        return self.host.session()

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task the host owns: referenced until done, its failure logged."""
        return self.host.run_task(coro, name)

    def reload_settings(self) -> bool:
        """Re-merge every source; True when the model side must restart."""
        return self.host.reload_settings(self.init_options, self.client_settings)

    async def start_model(self) -> None:
        """(Re)start the model side (serialised; failures become status)."""
        await self.host.start_model()

    def start_indexing(self) -> None:
        """Index the workspace in the background (project context), once per session."""
        self.host.start_indexing()

    def set_roots(self, roots: list[Path]) -> None:
        """Adopt the workspace folders (at ``initialize`` and on every folder change); the
        bundled model server, which learns from them, restarts when they change."""
        if self.host.set_roots(roots) and not self.host.closing:
            self.run_task(self.host.start_model(), "restart-model")

    async def close_model_side(self) -> None:
        """Stop the model side for good: called by ``shutdown`` and whenever serving ends.

        Run while the event loop still runs, so that a bundled-server process still being
        created is waited for: the loop's own shutdown would cancel its creation, which hangs
        Python 3.11 for good (see EmbeddedModelServer).
        """
        await self.host.close()

    # -- transport ------------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio with spark-lsp's framing (bounded, resynchronising) until exit."""
        from pygls.io_ import StdoutWriter

        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve_stdio(stdin or sys.stdin.buffer))
        except FrameTooLarge as exc:
            log.error("spark-lsp: %s", exc)
            self.exit_code = 1
        except BrokenPipeError:
            log.error("spark-lsp: lost the connection to the editor; exiting")
        except SystemExit as exc:  # the ``exit`` notification: 1 when no ``shutdown`` came
            self.exit_code = exc.code if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            self.exit_code = 130
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    async def _serve_stdio(self, stdin: BinaryIO) -> None:
        chunks = StdinChunks(stdin, asyncio.get_running_loop())
        try:
            await serve_frames(chunks.read, self.protocol, self._on_message_error)
        finally:  # ``exit`` (raised through here), EOF or a broken stream
            await self.close_model_side()

    def _on_message_error(self, error: Exception) -> None:
        self._report_server_error(error, JsonRpcException)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A handler bug: log it with its traceback, tell the user once, keep serving."""
        if isinstance(error, JsonRpcInvalidParams | JsonRpcInvalidRequest | JsonRpcMethodNotFound):
            # The client's mistake, already answered (or a notification nobody handles).
            log.warning("ignored a malformed message: %s", describe_invalid(error))
            return
        log.error("internal error in spark-lsp", exc_info=error)
        self.reporter.problem(
            "internal:" + type(error).__name__,
            f"spark-lsp hit an internal error ({type(error).__name__}: {error}); "
            "details are in the language server log",
            popup=True,
        )


def workspace_root(server: SparkServer) -> Path | None:
    """The first workspace folder (or root URI) as a path."""
    roots = workspace_roots(server)
    return roots[0] if roots else None


def workspace_roots(server: SparkServer) -> list[Path]:
    """Every workspace folder on disk, in the client's order; the root URI when none is given
    (clients that predate multi-root workspaces)."""
    roots: list[Path] = []
    for folder in server.workspace.folders.values():
        path = to_fs_path(folder.uri) if folder.uri.startswith("file:") else None
        if path and Path(path) not in roots:
            roots.append(Path(path))
    if not roots and server.workspace.root_path:
        roots.append(Path(server.workspace.root_path))
    return roots
