"""Alternatives on explicit request: more suggestions, asked side by side, without repeats.

When the user presses the trigger key they are asking what the model has to offer, so several
different suggestions are worth the extra calls; while typing they are not (one call each).
A model asked the same prompt twice mostly answers the same, and a temperature is not accepted
by every model, so each extra call carries a short note asking for a different take. Whatever
comes back goes through the same filters as the main suggestion, and duplicates are dropped
after filtering (two raw answers often clean up to the same text).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from spark_lsp.engine.debounce import related
from spark_lsp.errors import SparkError, Superseded

if TYPE_CHECKING:
    from spark_lsp.engine.pipeline import CompletionPipeline
    from spark_lsp.engine.query import CompletionQuery

log = logging.getLogger(__name__)

#: What each extra call is asked to vary, in order (the main suggestion is the plain one).
ANGLES = (
    "another plausible way to continue than the most likely one",
    "a different extent: shorter or longer than the most likely continuation",
    "a different approach or different names than the most likely continuation",
    "the continuation a careful reviewer would prefer",
)


def alternative_note(number: int) -> str:
    """The line that opens the prompt's last message for suggestion ``number`` (2, 3, …)."""
    angle = ANGLES[(number - 2) % len(ANGLES)]
    return (
        f"[The editor offers several suggestions here; this is suggestion {number}: write "
        f"{angle}. Reply as always, with only the text to insert.]\n"
    )


async def more_suggestions(
    pipeline: CompletionPipeline, query: CompletionQuery, count: int
) -> list[str | None]:
    """``count`` extra suggestions for ``query``, asked in parallel (each on a lane of its own,
    or a connection of its own where the server has no lanes). A newer explicit request for
    the same document supersedes these, and so does an edit of it (a client that does not
    cancel the request would let them run to their end for nothing); a failed one is just
    missing (the main one reports)."""

    async def one(number: int) -> str | None:
        ticket = pipeline.supersession.begin(related(query.uri, f"alternative {number}"))
        try:
            return await pipeline.variant(query, alternative_note(number), ticket)
        except Superseded:
            return None
        except SparkError as exc:
            log.info("alternative suggestion %d failed: %s", number, exc)
            return None
        finally:
            ticket.done()

    return list(await asyncio.gather(*(one(n) for n in range(2, count + 2))))


def distinct(texts: Iterable[str | None]) -> list[str]:
    """The texts in order without empty ones and repeats (trailing blanks do not count)."""
    seen: set[str] = set()
    kept: list[str] = []
    for text in texts:
        if not text or not text.strip():
            continue
        key = text.rstrip()
        if key in seen:
            continue
        seen.add(key)
        kept.append(text)
    return kept
