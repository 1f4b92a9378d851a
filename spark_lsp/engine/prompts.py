"""Prompt text for each task, ordered stable-first so the provider's prefix cache hits.

A prompt is instructions (never change), then stable parts (project snippets, the file's
header), then the volatile part (the window around the cursor). Splitting them here is what lets
the context engine warm the stable part once and chain the volatile part from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from spark_lsp.shared.prompt_format import CURSOR, TASK_COMPLETE, TASK_EDIT

COMPLETION_INSTRUCTIONS = "\n".join(
    [
        TASK_COMPLETE,
        "You are a code completion engine inside an editor.",
        f"The last user message is the file being edited, with the marker {CURSOR} where new "
        "text is inserted; earlier messages are context from other files of the project.",
        "Reply with only the text to insert at the marker: no code fences, no explanations, "
        "no text that already stands before or after the marker.",
        "Finish the current statement, or the current block when the line is empty. Match the "
        "file's indentation and style.",
    ]
)

EDIT_INSTRUCTIONS = "\n".join(
    [
        TASK_EDIT,
        "You are a precise code editor inside an editor.",
        "The last user message gives a task and a region of a file between <region> and "
        "</region> markers, with surrounding lines for context.",
        "Reply with only the new text of the region: no code fences, no explanations. Keep "
        "everything the task does not ask to change exactly as it is, including indentation.",
    ]
)


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt split by volatility: only ``volatile`` changes from keystroke to keystroke."""

    instructions: str
    stable: tuple[str, ...]
    volatile: str
    #: Tokens of the whole request (instructions and every message), and of what a request
    #: chained from the stable part sends (instructions and the volatile message): counted as
    #: the prompt is built, for the statistics of what each call sends.
    tokens: int = 0
    volatile_tokens: int = 0
    #: The documents (URIs) whose text the prompt quotes: what the privacy boundary checks
    #: against the exclusion policy before the prompt is sent.
    sources: tuple[str, ...] = ()

    @property
    def input_texts(self) -> tuple[str, ...]:
        """All input messages, stable ones first."""
        return (*self.stable, self.volatile)


def file_heading(path: str, language_id: str) -> str:
    """The line that names the file being edited (helps the model pick the language)."""
    return f"File: {path} (language: {language_id})\n"


#: Opens the message of snippets from other files.
SNIPPETS_HEADING = "Context from other files of the project (not the file being edited):\n"


def snippet_heading(path: str, language_id: str, first: int, end: int) -> str:
    """The line above a snippet of another file: its path, language and lines (1-based).

    Neutral framing, not a comment: the current file's comment marker is wrong for another
    language, and HTML, CSS, JSON or Markdown have no line comment at all.
    """
    return section_heading(path, language_id, f"lines {first + 1}-{end}")


def section_heading(path: str, language_id: str, detail: str = "") -> str:
    """The neutral line above any text quoted from another file (snippets, signatures, diffs)."""
    extra = f", {detail}" if detail else ""
    return f"--- {path} (language: {language_id}{extra}) ---\n"



#: The longest piece of the cursor line an accept message quotes, before and after the cursor.
ACCEPTED_LINE_BEFORE = 80
ACCEPTED_LINE_AFTER = 40


def accepted_message(line_prefix: str, line_suffix: str, inserted: str | None = None) -> str:
    """The message a prefetch chained from a shown suggestion's response sends: the reply was
    accepted, and where the cursor is now (its line, with the marker). ``inserted`` is what
    went in when it was not the whole reply (the filters cut it).

    A few hundred bytes instead of the whole prompt again: the response it chains from already
    holds the file, the context and the reply.
    """
    what = "Your reply was accepted: it is in the file now."
    if inserted is not None:
        what = f"Only this part of your reply was accepted into the file:\n{inserted}\n"
    head = line_prefix[-ACCEPTED_LINE_BEFORE:]
    tail = line_suffix[:ACCEPTED_LINE_AFTER]
    return f"{what} The cursor's line now:\n{head}{CURSOR}{tail}"
