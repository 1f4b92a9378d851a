"""What the session knows about its own health, as pure state: status, cool-down, fatal errors.

No sockets and an injected clock, like ``Pool``: every rule about whether the session may send
now — a rate limit's cool-down, a failure no retry fixes, dials failing with no link serving, a
lost link being replaced — is a plain method call a unit test can drive with a fake clock.
``ModelSession`` reports the events (a request failed or succeeded, a dial failed, a link was
adopted or lost) and does the I/O they ask for (closing a link, waking waiters); status changes
reach its listener through ``on_change``, each one once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from spark_lsp.errors import (
    AuthError,
    ConfigError,
    ModelNotAvailable,
    ModelUnavailable,
    RateLimited,
    SparkError,
)

__all__ = ["SessionHealth", "SessionStatus", "State"]

State = Literal["connecting", "ready", "rate_limited", "offline", "auth_failed", "closed"]
#: Seconds a rate-limited request holds the session back when the endpoint named no wait.
DEFAULT_RATE_LIMIT_WAIT_S = 1.0


@dataclass(frozen=True)
class SessionStatus:
    """What a status bar shows: the state and, when unhealthy, why (never a secret)."""

    state: State
    detail: str | None = None


class SessionHealth:
    """The session's state and the errors behind it; every method is a pure state change."""

    def __init__(
        self,
        model: str,
        on_change: Callable[[SessionStatus], None] | None = None,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        #: The model the session asks for: a ``ModelNotAvailable`` is named after it.
        self._model = model
        self._on_change = on_change
        self._timer = timer
        self._status = SessionStatus("connecting")
        self._fatal: SparkError | None = None
        self._last_error: SparkError | None = None
        self._cooldown_until = -math.inf
        #: Serving links lost (not retired by us) and not yet replaced: the next ones reconnect.
        self._lost = 0

    # -- questions ----------------------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        """The current state of the session."""
        return self._status

    def halted(self) -> bool:
        """True after a failure that retrying cannot fix."""
        return self._fatal is not None

    def cooldown_left(self) -> float:
        """Seconds a rate limit still asks us to wait (0 when it asks for none)."""
        return max(0.0, self._cooldown_until - self._timer())

    def gave_up(self) -> bool:
        """True when waiting for a link is pointless: halted, or offline (dials failing)."""
        return self._fatal is not None or self._status.state == "offline"

    def raise_if_unusable(self) -> None:
        """Raise what stops a request from being sent now: a fatal error, or a cool-down."""
        if self._fatal is not None:
            raise self._fatal
        wait = self.cooldown_left()
        if wait > 0:
            raise RateLimited(f"rate limited by the model endpoint; retrying in {wait:.1f} s", wait)

    def offline_error(self) -> SparkError | None:
        """Why no link serves, for a request waiting for one; None while a reconnect is the
        expected next step (connecting after a drop) and waiting is worth it."""
        return self._last_error if self._status.state != "connecting" else None

    def why_not_ready(self) -> SparkError:
        """The error for a request that waited for a link in vain."""
        return self._fatal or self._last_error or ModelUnavailable("the model is not connected")

    # -- events -------------------------------------------------------------------------------

    def request_failed(self, error: SparkError) -> SparkError:
        """A request failed; returns the error to raise (a missing model named for the user).

        A rate limit holds every request back for its Retry-After (or a second); a refused key
        or a model the key cannot use stops the session for good.
        """
        error = self._named(error)
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after is not None else DEFAULT_RATE_LIMIT_WAIT_S
            self._cooldown_until = max(self._cooldown_until, self._timer() + wait)
            detail = f"rate limited; retrying in {math.ceil(wait)} s"
            self._set(SessionStatus("rate_limited", detail))
        elif isinstance(error, AuthError | ModelNotAvailable):
            self._fail_for_good(error)
        return error

    def request_succeeded(self) -> None:
        """A response completed: a rate-limit cool-down, if any, is over."""
        if self._status.state == "rate_limited":
            self._set(SessionStatus("ready"))

    def dial_failed(self, error: SparkError, *, serving: bool) -> None:
        """Remember why; stop for good on what only the user can fix, cool down on a rate
        limit, and say offline when no link is left serving."""
        error = self._named(error)
        self._last_error = error
        if isinstance(error, AuthError | ConfigError):  # a key, a model, a CA file: user's fix
            self._fail_for_good(error)
            return
        if isinstance(error, RateLimited) and error.retry_after:
            self._cooldown_until = self._timer() + error.retry_after
        if not serving:
            self._set(SessionStatus("offline", str(error)))

    def link_adopted(self, *, rotation: bool) -> bool:
        """A link serves: the session is ready. True when it replaces a lost one (a reconnect)."""
        reconnect = not rotation and self._lost > 0
        if reconnect:
            self._lost -= 1
        self._last_error = None
        self._set(SessionStatus("ready"))
        return reconnect

    def link_lost(self, error: SparkError, *, was_serving: bool, serving: bool) -> None:
        """A link closed without us retiring it; with none left serving the session reconnects."""
        if was_serving:
            self._last_error = error
            self._lost += 1
        if not serving and self._status.state == "ready":
            self._set(SessionStatus("connecting", str(error)))

    def closed(self) -> None:
        """The session was closed by its owner."""
        self._set(SessionStatus("closed"))

    # -- internals ----------------------------------------------------------------------------

    def _named(self, error: SparkError) -> SparkError:
        return error.named(self._model) if isinstance(error, ModelNotAvailable) else error

    def _fail_for_good(self, error: SparkError) -> None:
        self._fatal = error
        self._set(SessionStatus("auth_failed", str(error)))

    def _set(self, status: SessionStatus) -> None:
        if status == self._status:
            return
        self._status = status
        if self._on_change is not None:
            self._on_change(status)
