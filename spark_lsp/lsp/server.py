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
from pygls.uris import to_fs_path

from spark_lsp import __version__
from spark_lsp.config import (
    LoadedSettings,
    Settings,
    ignored_machine_warning,
    load_settings,
    load_settings_traced,
)
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
        #: The ``workspace/configuration`` answer (or pushed settings): never trusted with a
        #: machine-scoped key, since a repository can supply it.
        self.client_settings: Any = None
        #: Machine-scoped keys already warned about (one warning each per session).
        self.ignored_warned: set[str] = set()
        # Warnings wait for initialize: the settings are merged (and warned about) again there.
        self.settings, _ = load_settings(env=self.env)
        self.counter = TokenCounter()
        self.store = DocumentStore(self.counter)
        self.runtime: ModelRuntime | None = None
        #: Set by ``shutdown`` or the end of serving (close_model_side): nothing starts after.
        self.closing = False
        self.key_retried = False
        self._start_lock = asyncio.Lock()
        self._start_generation = 0
        self.indexing = False
        self.tasks: set[asyncio.Task[Any]] = set()
        self.diagnostic_tasks: dict[str, asyncio.Task[Any]] = {}
        self.reporter = StatusReporter(
            lambda method, params: self.protocol.notify(method, params),
            self.window_show_message,
            self.window_log_message,
            thinking_after=lambda: self.settings.completion.thinking_after_ms / 1000,
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
        loaded = load_settings_traced(
            self.init_options, workspace=self.client_settings, env=self.env
        )
        return self.apply_settings(loaded.settings, loaded.warnings + self._ignored(loaded))

    def _ignored(self, loaded: LoadedSettings) -> list[str]:
        """One warning for machine-scoped keys the workspace tried to set, new ones only."""
        new = [key for key in loaded.ignored if key not in self.ignored_warned]
        self.ignored_warned.update(new)
        return [ignored_machine_warning(new, loaded.user_config)] if new else []

    async def start_model(self) -> None:
        """(Re)start the model side for the current settings; failures become status.

        Starts are serialised, and a start asked for while another runs supersedes every
        request queued before it: a slow ``apiKeyCommand`` with six settings changes behind
        it ends in one restart for the latest settings, and at most one session lives.
        """
        self._start_generation += 1
        generation = self._start_generation
        async with self._start_lock:
            if generation != self._start_generation:
                return  # a newer request is queued behind this one and will do the work
            await self._start_model()

    async def _start_model(self) -> None:
        from spark_lsp.runtime import ModelRuntime  # websockets & co. load after initialize

        await self.stop_model()
        if self.closing:  # e.g. the settings arrived after the editor asked us to shut down
            return
        self.reporter.model = self.settings.model.name
        try:
            runtime = ModelRuntime(self.settings, self.env, self.store.root)
        except SparkError as exc:
            self._start_failed(exc)
            return
        self.runtime = runtime
        try:
            self.reporter.endpoint_kind = runtime.kind
            await runtime.start(self._on_session_status)
            if self.runtime is not runtime:  # shut down while it started: it must not live on
                await runtime.close()
                return
            self.service.session_changed()
        except SparkError as exc:
            if not self.closing and self.runtime is runtime:  # else stopped while starting
                self._start_failed(exc)
        finally:
            if self.runtime is runtime:
                self.reporter.endpoint_kind = runtime.kind
                self.reporter.endpoint_url = runtime.display_url

    def _start_failed(self, exc: SparkError) -> None:
        self.reporter.set_state("error", str(exc))
        self.reporter.problem("start", f"spark-lsp: {exc}", popup=True)

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
        if self.indexing or not self.store.roots or not self.settings.context.project:
            return
        self.indexing = True
        self.run_task(self.service.project.build(self.store.roots), "index-workspace")

    def set_roots(self, roots: list[Path]) -> None:
        """Adopt the workspace folders (at ``initialize`` and on every folder change).

        Each folder is a root with its own ignore files: the privacy policy is rebuilt here,
        before the next message is handled, so a file of a folder just added is judged by its
        folder's ``.gitignore`` from its first request; a running index is rebuilt to cover
        the new set.
        """
        self.store.folders = list(roots)
        self.store.root = roots[0] if roots else None
        if self._service is not None:
            self._service.settings_changed(model_changed=False)
        if self.indexing and not self.closing and roots:
            self.run_task(self.service.project.build(roots), "index-workspace")

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
