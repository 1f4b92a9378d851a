"""``spark-lsp complete FILE:LINE:COL``: one completion from the shell, through the one door.

Useful to see what the model would suggest without an editor, and as a smoke test of a
configuration. It asks the same service the language server uses, so the same checks hold: an
excluded file (``.env``, a gitignored file) is refused before the model is even started, with
the reason, and the prompt carries the same context, redaction and ``prompt_cache_key``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from spark_lsp.engine.messages import CompletionRequest
from spark_lsp.engine.store import DocumentStore
from spark_lsp.errors import ConfigError, SparkError
from spark_lsp.host import QuietEvents, SparkHost

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
#: A directory holding one of these is taken as the workspace root (ignore files live there).
ROOT_MARKERS = (".git", ".sparkignore")


def parse_location(location: str) -> tuple[Path, int, int]:
    """Split ``FILE:LINE:COL`` (1-based) into a path and 0-based line and column."""
    path, _, rest = location.partition(":")
    line, _, col = rest.partition(":")
    if not path or not line.isdigit() or not col.isdigit() or int(line) < 1 or int(col) < 1:
        raise ConfigError(f"expected FILE:LINE:COL with 1-based numbers, got {location!r}")
    return Path(path), int(line) - 1, int(col) - 1


def workspace_root(path: Path) -> Path:
    """The nearest directory above ``path`` that looks like a project root, else its folder."""
    for folder in path.parents:
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return path.parent


async def run_complete(location: str, out: Callable[[str], None]) -> int:
    """Print the suggestion; raise a SparkError saying why when there is none."""
    path, line, col = parse_location(location)
    path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    host = SparkHost(QuietEvents(), os.environ, prefetch=False)
    host.counter.start_loading()
    host.set_roots([workspace_root(path)])
    service = host.service
    service.open(path.as_uri(), LANGUAGES.get(path.suffix, "plaintext"), text, 0)
    request = _request(host.store, path.as_uri(), line, col)
    refused = service.completion_refusal(request)
    if refused is not None:
        raise SparkError(f"{path.name}: {refused}")  # before the model side even starts
    await _complete(host, request, out)
    return 0


def _request(store: DocumentStore, uri: str, line: int, col: int) -> CompletionRequest:
    doc = store.get(uri)
    assert doc is not None  # just opened
    line = min(line, doc.index.line_count - 1)
    return CompletionRequest(uri, line, doc.index.from_column(line, col), invoked=True)


async def _complete(
    host: SparkHost, request: CompletionRequest, out: Callable[[str], None]
) -> None:
    settings = host.settings
    try:
        session = await host.started_session()
        if not await session.wait_ready(settings.model.connect_timeout_ms / 1000 + 5):
            raise SparkError(f"the model is not reachable: {session.status.detail}")
        result = await host.service.complete(request)
    finally:
        await host.close()
    if result.text is None:
        raise SparkError(
            result.refused or result.failed or "the model had no suggestion at that position"
        )
    out(result.text)
