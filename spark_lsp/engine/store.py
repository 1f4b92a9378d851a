"""The open documents, as incremental indexes keyed by URI.

The language server feeds every ``didOpen``/``didChange``/``didClose`` here; the pipeline and the
context engine read from here. Changes are applied in order and never re-tokenize a document.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.tokens import TokenCounter

Change = tuple[tuple[int, int, int, int] | None, str]


@dataclass
class OpenDocument:
    """One open document with what the prompts need to name it."""

    uri: str
    path: str
    language_id: str
    index: DocumentIndex
    edited_at: float = field(default_factory=time.monotonic)
    #: Lines touched by recent edits, newest last (for cross-file "recently edited" context).
    recent_lines: list[int] = field(default_factory=list)


def uri_to_path(uri: str) -> Path | None:
    """The file-system path of a ``file:`` URI, or None for other schemes."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def display_path(uri: str, root: Path | None) -> str:
    """The path a prompt shows: relative to the workspace root when inside it."""
    path = uri_to_path(uri)
    if path is None:
        return uri
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


class DocumentStore:
    """URI → open document; the single owner of document state in the server."""

    def __init__(self, counter: TokenCounter, position_encoding: str = "utf-16") -> None:
        self.counter = counter
        self.position_encoding = position_encoding
        self.root: Path | None = None
        #: Every workspace folder, ``root`` first (empty: ``root`` alone, as one-shot hosts set).
        self.folders: list[Path] = []
        self._docs: dict[str, OpenDocument] = {}

    @property
    def roots(self) -> list[Path]:
        """The workspace folders, each a root with its own ignore files."""
        if self.folders:
            return list(self.folders)
        return [self.root] if self.root is not None else []

    def open(self, uri: str, language_id: str, text: str, version: int) -> OpenDocument:
        """Index a newly opened document (re-opening replaces it)."""
        index = DocumentIndex(
            text, self.counter, version=version, position_encoding=self.position_encoding
        )
        doc = OpenDocument(uri, display_path(uri, self.root), language_id, index)
        self._docs[uri] = doc
        return doc

    def change(self, uri: str, version: int, changes: list[Change]) -> OpenDocument | None:
        """Apply content changes in order; None when the document is not open."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        for change_range, text in changes:
            doc.index.apply_change(change_range, text, version)
            if change_range is not None:
                doc.recent_lines = [*doc.recent_lines[-15:], change_range[0]]
        doc.edited_at = time.monotonic()
        return doc

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._docs.pop(uri, None)

    def get(self, uri: str) -> OpenDocument | None:
        """The open document at ``uri``, if any."""
        return self._docs.get(uri)

    def __iter__(self) -> Iterator[OpenDocument]:
        return iter(list(self._docs.values()))

    def __len__(self) -> int:
        return len(self._docs)
