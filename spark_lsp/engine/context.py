"""The context stage: which text goes into a prompt, within a token budget and the hard cap.

Order matters as much as content. The provider caches prompt prefixes, and our session can warm
a stable prefix once and chain from it, so a prompt is laid out stable-first: instructions,
snippets from other files, the far part of the current file; then, last and alone in the
volatile message, the lines near the cursor. Typing near the cursor changes only that message.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.prompts import (
    COMPLETION_INSTRUCTIONS,
    SNIPPETS_HEADING,
    Prompt,
    file_heading,
    snippet_heading,
)
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.recount import BackgroundRecount
from spark_lsp.engine.store import DocumentStore, OpenDocument, uri_to_path
from spark_lsp.engine.window import select_window
from spark_lsp.shared.privacy import ExclusionPolicy
from spark_lsp.shared.prompt_format import CURSOR

if TYPE_CHECKING:
    from spark_lsp.engine.sources.project import ProjectContext

#: The model's context window; no prompt plus its output may exceed it, whatever the settings.
MODEL_CONTEXT_TOKENS = 128_000
#: Head-room for message framing and for per-line counts that differ from the joined text's.
CAP_MARGIN_TOKENS = 512
#: Lines above the cursor that stay in the volatile message; the split moves in steps of this
#: many lines so that typing does not move it.
NEAR_LINES = 32
SNIPPET_LINES = 24
#: The near project sources ride in every (chained) request: a few definitions and edits, never
#: a large share of a big window.
NEAR_PROJECT_MAX_TOKENS = 2048
#: What the near sources leave unused goes back to the current-file window, rounded up to this
#: step, so that a definition more or less while typing rarely moves the window's first line.
NEAR_PROJECT_STEP_TOKENS = 256
MAX_SNIPPET_DOCS = 8
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
#: The snippets message, its tokens, and the documents (URIs) it quotes.
_Snippets = tuple[str, int, tuple[str, ...]]


def hard_cap(max_context: int, max_output_tokens: int) -> int:
    """Tokens a prompt may use: 128k (or less, if configured) minus output and margin."""
    return min(MODEL_CONTEXT_TOKENS, max_context) - max_output_tokens - CAP_MARGIN_TOKENS


@dataclass(frozen=True, slots=True)
class ContextOptions:
    """What the context stage reads from the settings on each request."""

    max_tokens: int = MODEL_CONTEXT_TOKENS
    max_output_tokens: int = 128
    cross_file: bool = True
    snippet_share: float = 0.25
    #: Workspace sources (definitions, imports, recent edits, diff, repository map).
    project: bool = True
    #: Tokens of the stable project part (sent once per connection where chaining works).
    project_tokens: int = 8192
    #: Most of the completion budget the near project sources (definitions, members of the
    #: receiver, edits) may take; what they leave goes to the current-file window.
    project_share: float = 0.5


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of lines of another document with its identifiers (for ranking)."""

    first: int
    end: int
    identifiers: frozenset[str]


@dataclass
class _DocChunks:
    version: int
    chunks: list[Chunk] = field(default_factory=list)


class ContextBuilder:
    """Builds prompts from the open documents, the privacy policy and the budgets."""

    def __init__(
        self,
        store: DocumentStore | None = None,
        policy: Callable[[], ExclusionPolicy | None] = lambda: None,
        options: Callable[[], ContextOptions] = ContextOptions,
        project: ProjectContext | None = None,
    ) -> None:
        self.project = project
        self._store = store
        self._policy = policy
        self._options = options
        self._chunks: dict[str, _DocChunks] = {}
        self._snippet_memo: tuple[tuple[object, ...], _Snippets] | None = None
        self._recount = BackgroundRecount()
        self.last_prompt_tokens = 0

    # -- exclusion ----------------------------------------------------------------------------

    def excluded(self, uri: str) -> str | None:
        """Why a document must not be sent to the model, or None."""
        policy = self._policy()
        return policy.reason(uri_to_path(uri)) if policy is not None else None

    # -- completion prompt -------------------------------------------------------------------

    def completion_prompt(
        self, query: CompletionQuery, budget: int, typed_ahead: str = ""
    ) -> Prompt:
        """Stable-first prompt of an inline completion, within ``budget`` and the hard cap.

        ``typed_ahead`` is text taken as already inserted at the cursor (a suggestion about to
        be accepted, for the ready-on-accept prefetch); its tokens come out of the budget.
        """
        options = self._options()
        counter = query.doc.counter
        self._recount.ensure_exact(query.doc)
        cap = hard_cap(options.max_tokens, options.max_output_tokens)
        ahead = counter.count(typed_ahead) if typed_ahead else 0
        instructions = counter.count(COMPLETION_INSTRUCTIONS)
        budget = max(64, min(budget, cap - instructions) - ahead)
        snippets, snippet_tokens, quoted = (
            self._snippets(query, int(budget * options.snippet_share))
            if options.cross_file and self._store is not None
            else ("", 0, ())
        )
        project: tuple[str, ...] = ()
        project_tokens = 0
        nearby, nearby_tokens, reserved = ("", 0, 0)
        if options.project and self.project is not None:
            stable_budget = max(0, min(options.project_tokens, cap - budget))
            project, project_tokens = self.project.stable_parts(query, stable_budget, counter)
            nearby, nearby_tokens, reserved = self._near_project(query, budget, options)
        window_budget = max(64, budget - snippet_tokens - reserved)
        window = select_window(query.doc, query.line, query.character, window_budget)
        far, near, far_first = _split_far_near(
            query.doc, window.first_line, query.line, window.prefix
        )
        heading = file_heading(query.path, query.language_id)
        far_part = _far_message(query, far, far_first)
        stable = tuple(part for part in (*project, snippets, far_part) if part)
        volatile = nearby + heading + near + typed_ahead + CURSOR + window.suffix
        self.last_prompt_tokens = (
            project_tokens
            + nearby_tokens
            + snippet_tokens
            + window.prefix_tokens
            + window.suffix_tokens
        )
        far_tokens = query.doc.tokens_in_lines(far_first, far_first + far.count("\n"))
        return Prompt(
            COMPLETION_INSTRUCTIONS,
            stable,
            volatile,
            tokens=instructions + self.last_prompt_tokens + ahead,
            volatile_tokens=instructions + self.last_prompt_tokens + ahead - far_tokens
            - project_tokens - snippet_tokens,
            sources=(query.uri, *quoted),
        )

    def _near_project(
        self, query: CompletionQuery, budget: int, options: ContextOptions
    ) -> tuple[str, int, int]:
        """The near project sources, their tokens, and what they take from the window.

        They may use up to ``project_share`` of the budget; what they do not use returns to
        the current-file window, in steps (a size that moved the window on every keystroke
        would move the far part's first line with it and break the anchor).
        """
        assert self.project is not None
        cap = min(int(budget * options.project_share), NEAR_PROJECT_MAX_TOKENS)
        nearby, nearby_tokens = self.project.volatile_part(query, cap, counter=query.doc.counter)
        step = NEAR_PROJECT_STEP_TOKENS
        return nearby, nearby_tokens, min(cap, -(-nearby_tokens // step) * step)

    # -- cross-file snippets ------------------------------------------------------------------

    def _snippets(self, query: CompletionQuery, budget: int) -> _Snippets:
        """Ranked snippets of other open documents (the message, its tokens and the documents
        it quotes), memoised while nothing relevant changed."""
        others = self._candidates(query)
        memo_key = (
            query.uri,
            query.line // NEAR_LINES,
            budget,
            tuple((d.uri, d.index.version) for d in others),
        )
        if self._snippet_memo is not None and self._snippet_memo[0] == memo_key:
            return self._snippet_memo[1]
        result = self._rank_and_pack(query, others, budget)
        self._snippet_memo = (memo_key, result)
        return result

    def _candidates(self, query: CompletionQuery) -> list[OpenDocument]:
        assert self._store is not None
        others = [
            doc for doc in self._store if doc.uri != query.uri and self.excluded(doc.uri) is None
        ]
        others.sort(key=lambda d: d.edited_at, reverse=True)
        return others[:MAX_SNIPPET_DOCS]

    def _rank_and_pack(
        self, query: CompletionQuery, others: list[OpenDocument], budget: int
    ) -> _Snippets:
        if budget <= 0 or not others:
            return "", 0, ()
        wanted = _identifiers_near(query.doc, query.line)
        scored: list[tuple[float, int, OpenDocument, Chunk]] = []
        for rank, doc in enumerate(others):
            for chunk in self._doc_chunks(doc):
                overlap = len(wanted & chunk.identifiers)
                if overlap == 0:
                    continue
                score = overlap / math.sqrt(len(chunk.identifiers)) - 0.05 * rank
                score += 0.2 if doc.language_id == query.language_id else 0.0
                score += 0.5 if any(chunk.first <= n < chunk.end for n in doc.recent_lines) else 0
                scored.append((score, -rank, doc, chunk))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return _pack(scored, budget)

    def _doc_chunks(self, doc: OpenDocument) -> list[Chunk]:
        cached = self._chunks.get(doc.uri)
        if cached is not None and cached.version == doc.index.version:
            return cached.chunks
        chunks = [
            Chunk(
                first,
                min(first + SNIPPET_LINES, doc.index.line_count),
                frozenset(IDENTIFIER.findall(_lines(doc.index, first, first + SNIPPET_LINES))),
            )
            for first in range(0, doc.index.line_count, SNIPPET_LINES)
        ]
        self._chunks[doc.uri] = _DocChunks(doc.index.version, chunks)
        return chunks

    def forget(self, uri: str) -> None:
        """Drop cached chunks of a closed document."""
        self._chunks.pop(uri, None)


def _lines(doc: DocumentIndex, first: int, end: int) -> str:
    return doc.text_of_lines(first, min(end, doc.line_count))


def _identifiers_near(doc: DocumentIndex, line: int) -> frozenset[str]:
    return frozenset(IDENTIFIER.findall(_lines(doc, max(0, line - 30), line + 5)))


def _pack(scored: list[tuple[float, int, OpenDocument, Chunk]], budget: int) -> _Snippets:
    """Take the best chunks that fit, each under a neutral heading (path, language, lines)."""
    parts: list[str] = []
    quoted: dict[str, None] = {}
    spent = 0
    for _, _, doc, chunk in scored:
        body = _lines(doc.index, chunk.first, chunk.end)
        text = snippet_heading(doc.path, doc.language_id, chunk.first, chunk.end) + body
        cost = doc.index.tokens_in_lines(chunk.first, chunk.end) + 16
        if spent + cost > budget:
            continue
        parts.append(text)
        quoted[doc.uri] = None
        spent += cost
    if not parts:
        return "", 0, ()
    return SNIPPETS_HEADING + "\n".join(parts), spent, tuple(quoted)


def _split_far_near(
    doc: DocumentIndex, first_line: int, cursor_line: int, prefix: str
) -> tuple[str, str, int]:
    """Split the prefix into (far, near, far's first line) at lines that move in steps.

    Both the split and the far part's first line are multiples of ``NEAR_LINES`` (the far part
    gives up at most that many lines of budget for it), so typing near the cursor leaves the
    far part byte-for-byte the same and a warmed anchor stays valid.
    """
    split_line = (cursor_line - NEAR_LINES) // NEAR_LINES * NEAR_LINES
    far_first = -(-first_line // NEAR_LINES) * NEAR_LINES
    if split_line <= far_first:
        return "", prefix, first_line
    base = doc.offset_at(first_line, 0)
    start, cut = doc.offset_at(far_first, 0) - base, doc.offset_at(split_line, 0) - base
    if not 0 <= start < cut < len(prefix):
        return "", prefix, first_line
    return prefix[start:cut], prefix[cut:], far_first


def _far_message(query: CompletionQuery, far: str, first_line: int) -> str:
    if not far:
        return ""
    return (
        f"File: {query.path} (language: {query.language_id}), from line {first_line + 1}; "
        f"continued in the last message\n{far}"
    )


def stable_key(prompt: Prompt) -> str:
    """Identifies a prompt's stable part (instructions + stable messages) for anchors."""
    digest = hashlib.blake2b(prompt.instructions.encode(), digest_size=16)
    for part in prompt.stable:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()
