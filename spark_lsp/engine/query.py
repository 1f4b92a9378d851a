"""What a completion is asked for: read by the pipeline and by the context stage alike.

Its own module so that the context stage need not import the pipeline that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

from spark_lsp.engine.documents import DocumentIndex


@dataclass(frozen=True, slots=True)
class CompletionQuery:
    """One request for a suggestion at a position of an open document."""

    uri: str
    path: str
    language_id: str
    doc: DocumentIndex
    line: int
    character: int
    invoked: bool
