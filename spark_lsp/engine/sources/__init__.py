"""Project context sources: the workspace index and what each source renders from it."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def log_failure(task: asyncio.Task[None]) -> None:
    """Done-callback of the sources' background tasks: a failure is logged, never lost."""
    if not task.cancelled() and task.exception() is not None:
        log.error("project context: %s failed", task.get_name(), exc_info=task.exception())
