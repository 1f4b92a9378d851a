"""The language server object: the state its handlers share and the model side's lifecycle.

Handlers live in ``features/``; each is a few lines that translate LSP types and call the
engine's one service (``SparkService``), which owns every use case and every check. This module
holds what they share (settings, documents, the status reporter, the model runtime) and starts
and stops the model side. ``spark_lsp.app`` registers the features on it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
)
from pygls.lsp.server import LanguageServer

from spark_lsp import __version__
from spark_lsp.config import Settings, load_settings
from spark_lsp.engine.store import DocumentStore
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.errors import SparkError
from spark_lsp.lsp.framing import FrameTooLarge, StdinChunks, serve_frames
from spark_lsp.lsp.protocol import SparkProtocol, describe_invalid
from spark_lsp.lsp.status import StatusReporter

if TYPE_CHECKING:
    from spark_lsp.engine.service import SparkService
    from spark_lsp.model.session import ModelSession, SessionStatus
    from spark_lsp.runtime import ModelRuntime

log = logging.getLogger(__name__)


class SparkServer(LanguageServer):
    """pygls server plus spark-lsp's state."""

    def __init__(self) -> None:
        super().__init__(
            "spark-lsp",
            __version__,
            protocol_cls=SparkProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.env: dict[str, str] = dict(os.environ)
        self.exit_code = 0
        self.init_options: Any = None
        self.client_settings: Any = None
        # Warnings wait for initialize: the settings are merged (and warned about) again there.
        self.settings, _ = load_settings(env=self.env)
        self.counter = TokenCounter()
        self.store = DocumentStore(self.counter)
        self.runtime: ModelRuntime | None = None
        #: Set by ``shutdown`` or the end of serving (close_model_side): nothing starts after.
        self.closing = False
        self.key_retried = False
        self.indexing = False
        self.tasks: set[asyncio.Task[Any]] = set()
        self.diagnostic_tasks: dict[str, asyncio.Task[Any]] = {}
        self.reporter = StatusReporter(
            lambda method, params: self.protocol.notify(method, params),
            self.window_show_message,
            self.window_log_message,
        )
        self._service: SparkService | None = None
        self._service_hooks: list[Callable[[SparkService], None]] = []
        #: LSP extensions announced under ``capabilities.experimental.spark`` (name → details).
        self.experimental_capabilities: dict[str, Any] = {}

    @property
    def service(self) -> SparkService:
        """The one door to the model, built on first use.

        Lazy because the engine (parsers, prompts, the completion pipeline) is most of what
        spark-lsp imports: the editor's ``initialize`` is answered without it, and
        :meth:`warm_up` builds it right after, before the first document arrives.
        """
        if self._service is None:
            from spark_lsp.engine.service import SparkService

            service = SparkService(
                self.store, lambda: self.settings, self.model_session, self.reporter
            )
            for hook in self._service_hooks:
                hook(service)
            self._service = service
        return self._service

    def when_service(self, hook: Callable[[SparkService], None]) -> None:
        """Run ``hook`` on the service as it is built (at once if it already is)."""
        self._service_hooks.append(hook)
        if self._service is not None:
            hook(self._service)

    def warm_up(self) -> None:
        """Build the service now; scheduled by ``initialize`` to run once its result is out."""
        _ = self.service

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

    def model_session(self) -> ModelSession | None:
        """The live session, or None while the model side is (re)starting."""
        return self.runtime.session if self.runtime is not None else None

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task we own: referenced until done, its failure logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    # -- lifecycle ----------------------------------------------------------------------------

    def apply_settings(self, settings: Settings, warnings: list[str]) -> bool:
        """Adopt new settings; True when the model side must restart to honour them."""
        old = self.settings
        self.settings = settings
        model_changed = old.model != settings.model
        if self._service is not None:  # a service built later reads the settings itself
            self._service.settings_changed(model_changed=model_changed)
        self.reporter.warn_settings(warnings)
        self.reporter.model = settings.model.name
        return model_changed

    def reload_settings(self) -> bool:
        """Re-merge every source; True when the model side must restart."""
        settings, warnings = load_settings(self.init_options, self.client_settings, env=self.env)
        return self.apply_settings(settings, warnings)

    async def start_model(self) -> None:
        """(Re)start the model side for the current settings; failures become status."""
        from spark_lsp.runtime import ModelRuntime  # websockets & co. load after initialize

        await self.stop_model()
        if self.closing:  # e.g. the settings arrived after the editor asked us to shut down
            return
        self.reporter.model = self.settings.model.name
        try:
            runtime = ModelRuntime(self.settings, self.env, self.store.root)
            self.runtime = runtime
            self.reporter.endpoint_kind = runtime.kind
            await runtime.start(self._on_session_status)
            self.service.session_changed()
        except SparkError as exc:
            if self.closing:  # stopped by shutdown while starting: nothing went wrong
                return
            self.reporter.set_state("error", str(exc))
            self.reporter.problem("start", f"spark-lsp: {exc}", popup=True)
        finally:
            self.reporter.endpoint_kind = runtime.kind
            self.reporter.endpoint_url = runtime.display_url

    def _on_session_status(self, status: SessionStatus) -> None:
        if self._service is not None:
            self._service.session_state(status.state)
        if status.state == "ready":
            self.key_retried = False
            self.reporter.recovered()
        if (
            status.state == "auth_failed"
            and self.settings.model.api_key_command
            and not self.key_retried
        ):
            # The key may have been rotated in the password manager: read it once more.
            self.key_retried = True
            self.run_task(self.start_model(), "reread-api-key")
            return
        self.reporter.on_session(status.state, status.detail)

    def start_indexing(self) -> None:
        """Index the workspace in the background (project context), once per session."""
        if self.indexing or self.store.root is None or not self.settings.context.project:
            return
        self.indexing = True
        self.run_task(self.service.project.build(self.store.root), "index-workspace")

    async def close_model_side(self) -> None:
        """Stop the model side for good: called by ``shutdown`` and whenever serving ends.

        Run while the event loop still runs, so that a bundled-server process still being
        created is waited for: the loop's own shutdown would cancel its creation, which hangs
        Python 3.11 for good (see EmbeddedModelServer).
        """
        self.closing = True
        await self.stop_model()

    async def stop_model(self) -> None:
        """Close the session and the bundled model server, if running."""
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            await runtime.close()


def workspace_root(server: SparkServer) -> Path | None:
    """The first workspace folder (or root URI) as a path."""
    root = server.workspace.root_path
    return Path(root) if root else None
