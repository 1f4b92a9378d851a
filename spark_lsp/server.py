"""The language server object: shared state, owned background tasks, and feature wiring.

Handlers live in ``features/``; each is a few lines that translate LSP types and call into the
engine. This module holds what they share (settings, documents, the model runtime, the
pipeline) and the lifecycle that starts and stops the model side.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from spark_lsp import __version__
from spark_lsp.config import Settings, language_enabled, load_settings
from spark_lsp.engine.privacy import ExclusionPolicy
from spark_lsp.engine.store import DocumentStore, OpenDocument
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.errors import SparkError
from spark_lsp.features.status import StatusReporter

if TYPE_CHECKING:
    from spark_lsp.engine.actions import ActionEngine
    from spark_lsp.engine.context import ContextBuilder, ContextOptions
    from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
    from spark_lsp.model.session import ModelSession, SessionStatus
    from spark_lsp.runtime import ModelRuntime

log = logging.getLogger(__name__)


class SparkProtocol(LanguageServerProtocol):
    """pygls' protocol, but a request with malformed params gets an error response.

    pygls validates params while parsing the message, before it knows it must answer, and
    drops the request: the editor would wait for ever. Answer it with InvalidParams (-32602)
    and a message naming the method and the bad fields.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as exc:
            msg_id, method = data.get("id"), data.get("method")
            if isinstance(msg_id, int | str) and isinstance(method, str):
                self._send_response(
                    msg_id,
                    error=types.ResponseError(
                        code=JsonRpcInvalidParams.CODE,
                        message=f"invalid params for {method}: {_describe_invalid(exc)}",
                    ),
                )
            raise

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Run a handler, then forget its future.

        pygls files the future of every handler under its message id but removes it only when
        it answers a request; notifications (every didChange) and the steps of its generator
        handlers stay in ``_request_futures`` for ever: ~2 KB per keystroke, measured by the
        soak benchmark.
        """
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda done: self._forget_future(msg_id, done))

    def _forget_future(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    # spark-lsp's DocumentStore is the one copy of each open document. pygls would keep a
    # second one, rebuilt on every change (O(document) per keystroke), and would raise on a
    # change to a document that is not open, before our handler runs.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> _Handlers:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> _Handlers:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> _Handlers:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> _Handlers:
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None


_Handlers = Iterator[tuple[Any, tuple[Any, ...], None]]


def _describe_invalid(exc: Exception) -> str:
    cause = exc.__cause__
    if cause is None:
        return "malformed"
    try:
        problems = transform_error(cause, path="")
    except Exception:  # a description must never fail
        return str(cause)[:200]
    return "; ".join(p.replace("@ .", "@ ") for p in problems[:3])[:300]


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
        self.init_options: Any = None
        self.client_settings: Any = None
        self.settings, warnings = load_settings(env=self.env)
        self.pending_warnings = warnings
        self.counter = TokenCounter()
        self.store = DocumentStore(self.counter)
        self.policy: ExclusionPolicy | None = None
        self.runtime: ModelRuntime | None = None
        self.completions_on = True
        self.tasks: set[asyncio.Task[Any]] = set()
        self.diagnostic_tasks: dict[str, asyncio.Task[Any]] = {}
        self.reporter = StatusReporter(
            lambda method, params: self.protocol.notify(method, params),
            self.window_show_message,
            self.window_log_message,
        )

    # The engine is built on first use (``initialized`` touches it): its imports are not
    # needed to answer ``initialize``, and the editor waits for that answer.

    @cached_property
    def context_builder(self) -> ContextBuilder:
        """Prompts from the open documents."""
        from spark_lsp.engine.context import ContextBuilder

        return ContextBuilder(self.store, lambda: self.policy, self.context_options)

    @cached_property
    def actions(self) -> ActionEngine:
        """Code actions and edits."""
        from spark_lsp.engine.actions import ActionEngine

        return ActionEngine(
            self.model_session,
            lambda: self.settings.model.name,
            lambda: self.settings.context.edit_tokens,
        )

    @cached_property
    def pipeline(self) -> CompletionPipeline:
        """Inline completions."""
        from spark_lsp.engine.pipeline import CompletionPipeline

        return CompletionPipeline(
            self.model_session,
            self.context_builder,
            self.completion_options,
            fixed_delay=self._fixed_delay,
        )

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A handler bug: log it with its traceback, tell the user once, keep serving."""
        if isinstance(error, JsonRpcInvalidParams | JsonRpcMethodNotFound):
            # The client's mistake, already answered (or a notification nobody handles).
            log.warning("ignored a malformed message: %s", _describe_invalid(error))
            return
        log.error("internal error in spark-lsp", exc_info=error)
        self.reporter.problem(
            "internal:" + type(error).__name__,
            f"spark-lsp hit an internal error ({type(error).__name__}: {error}); "
            "details are in the language server log",
            popup=True,
        )

    def prepare_engine(self) -> None:
        """Build the engine now (after ``initialize`` was answered), not on the first key."""
        _ = self.actions, self.pipeline

    # -- shared accessors --------------------------------------------------------------------

    def model_session(self) -> ModelSession | None:
        """The live session, or None while the model side is (re)starting."""
        return self.runtime.session if self.runtime is not None else None

    def completion_options(self) -> CompletionOptions:
        """The pipeline's view of the current settings."""
        from spark_lsp.engine.pipeline import CompletionOptions

        completion = self.settings.completion
        return CompletionOptions(
            model=self.settings.model.name,
            max_output_tokens=completion.max_output_tokens,
            context_tokens=min(completion.context_tokens, self.settings.context.max_tokens),
            multiline=completion.multiline,
            prompt_cache_key=self.prompt_cache_key,
            prefetch=completion.prefetch_on_accept,
        )

    def context_options(self) -> ContextOptions:
        """The context stage's view of the current settings."""
        from spark_lsp.engine.context import ContextOptions

        return ContextOptions(
            max_tokens=self.settings.context.max_tokens,
            max_output_tokens=self.settings.completion.max_output_tokens,
            cross_file=self.settings.context.cross_file,
        )

    @property
    def prompt_cache_key(self) -> str:
        """Stable per workspace, so the provider routes our prompts to a warm cache."""
        import hashlib

        root = str(self.store.root or "")
        return "spark-lsp-" + hashlib.sha256(root.encode()).hexdigest()[:16]

    def _fixed_delay(self) -> float | None:
        debounce_ms = self.settings.completion.debounce_ms
        return None if debounce_ms is None else debounce_ms / 1000

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

    # -- completions --------------------------------------------------------------------------

    async def suggest(
        self, uri: str, position: types.Position, *, invoked: bool
    ) -> tuple[OpenDocument, str] | None:
        """Run the pipeline for a position; None when completions are off or nothing fits."""
        doc = self.store.get(uri)
        if doc is None or not self._completions_allowed(doc, invoked):
            return None
        excluded = self.context_builder.excluded(uri)
        self.reporter.excluded(excluded)
        if excluded is not None:
            return None
        if position.line >= doc.index.line_count or position.line < 0 or position.character < 0:
            return None
        from spark_lsp.engine.pipeline import CompletionQuery

        query = CompletionQuery(
            uri, doc.path, doc.language_id, doc.index, position.line, position.character, invoked
        )
        self.reporter.busy(True)
        try:
            suggestion = await self.pipeline.complete(query)
        except SparkError as exc:
            self.reporter.error(exc)
            return None
        finally:
            self.reporter.busy(False)
        self._note_latency()
        return None if suggestion is None else (doc, suggestion.text)

    def _completions_allowed(self, doc: OpenDocument, invoked: bool) -> bool:
        if not self.completions_on and not invoked:
            return False
        return language_enabled(self.settings, doc.language_id)

    def _note_latency(self) -> None:
        samples = self.pipeline.stats.stages.get("model")
        if samples:
            self.reporter.latency_ms = samples[-1]

    # -- lifecycle ----------------------------------------------------------------------------

    def apply_settings(self, settings: Settings, warnings: list[str]) -> bool:
        """Adopt new settings; True when the model side must restart to honour them."""
        old = self.settings
        self.settings = settings
        self.policy = ExclusionPolicy(self.store.root, settings.context.exclude)
        self.reporter.warn_settings(warnings)
        self.reporter.model = settings.model.name
        return old.model != settings.model

    def reload_settings(self) -> bool:
        """Re-merge every source; True when the model side must restart."""
        settings, warnings = load_settings(self.init_options, self.client_settings, env=self.env)
        return self.apply_settings(settings, warnings)

    async def start_model(self) -> None:
        """(Re)start the model side for the current settings; failures become status."""
        from spark_lsp.runtime import ModelRuntime  # websockets & co. load after initialize

        await self.stop_model()
        runtime = ModelRuntime(self.settings, self.env, self.store.root)
        self.runtime = runtime
        self.reporter.model = self.settings.model.name
        self.reporter.endpoint_kind = runtime.kind
        try:
            await runtime.start(self._on_session_status)
            self.pipeline.note_session()
        except SparkError as exc:
            self.reporter.set_state("error", str(exc))
            self.reporter.problem("start", f"spark-lsp: {exc}", popup=True)

    def _on_session_status(self, status: SessionStatus) -> None:
        if status.state == "ready":
            self.reporter.recovered()
        self.reporter.on_session(status)

    async def stop_model(self) -> None:
        """Close the session and the bundled model server, if running."""
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            await runtime.close()


def create_server() -> SparkServer:
    """Build the server with every feature registered."""
    from spark_lsp.features import (
        code_actions,
        completion,
        documents,
        inline_completion,
        lifecycle,
        stats,
    )

    server = SparkServer()
    for feature in (lifecycle, documents, inline_completion, completion, code_actions, stats):
        feature.register(server)
    return server


def workspace_root(server: SparkServer) -> Path | None:
    """The first workspace folder (or root URI) as a path."""
    root = server.workspace.root_path
    return Path(root) if root else None
