"""Shared by the benchmarks: a scripted model server in its own process, and table printing.

The model server runs in a separate process so that its CPU time does not land in the
client's measurements; it is the same bundled server the tests use, with a script file.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from spark_lsp.engine.stats import percentile
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.modelserver.embedded import EmbeddedModelServer
from spark_lsp.modelserver.engines.scripted import FaultSpec, Reply, ScriptedEngine


def self_signed_cert(folder: Path) -> tuple[str, str]:
    """A throw-away certificate for 127.0.0.1 (openssl CLI), so benchmarks can use wss://."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


async def scripted_server(script: dict[str, Any], *extra: str) -> EmbeddedModelServer:
    """Start ``spark-lsp model-server --engine scripted`` with ``script``; caller stops it."""
    path = Path(tempfile.mkdtemp(prefix="spark-bench-")) / "script.json"
    path.write_text(json.dumps(script))
    return EmbeddedModelServer(extra_args=("--engine", "scripted", "--script", str(path), *extra))


async def inline_texts(
    client: LanguageClient, uri: str, line: int, column: int, *, invoked: bool
) -> list[str]:
    """Send one inline-completion request as an editor does; the suggested texts."""
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=column),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )
    items = result.items if isinstance(result, types.InlineCompletionList) else result or []
    return [item.insert_text for item in items if isinstance(item.insert_text, str)]


def to_plain(value: Any) -> Any:
    """pygls hands custom results back as named tuples: turn them into dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: to_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def summary(samples: Sequence[float]) -> tuple[float, float]:
    """(median, p99) of millisecond samples."""
    return statistics.median(samples), percentile(list(samples), 99)


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table that reads well in a terminal and in an issue note."""
    cells = [list(map(str, header))] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[1:]]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


@cache
def loaded_counter() -> TokenCounter:
    """One token counter for a benchmark run, vocabulary loading started."""
    counter = TokenCounter()
    counter.start_loading()
    return counter


def set_default_reply(engine: ScriptedEngine, text: str, fault: FaultSpec | None = None) -> None:
    """Replace ``engine``'s default reply, keeping its timing and its other replies."""
    engine.script = replace(engine.script, default=Reply(text=text, fault=fault))
