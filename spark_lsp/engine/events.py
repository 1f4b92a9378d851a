"""What the service tells its host while it works, apart from the service itself.

Its own small module so that a host (:mod:`spark_lsp.host`) can name these types without
importing the engine, which is most of what spark-lsp loads: the language server answers
``initialize`` before the engine is imported.
"""

from __future__ import annotations

import logging
from typing import Protocol

from spark_lsp.errors import SparkError

log = logging.getLogger(__name__)


class ServiceEvents(Protocol):
    """What the service tells its host while it works (the language server's status bar)."""

    def busy(self, is_busy: bool) -> None:
        """A model call started (True) or ended (False)."""

    def excluded(self, reason: str | None) -> None:
        """The document in use is excluded (``reason``), or is not (None)."""

    def error(self, exc: SparkError) -> None:
        """A completion failed; actions raise instead, their caller reports."""

    def latency(self, ms: float) -> None:
        """How long the last model call took."""

    def notice(self, message: str) -> None:
        """Something to log for the user, not a failure: no popup (the caller says it once)."""

    def paused(self, detail: str | None, announce: bool) -> None:
        """Model calls are paused (the circuit breaker opened: ``detail`` says why and for how
        long), or may go again (None). ``announce``: the first pause of an outage, to be said
        once; never anything per refused call."""


class NoEvents:
    """Events for hosts without a status display (the one-shot command, benchmarks)."""

    def busy(self, is_busy: bool) -> None:
        """Ignored."""

    def excluded(self, reason: str | None) -> None:
        """Ignored."""

    def error(self, exc: SparkError) -> None:
        """Ignored: the result carries the failure."""

    def latency(self, ms: float) -> None:
        """Ignored."""

    def notice(self, message: str) -> None:
        """Logged only."""
        log.warning("%s", message)

    def paused(self, detail: str | None, announce: bool) -> None:
        """Logged only."""
        if detail is not None and announce:
            log.warning("%s", detail)
