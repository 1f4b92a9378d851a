"""Reading a next-edit reply: anchor it to the text that was sent, diff it, filter the edits.

A chat model answers with the window it was shown, rewritten, but also echoes the context
around it, wraps it in a fence, or says ``NO_EDIT``. What comes back is aligned to what was
sent, diffed into minimal line edits, and each edit is kept only if it stays inside the window,
changes more than whitespace and does not just undo the user's last burst; the survivors are
trimmed to the characters that change.
"""

from __future__ import annotations

from dataclasses import dataclass

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edit_history import EditHistory
from spark_lsp.engine.edits import OffsetEdit, clean_reply, reply_edits
from spark_lsp.shared.prompt_format import CURSOR

__all__ = [
    "NO_EDIT",
    "Sent",
    "Span",
    "anchored_edits",
    "drop_reason",
    "last_span",
    "line_start",
    "refine",
]

NO_EDIT = "NO_EDIT"


@dataclass(frozen=True, slots=True)
class Sent:
    """The file text a prompt showed: context, then the window ``[region_start, region_end)``.

    ``doc_start`` is the document offset of the window's first character.
    """

    text: str
    region_start: int
    region_end: int
    doc_start: int


@dataclass(frozen=True, slots=True)
class Span:
    """Text at ``[start, end)`` of the sent text that read ``old_text`` before the last burst."""

    start: int
    end: int
    old_text: str


def line_start(doc: DocumentIndex, line: int) -> int:
    return doc.char_count if line >= doc.line_count else doc.offset_at(line, 0)


# --- reading the reply ---------------------------------------------------------------------------


def anchored_edits(reply: str, sent: Sent, language_id: str = "") -> list[OffsetEdit] | None:
    """Line edits of the sent text (its offsets) that turn it into what the reply says.

    A reply is usually the window alone, but a chat model also fences it or echoes the context
    around it: ``edits.reply_edits`` (the one reader of edit replies) anchors it to the lines
    that were sent, so echoed context is never read as an insertion. None for an explicit
    "no edit", fenced or not; raises ``ModelRequestError`` for a reply with no code at all.
    """
    if [line.strip() for line in clean_reply(reply, language_id) if line.strip()] == [NO_EDIT]:
        return None
    start, end = sent.region_start, sent.region_end
    edits = reply_edits(
        reply.replace(CURSOR, ""),
        sent.text[:start],
        sent.text[start:end],
        sent.text[end:],
        language_id=language_id,
    )
    return [OffsetEdit(start + e.start, start + e.end, e.text) for e in edits]


def drop_reason(
    edit: OffsetEdit, text: str, window: tuple[int, int], last: Span | None
) -> str | None:
    """Why ``edit`` (of ``text``) is not offered, or None to offer it.

    ``outside-window``: it touches text outside ``window`` (context the model was only shown).
    ``reformat-only``: it changes nothing but whitespace.
    ``undo-only``: applied to the last burst's lines, it gives back what they read before it.
    """
    if edit.start < window[0] or edit.end > window[1]:
        return "outside-window"
    old = text[edit.start : edit.end]
    if "".join(old.split()) == "".join(edit.text.split()):
        return "reformat-only"
    if last is not None and last.start <= edit.start and edit.end <= last.end:
        now = text[last.start : last.end]
        undone = now[: edit.start - last.start] + edit.text + now[edit.end - last.start :]
        if undone == last.old_text:
            return "undo-only"
    return None


def refine(edit: OffsetEdit, text: str) -> OffsetEdit | None:
    """The same edit, trimmed to the characters that change (None when nothing does)."""
    old = text[edit.start : edit.end]
    new = edit.text
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    if head == len(old) == len(new):
        return None
    return OffsetEdit(edit.start + head, edit.end - tail, new[head : len(new) - tail])


def last_span(history: EditHistory, doc: DocumentIndex, sent: Sent) -> Span | None:
    """The last burst in sent-text offsets, when it lies inside the window."""
    burst = history.last
    if burst is None or burst.partial:
        return None
    start = line_start(doc, burst.first) - sent.doc_start + sent.region_start
    end = line_start(doc, burst.first + burst.new_count) - sent.doc_start + sent.region_start
    if start < sent.region_start or end > sent.region_end:
        return None
    return Span(start, end, burst.old_text)
