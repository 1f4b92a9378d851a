"""spark/stats and the commands every client gets (toggle completions)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from spark_lsp.config import settings_to_wire
from spark_lsp.lsp.server import Command, Method, Row, SparkServer
from spark_lsp.shared.scrub import SCRUBBER

STATS_METHOD = "spark/stats"
TOGGLE_COMMAND = "spark.toggleCompletions"


def snapshot(ls: SparkServer) -> dict[str, Any]:
    """Everything a user or a benchmark may want to see (no secrets)."""
    session = ls.model_session()
    model: dict[str, Any] = {}
    if session is not None:
        stats = session.stats
        model = {
            "handshakes": stats.handshakes,
            "reconnects": stats.reconnects,
            "requests": stats.requests,
            "failures": stats.failures,
            "chained": stats.chained,
            "chainMisses": stats.chain_misses,
            "bytesSent": stats.bytes_sent,
            "lanes": session.lanes,
            "connections": session.open_connections,
        }
    return {
        "status": ls.reporter.payload(),
        "completionsEnabled": ls.service.completions_on,
        "pipeline": ls.service.pipeline.stats.snapshot(),
        "nextEdit": ls.service.next_edits.stats.snapshot(),
        "breaker": {"open": ls.service.breaker.is_open, "refused": ls.service.breaker.refused},
        "acceptance": ls.service.acceptance.stats.snapshot(),
        "model": model,
        "documents": len(ls.store),
        "tokenCounts": ls.counter.kind,
        "project": ls.service.project.snapshot(),
        "settings": settings_to_wire(ls.settings),
        "process": process_stats(),
    }


def process_stats() -> dict[str, int | None]:
    """Resource use of this process, for leak hunting (the soak benchmark reads it)."""
    try:
        fds: int | None = len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux
        fds = None
    rss_kb: int | None = None
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss_kb = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return {"tasks": len(asyncio.all_tasks()), "fds": fds, "rssKb": rss_kb}


def stats(ls: SparkServer, params: Any) -> dict[str, Any]:
    """``spark/stats``: the snapshot, with anything secret-looking scrubbed."""
    scrubbed: dict[str, Any] = SCRUBBER.scrub_tree(snapshot(ls))
    return scrubbed


def toggle(ls: SparkServer, *args: Any) -> dict[str, bool]:
    """``spark.toggleCompletions``: switch automatic completions off or back on."""
    service = ls.service
    service.completions_on = not service.completions_on
    detail = None if service.completions_on else "completions off"
    ls.reporter.set_state(ls.reporter.state, detail)
    return {"enabled": service.completions_on}


HANDLERS: tuple[Row, ...] = (
    Method(STATS_METHOD, stats),
    Command(TOGGLE_COMMAND, toggle),
)
