"""spark/stats and the commands every client gets (toggle completions)."""

from __future__ import annotations

from typing import Any

from spark_lsp.config import settings_to_wire
from spark_lsp.server import SparkServer

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
        }
    return {
        "status": ls.reporter.payload(),
        "completionsEnabled": ls.completions_on,
        "pipeline": ls.pipeline.stats.snapshot(),
        "model": model,
        "documents": len(ls.store),
        "tokenCounts": ls.counter.kind,
        "settings": settings_to_wire(ls.settings),
    }


def register(server: SparkServer) -> None:
    """Attach spark/stats and the toggle command."""

    @server.feature(STATS_METHOD)
    def stats(ls: SparkServer, params: Any) -> dict[str, Any]:
        return snapshot(ls)

    @server.command(TOGGLE_COMMAND)
    def toggle(ls: SparkServer, *args: Any) -> dict[str, bool]:
        ls.completions_on = not ls.completions_on
        ls.reporter.set_state(ls.reporter.state, None if ls.completions_on else "completions off")
        return {"enabled": ls.completions_on}
