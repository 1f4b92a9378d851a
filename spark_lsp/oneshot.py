"""``spark-lsp complete FILE:LINE:COL``: the completion pipeline once, from the shell.

Useful to see what the model would suggest without an editor, and as a smoke test of a
configuration; it goes through exactly the pipeline the language server uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from spark_lsp.config import load_settings
from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline, CompletionQuery
from spark_lsp.engine.store import DocumentStore
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.errors import ConfigError, SparkError
from spark_lsp.runtime import ModelRuntime

LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".cpp": "cpp",
    ".rb": "ruby",
}


def parse_location(location: str) -> tuple[Path, int, int]:
    """Split ``FILE:LINE:COL`` (1-based) into a path and 0-based line and column."""
    path, _, rest = location.partition(":")
    line, _, col = rest.partition(":")
    if not path or not line.isdigit() or not col.isdigit() or int(line) < 1 or int(col) < 1:
        raise ConfigError(f"expected FILE:LINE:COL with 1-based numbers, got {location!r}")
    return Path(path), int(line) - 1, int(col) - 1


async def run_complete(location: str, out: Callable[[str], None]) -> int:
    """Print the suggestion; 1 with a message when there is none or the model is down."""
    path, line, col = parse_location(location)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    settings, _ = load_settings(env=dict(os.environ))
    counter = TokenCounter()
    counter.start_loading()
    store = DocumentStore(counter)
    doc = store.open(path.resolve().as_uri(), LANGUAGES.get(path.suffix, "plaintext"), text, 0)
    line = min(line, doc.index.line_count - 1)
    runtime = ModelRuntime(settings, dict(os.environ), path.resolve().parent)
    session = await runtime.start()
    options = CompletionOptions(
        settings.model.name,
        settings.completion.max_output_tokens,
        settings.completion.context_tokens,
        settings.completion.multiline,
        reasoning_effort=settings.model.reasoning_effort,
        reasoning_tokens=settings.model.reasoning_tokens,
    )
    pipeline = CompletionPipeline(lambda: session, ContextBuilder(), lambda: options)
    character = doc.index.from_column(line, col)
    query = CompletionQuery(doc.uri, path.name, doc.language_id, doc.index, line, character, True)
    try:
        if not await session.wait_ready(settings.model.connect_timeout_ms / 1000 + 5):
            raise SparkError(f"the model is not reachable: {session.status.detail}")
        suggestion = await pipeline.complete(query)
    finally:
        await runtime.close()
    if suggestion is None:
        raise SparkError("the model had no suggestion at that position")
    out(suggestion.text)
    return 0
