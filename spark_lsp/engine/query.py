"""What a completion is asked for: read by the pipeline and by the context stage alike.

Its own module so that the context stage need not import the pipeline that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    #: The document's version when asked: a request whose document has moved on since is
    #: stale (its position points into older text).
    version: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", self.doc.version)

    @property
    def stale(self) -> bool:
        """Whether the document changed since this query was made."""
        return self.doc.version != self.version
