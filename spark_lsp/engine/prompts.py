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

