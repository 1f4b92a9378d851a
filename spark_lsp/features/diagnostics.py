"""Optional syntax diagnostics (``spark.actions.syntaxDiagnostics``) for Python documents.

Off by default: most users already have a linter that reports syntax errors. When on, the
server publishes the first syntax error a moment after typing stops, so the "Spark: Fix" quick
fix has a diagnostic to attach to even in an editor without a Python linter.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from spark_lsp.engine.messages import SYNTAX_SOURCE
from spark_lsp.lsp.server import SparkServer

#: Wait this long after the last change before parsing: a file mid-edit rarely parses.
SETTLE_S = 0.4


def schedule(ls: SparkServer, uri: str) -> None:
    """Re-check ``uri`` once typing settles (a newer change restarts the wait)."""
    if not ls.settings.actions.syntax_diagnostics:
        return
    pending = ls.diagnostic_tasks.pop(uri, None)
    if pending is not None:
        pending.cancel()
    ls.diagnostic_tasks[uri] = ls.run_task(_publish_later(ls, uri), f"syntax-{uri}")


async def _publish_later(ls: SparkServer, uri: str) -> None:
    await asyncio.sleep(SETTLE_S)
    ls.diagnostic_tasks.pop(uri, None)
    doc = ls.store.get(uri)
    if doc is None:
        return
    found = ls.service.syntax_error(uri)
    diagnostics = (
        []
        if found is None
        else [
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=found.start_line, character=0),
                    end=types.Position(line=found.start_line + 1, character=0),
                ),
                message=found.message,
                severity=types.DiagnosticSeverity.Error,
                source=SYNTAX_SOURCE,
            )
        ]
    )
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, version=doc.index.version, diagnostics=diagnostics)
    )
