"""What the editor is told: the ``spark/status`` notification and throttled messages.

Status bars need the session state at a glance; people need one message per problem, not one per
keystroke. So state changes go out as notifications, every problem goes to the log, and a popup
appears only once per distinct problem per ``quiet_s`` window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types

from spark_lsp.engine.messages import EXCLUDED_NOTE
from spark_lsp.errors import AuthError, ConfigError, ModelRefused, SparkError
from spark_lsp.shared.scrub import SCRUBBER

log = logging.getLogger(__name__)

STATUS_METHOD = "spark/status"
STATE_NAMES = {
    "connecting": "starting",
    "ready": "ready",
    "rate_limited": "offline",
    "offline": "offline",
    "auth_failed": "error",
    "closed": "offline",
}


_Message = TypeVar("_Message", types.ShowMessageParams, types.LogMessageParams)


class StatusReporter:
    """Sends ``spark/status`` and user messages through callables the server provides.

    It is also what the engine's service tells while it works (``ServiceEvents``): busy,
    excluded, a failed completion, the latest model latency.
    """

    def __init__(
        self,
        notify: Callable[[str, Any], None],
        show: Callable[[types.ShowMessageParams], None],
        log_message: Callable[[types.LogMessageParams], None],
        *,
        quiet_s: float = 300.0,
        timer: Callable[[], float] = time.monotonic,
        thinking_after: Callable[[], float] = lambda: 0.4,
    ) -> None:
        self._send_notification = notify
        self._send_popup = show
        self._send_log = log_message
        self._quiet_s = quiet_s
        self._timer = timer
        self._shown: dict[str, float] = {}
        self.state = "starting"
        self.detail: str | None = None
        self.model = ""
        self.endpoint_kind = ""
        self.endpoint_url = ""
        self.latency_ms: float | None = None
        self._paused = False
        self._thinking_after = thinking_after
        #: When each running request began (oldest first), and the timer for the oldest.
        self._waiting: deque[float] = deque()
        self._thinking_timer: asyncio.TimerHandle | None = None

    # Everything this class sends goes to a person: scrubbed once, here.

    def _notify(self, method: str, params: Any) -> None:
        self._send_notification(method, SCRUBBER.scrub_tree(params))

    def _show(self, params: types.ShowMessageParams) -> None:
        self._send_popup(_scrubbed(params))

    def _log(self, params: types.LogMessageParams) -> None:
        self._send_log(_scrubbed(params))

    def payload(self) -> dict[str, Any]:
        """The ``spark/status`` params (also part of ``spark/stats``)."""
        return {
            "state": self.state,
            "model": self.model,
            "endpoint": self.endpoint_kind,
            "endpointUrl": self.endpoint_url,
            "latencyMs": None if self.latency_ms is None else round(self.latency_ms, 1),
            "detail": self.detail,
        }

    def set_state(self, state: str, detail: str | None = None) -> None:
        """Change the state; notify only when something visible changed."""
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        self._notify(STATUS_METHOD, self.payload())

    def on_session(self, state: str, detail: str | None) -> None:
        """Mirror the model session's state; a lost connection is said once. A reconnect
        does not hide a pause of the breaker (calls stay paused until a trial succeeds)."""
        if not (self._paused and state == "ready"):
            self.set_state(STATE_NAMES[state], detail)
        if state in ("offline", "auth_failed") and detail:
            kind = "auth" if state == "auth_failed" else "offline"
            self.problem(kind, _session_message(state, detail), popup=True)

    def busy(self, is_busy: bool) -> None:
        """A request started or ended: only one that waits past the threshold is shown.

        Status bars cannot tell "slow" from "broken" unless told; but a notification per
        request would flicker on every key. So a request is timed, and ``thinking`` goes out
        only when one has waited ``thinking_after`` seconds, and ``ready`` when none still is.
        Requests end mostly in the order they began, so the oldest start is the one to time.
        """
        if is_busy:
            self._waiting.append(self._timer())
        elif self._waiting:
            self._waiting.popleft()
        self._rearm()

    def _rearm(self) -> None:
        """Set the state the waiting requests call for, and the timer for the next change."""
        if self._thinking_timer is not None:
            self._thinking_timer.cancel()
            self._thinking_timer = None
        if not self._waiting:
            if self.state == "thinking":
                self.set_state("ready", self.detail)
            return
        due = self._waiting[0] + self._thinking_after() - self._timer()
        if due <= 0:
            if self.state == "ready":
                self.set_state("thinking", self.detail)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): the next event re-checks
            return
        self._thinking_timer = loop.call_later(due, self._rearm)

    def latency(self, ms: float) -> None:
        """Remember the last model call's duration (shown with the next status)."""
        self.latency_ms = ms

    def notice(self, message: str) -> None:
        """A log message for the user (the service says it once, not per keystroke)."""
        self.problem("notice", message, popup=False)

    def paused(self, detail: str | None, announce: bool) -> None:
        """The engine's circuit breaker paused model calls (``detail``) or lets them go again
        (None): the status says so, the log once per outage (``announce``); the calls refused
        in between say nothing."""
        if detail is None:
            if self._paused:
                self._paused = False
                if self.state == "offline":
                    self.set_state("ready", None)
            return
        self._paused = True
        self.set_state("offline", detail)
        if announce:
            self.problem("paused", f"spark-lsp: {detail}", popup=False)

    def excluded(self, reason: str | None) -> None:
        """Say in the status why the current document is not sent (or clear that note)."""
        noted = self.detail is not None and self.detail.startswith(EXCLUDED_NOTE)
        if reason is not None:
            self.set_state(self.state, f"{EXCLUDED_NOTE}{reason}")
        elif noted:
            self.set_state(self.state, None)

    def error(self, exc: SparkError) -> None:
        """Report a failed request: popups only for what the user can act on. A refusal is
        shown too (throttled like the rest): an empty suggestion would not say why."""
        actionable = isinstance(exc, AuthError | ConfigError | ModelRefused)
        # The session reports a rejected key too (on_session): one problem, one popup.
        key = "auth" if isinstance(exc, AuthError) else type(exc).__name__
        self.problem(key, str(exc), popup=actionable)

    def warn_settings(self, warnings: list[str]) -> None:
        """Bad settings: one warning each, naming the key (the default stays in force)."""
        for warning in warnings:
            self.problem("settings:" + warning, f"spark-lsp settings: {warning}", popup=True)

    def problem(self, key: str, message: str, *, popup: bool) -> None:
        """Log every time; show a popup at most once per ``quiet_s`` for the same key."""
        log.warning("%s", message)
        self._log(types.LogMessageParams(type=types.MessageType.Warning, message=message))
        if not popup:
            return
        now = self._timer()
        last = self._shown.get(key)
        if last is not None and now - last < self._quiet_s:
            return
        self._shown[key] = now
        self._show(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def recovered(self) -> None:
        """Forget shown problems so the next outage is reported again."""
        self._shown = {k: v for k, v in self._shown.items() if k.startswith("settings:")}


def _scrubbed(params: _Message) -> _Message:
    params.message = SCRUBBER.scrub(params.message)
    return params


def _session_message(state: str, detail: str) -> str:
    if state == "auth_failed":
        return f"spark-lsp: {detail}"
    return (
        f"spark-lsp: the model is unreachable ({detail}); "
        "completions resume by themselves when it is back. Run `spark-lsp doctor` for details."
    )
