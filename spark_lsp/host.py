"""The composition root: settings, documents, the model side and the service, wired once.

The language server, ``spark-lsp complete``, ``doctor`` and the benchmarks all need the same
house: settings merged from their sources, a document store, the model runtime (the endpoint,
the bundled model server, one session) started and restarted by the same rules, and the one
service over them. ``SparkHost`` is that house; each entry point opens it the same way and only
adapts it to its transport (pygls for the language server, stdout for the commands).

The rules that live here and nowhere else:

- starts are serialised, and a start asked for while another runs supersedes every request
  queued before it (a slow ``apiKeyCommand`` with six settings changes behind it ends in one
  restart, and at most one session lives);
- a rejected key is read again once from ``spark.model.apiKeyCommand`` (it may have been
  rotated in the password manager);
- the model side restarts when ``spark.model`` changes, or, for the bundled model server,
  when the workspace folders or ``spark.context.exclude`` change (the child process holds its
  own copy of both, taken at spawn);
- a model side that cannot even be configured (a damaged key) is a status, never a crash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from spark_lsp.config import (
    LoadedSettings,
    Settings,
    ignored_machine_warning,
    load_settings,
    load_settings_traced,
)
from spark_lsp.engine.events import NoEvents, ServiceEvents
from spark_lsp.engine.store import DocumentStore
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.errors import SparkError

if TYPE_CHECKING:
    from spark_lsp.engine.service import SparkService
    from spark_lsp.model.session import ModelSession, SessionStatus
    from spark_lsp.runtime import ModelRuntime

log = logging.getLogger(__name__)


class HostEvents(ServiceEvents, Protocol):
    """What the host tells its front end besides the service's events (the status bar)."""

    model: str
    endpoint_kind: str
    endpoint_url: str

    def set_state(self, state: str, detail: str | None = None) -> None:
        """The model side's state changed (``error`` with a reason)."""

    def on_session(self, state: str, detail: str | None) -> None:
        """The session's state changed."""

    def problem(self, key: str, message: str, *, popup: bool) -> None:
        """Something failed that the user must hear about (once per ``key``)."""

    def recovered(self) -> None:
        """The model answers again."""

    def warn_settings(self, warnings: list[str]) -> None:
        """Settings that were ignored or corrected, to be said once."""


class QuietEvents(NoEvents):
    """Host events for the commands: a problem is logged, the rest is kept or ignored (the
    command prints its own verdict)."""

    def __init__(self) -> None:
        self.model = ""
        self.endpoint_kind = ""
        self.endpoint_url = ""
        #: Why the model side could not start (the command's one line of error), if it could not.
        self.failure: str | None = None

    def set_state(self, state: str, detail: str | None = None) -> None:
        """Kept when it is a failure: the command says it as its verdict."""
        if state == "error":
            self.failure = detail

    def on_session(self, state: str, detail: str | None) -> None:
        """Ignored."""

    def problem(self, key: str, message: str, *, popup: bool) -> None:
        """Logged."""
        log.warning("%s", message)

    def recovered(self) -> None:
        """Ignored."""

    def warn_settings(self, warnings: list[str]) -> None:
        """Logged."""
        for warning in warnings:
            log.warning("spark-lsp settings: %s", warning)


class SparkHost:
    """Settings, store, model runtime and service for one front end."""

    def __init__(
        self,
        events: HostEvents,
        env: Mapping[str, str],
        *,
        settings: Settings | None = None,
        prefetch: bool = True,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env: dict[str, str] = dict(env)
        self.events = events
        # Warnings wait for the front end's first reload: the settings are merged (and warned
        # about) again there.
        self.settings = settings if settings is not None else load_settings(env=self.env)[0]
        self.counter = TokenCounter()
        self.store = DocumentStore(self.counter)
        self.runtime: ModelRuntime | None = None
        #: Set by :meth:`close`: nothing starts after it.
        self.closing = False
        self.key_retried = False
        self.indexing = False
        self.tasks: set[asyncio.Task[Any]] = set()
        #: Machine-scoped keys already warned about (one warning each per session).
        self.ignored_warned: set[str] = set()
        self._prefetch = prefetch
        self._timer = timer
        self._start_lock = asyncio.Lock()
        self._start_generation = 0
        self._service: SparkService | None = None
        self._service_hooks: list[Callable[[SparkService], None]] = []
        #: What the running bundled model server was given (restarted when it changes).
        self._spawned_with: tuple[tuple[Path, ...], tuple[str, ...]] | None = None

    # -- the service -----------------------------------------------------------------------

    @property
    def service(self) -> SparkService:
        """The one door to the model, built on first use.

        Lazy because the engine (parsers, prompts, the completion pipeline) is most of what
        spark-lsp imports: the language server answers ``initialize`` without it.
        """
        if self._service is None:
            from spark_lsp.engine.service import SparkService

            service = SparkService(
                self.store,
                lambda: self.settings,
                self.session,
                self.events,
                timer=self._timer,
                prefetch=self._prefetch,
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

    def session(self) -> ModelSession | None:
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

    # -- settings and folders --------------------------------------------------------------

    def apply_settings(self, settings: Settings, warnings: list[str]) -> bool:
        """Adopt new settings; True when the model side must restart to honour them."""
        old = self.settings
        self.settings = settings
        model_changed = old.model != settings.model
        if self._service is not None:  # a service built later reads the settings itself
            self._service.settings_changed(model_changed=model_changed)
        self.events.warn_settings(warnings)
        self.events.model = settings.model.name
        return model_changed or self._bundled_outdated()

    def reload_settings(self, init_options: Any = None, workspace: Any = None) -> bool:
        """Re-merge every source (the workspace's settings never set a machine-scoped key);
        True when the model side must restart."""
        loaded = load_settings_traced(init_options, workspace=workspace, env=self.env)
        return self.apply_settings(loaded.settings, loaded.warnings + self._ignored(loaded))

    def _ignored(self, loaded: LoadedSettings) -> list[str]:
        """One warning for machine-scoped keys the workspace tried to set, new ones only."""
        new = [key for key in loaded.ignored if key not in self.ignored_warned]
        self.ignored_warned.update(new)
        return [ignored_machine_warning(new, loaded.user_config)] if new else []

    def set_roots(self, roots: list[Path]) -> bool:
        """Adopt the workspace folders; True when the model side must restart (the bundled
        model server learns from the folders it was given at spawn).

        Each folder is a root with its own ignore files: the privacy policy is rebuilt here,
        so a file of a folder just added is judged by its folder's ``.gitignore`` from its
        first request; a running index is rebuilt to cover the new set.
        """
        self.store.folders = list(roots)
        self.store.root = roots[0] if roots else None
        if self._service is not None:
            self._service.settings_changed(model_changed=False)
        if self.indexing and not self.closing and roots:
            self.run_task(self.service.project.build(roots), "index-workspace")
        return self._bundled_outdated()

    def start_indexing(self) -> None:
        """Index the workspace in the background (project context), once per session."""
        if self.indexing or not self.store.roots or not self.settings.context.project:
            return
        self.indexing = True
        self.run_task(self.service.project.build(self.store.roots), "index-workspace")

    def _bundled_outdated(self) -> bool:
        """Whether a running bundled model server holds other folders or exclusions than
        the current ones."""
        return self._spawned_with is not None and self._spawned_with != self._spawn_inputs()

    def _spawn_inputs(self) -> tuple[tuple[Path, ...], tuple[str, ...]]:
        return tuple(self.store.roots), tuple(self.settings.context.exclude)

    # -- the model side --------------------------------------------------------------------

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
        self.events.model = self.settings.model.name
        try:
            runtime = ModelRuntime(self.settings, self.env, self.store.roots)
        except SparkError as exc:
            self._start_failed(exc)
            return
        self.runtime = runtime
        self._spawned_with = self._spawn_inputs() if runtime.endpoint.bundled else None
        try:
            self.events.endpoint_kind = runtime.kind
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
                self.events.endpoint_kind = runtime.kind
                self.events.endpoint_url = runtime.display_url

    def _start_failed(self, exc: SparkError) -> None:
        self.events.set_state("error", str(exc))
        self.events.problem("start", f"spark-lsp: {exc}", popup=True)

    def _on_session_status(self, status: SessionStatus) -> None:
        if self._service is not None:
            self._service.session_state(status.state)
        if status.state == "ready":
            self.key_retried = False
            self.events.recovered()
        if (
            status.state == "auth_failed"
            and self.settings.model.api_key_command
            and not self.key_retried
        ):
            # The key may have been rotated in the password manager: read it once more.
            self.key_retried = True
            self.run_task(self.start_model(), "reread-api-key")
            return
        self.events.on_session(status.state, status.detail)

    async def stop_model(self) -> None:
        """Close the session and the bundled model server, if running."""
        runtime, self.runtime = self.runtime, None
        self._spawned_with = None
        if runtime is not None:
            await runtime.close()

    async def started_session(self) -> ModelSession:
        """Start the model side and return its session; raises ``SparkError`` saying why
        there is none (for the commands, which have no status bar to show it)."""
        await self.start_model()
        session = self.session()
        if session is None:
            failure = getattr(self.events, "failure", None)
            raise SparkError(failure or "the model side did not start")
        return session

    async def close(self) -> None:
        """Stop the model side for good: nothing starts after this."""
        self.closing = True
        await self.stop_model()
