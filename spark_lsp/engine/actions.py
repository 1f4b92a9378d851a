"""Code actions without LSP types: what to offer (free) and how to compute an edit (model).

Editors ask for code actions on every cursor move, so listing is pure string work on the open
document and never calls the model. Only resolving an action runs the model: it asks for the new
text of a small region, then diffs it into minimal edits. An edit is only ever computed for, and
returned with, the document version it was listed for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spark_lsp.engine.boundary import quoting
from spark_lsp.engine.context import MODEL_CONTEXT_TOKENS, hard_cap
from spark_lsp.engine.custom_actions import CustomAction, custom_task
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edits import OffsetEdit, reply_edits
from spark_lsp.engine.messages import (
    SYNTAX_SOURCE,
    ActionKind,
    ActionSpec,
    DiagnosticInfo,
    OfferedAction,
    Selection,
    StaleEdit,
)
from spark_lsp.engine.prompts import EDIT_INSTRUCTIONS, Prompt, file_heading
from spark_lsp.errors import ConfigError, ModelUnavailable
from spark_lsp.model import CreateRequest
from spark_lsp.shared.privacy import holds_secret

if TYPE_CHECKING:
    from spark_lsp.engine.breaker import ModelCalls

REGEX_HINT = re.compile(r"\b(regex|regexp|regular expression|pattern|matches?)\b", re.IGNORECASE)
COMMENT_OR_STRING = re.compile(r"^\s*(#|//|/\*|\*|--|;)|[\"'`]")
WORD = re.compile(r"\w+")
MAX_SYNTAX_CHECK_CHARS = 400_000
TASKS: dict[str, str] = {
    "fix": "Fix this problem{source}: {message}",
    "syntax": "Fix this syntax error: {message}",
    "edit": "Apply this instruction: {instruction}",
    "docstring": "Add a docstring or comments that explain this code; change nothing else.",
    "simplify": "Simplify this code without changing what it does.",
    "regex": "Write the regular expression this line describes (or fix the one it holds), "
    "as a string literal in the file's language; keep the rest of the line.",
    "custom": "{instruction}",
}
#: A diagnostic message or an instruction longer than this is cut (with a note).
TASK_TOKENS = 2048
#: A custom action's whole task (template, diagnostic and selection filled in) at most.
CUSTOM_TASK_TOKENS = 3 * TASK_TOKENS
#: The most an edit may write back; the prompt's cap leaves room for it.
MAX_EDIT_OUTPUT_TOKENS = 4096


def _short(message: str, limit: int = 60) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "problem"
    return first if len(first) <= limit else first[: limit - 1] + "…"


def list_actions(
    doc: DocumentIndex,
    uri: str,
    selection: tuple[int, int, int, int],
    diagnostics: list[DiagnosticInfo],
    syntax: DiagnosticInfo | None = None,
) -> list[OfferedAction]:
    """The actions to offer at ``selection``: cheap, deterministic, no model call.

    ``syntax`` is the document's own syntax error (see ``syntax_error``), offered as a fix when
    no diagnostic of the editor's already covers its line.
    """
    offered = [_fix(doc.version, uri, d, index) for index, d in enumerate(diagnostics)]
    if syntax is not None and not any(d.start_line == syntax.start_line for d in diagnostics):
        whole_lines = DiagnosticInfo(syntax.start_line, 0, syntax.end_line, 0, syntax.message)
        offered.append(_fix(doc.version, uri, whole_lines, None, kind="syntax"))
    offered += _selection_actions(doc, uri, selection)
    return offered


def _fix(
    version: int, uri: str, d: DiagnosticInfo, index: int | None, kind: ActionKind | None = None
) -> OfferedAction:
    """The quick-fix of one diagnostic (ours are syntax fixes, which take the lines around)."""
    kind = kind or ("syntax" if d.source == SYNTAX_SOURCE else "fix")
    title = "Spark: Fix syntax: " if index is None else "Spark: Fix: "
    spec = ActionSpec(
        kind,
        uri,
        version,
        d.start_line,
        d.start_character,
        d.end_line,
        d.end_character,
        message=d.message,
        source=d.source,
    )
    return OfferedAction(title + _short(d.message), "quickfix", spec, index)


def custom_offers(
    doc: DocumentIndex,
    uri: str,
    language_id: str,
    selection: tuple[int, int, int, int],
    diagnostics: list[DiagnosticInfo],
    custom: Sequence[CustomAction],
) -> list[OfferedAction]:
    """The user's own actions (``spark.actions.custom``) that apply here, listed like the
    built-in ones: no model call; each carries its key and the diagnostic, not its template
    (looked up and filled in when it is resolved)."""
    has_selection = is_real_selection(doc, selection)
    diagnostic = diagnostics[0].message if diagnostics else ""
    return [
        OfferedAction(
            f"Spark: {action.title}",
            action.kind,
            ActionSpec(
                "custom", uri, doc.version, *selection, message=diagnostic, custom=action.key
            ),
        )
        for action in custom
        if action.offered(language_id, has_selection)
    ]


def _selection_actions(
    doc: DocumentIndex, uri: str, selection: tuple[int, int, int, int]
) -> list[OfferedAction]:
    start_line = selection[0]
    version = doc.version
    if is_real_selection(doc, selection):
        titles = [
            ("edit", "Spark: Edit selection…"),
            ("docstring", "Spark: Add docstring/comments"),
            ("simplify", "Spark: Simplify"),
        ]
        return [
            OfferedAction(title, "refactor.rewrite", ActionSpec(kind, uri, version, *selection))  # type: ignore[arg-type]
            for kind, title in titles
        ]
    if start_line < doc.line_count and looks_like_regex_request(doc.line(start_line)):
        spec = ActionSpec("regex", uri, version, start_line, 0, start_line, 0)
        return [OfferedAction("Spark: Write regex", "refactor.rewrite", spec)]
    return []


def is_real_selection(doc: DocumentIndex, selection: Selection) -> bool:
    """Whether the range is something the user selected: wider than the word under it.

    With nothing selected, Eglot sends the symbol at point as the range, VS Code and Neovim
    an empty one: neither should bring the selection actions to every line.
    """
    start_line, start_char, end_line, end_char = selection
    if (start_line, start_char) == (end_line, end_char):
        return False
    if start_line != end_line or start_line >= doc.line_count:
        return True
    start, end = doc.to_column(start_line, start_char), doc.to_column(end_line, end_char)
    return not any(
        word.start() <= start and end <= word.end() for word in WORD.finditer(doc.line(start_line))
    )


def looks_like_regex_request(line: str) -> bool:
    """A comment or string that talks about (or holds) a regular expression."""
    return bool(COMMENT_OR_STRING.search(line)) and bool(REGEX_HINT.search(line))


def syntax_error(doc: DocumentIndex, language_id: str) -> DiagnosticInfo | None:
    """The first syntax error of a Python document (None for other languages).

    Parses the whole text: callers remember the answer per document version.
    """
    if language_id != "python":
        return None
    return _python_syntax_error(doc.text)


def _python_syntax_error(text: str) -> DiagnosticInfo | None:
    if len(text) > MAX_SYNTAX_CHECK_CHARS:
        return None
    import ast  # loaded on first use, not at start-up

    try:
        ast.parse(text)
    except SyntaxError as exc:
        line = max(0, (exc.lineno or 1) - 1)
        return DiagnosticInfo(line, 0, line, 0, exc.msg or "invalid syntax", "python")
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


# --- computing an edit ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Region:
    """Whole lines ``[first, end)`` of a document, and where they start."""

    first: int
    end: int
    start_offset: int
    text: str


def region_for(doc: DocumentIndex, spec: ActionSpec) -> Region:
    """The lines an action rewrites: the range's lines, whole (a syntax fix also the next)."""
    last_line = max(0, doc.line_count - 1)
    first = min(spec.start_line, last_line)
    last = min(max(spec.end_line, first), last_line)
    if spec.end_line > spec.start_line and spec.end_character == 0:
        last = max(first, last - 1)  # a selection ending at column 0 does not take that line
    if spec.kind == "syntax":
        first, last = max(0, first - 1), min(last_line, last + 1)
    start = doc.offset_at(first, 0)
    return Region(first, last + 1, start, doc.text_of_lines(first, last + 1))


def _context_lines(doc: DocumentIndex, region: Region, budget: int) -> tuple[str, str]:
    """Whole lines above and below the region within ``budget`` tokens, half each (what one
    side cannot use goes to the other), found with the prefix sums in O(log n)."""
    head = doc.tokens_before(region.first)
    tail = doc.total_tokens - doc.tokens_before(region.end)
    above_budget = max(budget // 2, budget - tail)
    below_budget = budget - min(head, above_budget)
    above = _first_line_after(doc, head - above_budget) if head > above_budget else 0
    below = min(doc.line_count, doc.lines_within(doc.tokens_before(region.end) + below_budget))
    above, below = min(above, region.first), max(below, region.end)
    return doc.text_of_lines(above, region.first), doc.text_of_lines(region.end, below)


def _first_line_after(doc: DocumentIndex, tokens: int) -> int:
    """The first line ``k`` with ``tokens_before(k) >= tokens``."""
    return doc.lines_within(tokens - 1) + 1


def edit_prompt(
    doc: DocumentIndex,
    path: str,
    language_id: str,
    spec: ActionSpec,
    region: Region,
    budget: int,
    reasoning_tokens: int = 0,
) -> Prompt:
    """The edit prompt: the task, surrounding lines, and the region to rewrite.

    Every part counts against the model's cap: the task (a diagnostic message or the user's
    instruction, either of which can be megabytes) is truncated with a note, the region must
    fit, and the surrounding lines get what is left of ``budget``. The output side reserves the
    largest edit reply plus ``reasoning_tokens``, since reasoning is billed to the same budget.
    """
    counter = doc.counter

    def bound(text: str) -> str:
        return _truncated(text, TASK_TOKENS, counter.count)

    if spec.kind == "custom":  # the template (in ``instruction``), filled in one pass
        filled = custom_task(spec.instruction, language_id, spec.message, region.text, bound)
        task = _truncated(filled, CUSTOM_TASK_TOKENS, counter.count)
    else:
        task = TASKS[spec.kind].format(
            message=bound(spec.message),
            instruction=bound(spec.instruction),
            source=f" reported by {spec.source[:200]}" if spec.source else "",
        )
    if holds_secret(region.text):  # redacted, the reply would write the redaction into the file
        raise ConfigError(
            "the code to edit contains what looks like a secret (a key, token or password); "
            "it is not sent to the model"
        )
    heading = file_heading(path, language_id)
    region_tokens = doc.tokens_before(region.end) - doc.tokens_before(region.first)
    framing = (f"Task: {task}\n\n", "<region>\n", "</region>\n")
    fixed = sum(map(counter.count, (EDIT_INSTRUCTIONS, heading, *framing))) + region_tokens
    room = hard_cap(MODEL_CONTEXT_TOKENS, MAX_EDIT_OUTPUT_TOKENS + reasoning_tokens) - fixed
    if room < 0:
        raise ConfigError(_too_large(region_tokens, room + region_tokens))
    before, after = _context_lines(doc, region, min(budget, room))
    volatile = heading + framing[0] + before + framing[1] + region.text + framing[2] + after
    return Prompt(EDIT_INSTRUCTIONS, (), volatile, sources=(spec.uri,))


def _too_large(region_tokens: int, limit: int) -> str:
    """Why an edit prompt does not fit; the limit is for the region, never shown below 1."""
    if limit < 1:
        return "the action's task and file name alone fill the model's context; shorten them"
    return (
        f"the code to edit is too large for the model ({region_tokens} tokens; the limit is "
        f"about {limit}); select less"
    )


def _truncated(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """``text`` within ``max_tokens``, with a note saying it was cut (counted, not guessed).

    Every token is at least one character, so text no longer than ``max_tokens`` fits
    uncounted, and a cut to four characters per token starts the search near the answer.
    """
    if len(text) <= max_tokens:
        return text
    kept = text[: max_tokens * 4]
    while count(kept) > max_tokens:
        kept = kept[: len(kept) * 3 // 4]
    if len(kept) == len(text):
        return text
    return f"{kept} [... truncated: {len(text) - len(kept)} more characters]"


#: Lines above and below a region that a reply's echo is matched against.
ANCHOR_LINES = 200


@dataclass(frozen=True, slots=True)
class ComputedEdit:
    """Edits as absolute offsets into the document at ``version``."""

    version: int
    edits: list[OffsetEdit]


class ActionEngine:
    """Runs the model for a resolved action and returns minimal edits."""

    def __init__(
        self,
        session: Callable[[], ModelCalls | None],
        model: Callable[[], str],
        budget: Callable[[], int],
        *,
        reasoning: Callable[[], tuple[str | None, int]] = lambda: (None, 0),
    ) -> None:
        self._session = session
        self._model = model
        self._budget = budget
        self._reasoning = reasoning

    async def compute(
        self, spec: ActionSpec, doc: DocumentIndex, path: str, language_id: str
    ) -> ComputedEdit:
        """Compute the edit for ``spec`` against ``doc``; refuse if the document moved on."""
        if doc.version != spec.version:
            raise StaleEdit("the document changed since this action was offered; run it again")
        region = region_for(doc, spec)
        effort, allowance = self._reasoning()
        prompt = edit_prompt(doc, path, language_id, spec, region, self._budget(), allowance)
        reply = await self._ask(prompt, region, effort, allowance)
        if doc.version != spec.version:
            raise StaleEdit("the document changed while the edit was computed; nothing applied")
        before = doc.text_of_lines(max(0, region.first - ANCHOR_LINES), region.first)
        after = doc.text_of_lines(region.end, min(doc.line_count, region.end + ANCHOR_LINES))
        edits = [
            OffsetEdit(region.start_offset + e.start, region.start_offset + e.end, e.text)
            for e in reply_edits(
                reply,
                before,
                region.text,
                after,
                language_id=language_id,
                keep_unmentioned=spec.kind == "syntax",
            )
        ]
        return ComputedEdit(spec.version, edits)

    async def _ask(self, prompt: Prompt, region: Region, effort: str | None, allowance: int) -> str:
        session = self._session()
        if session is None:
            raise ModelUnavailable("the model is not connected yet")
        request = CreateRequest(
            input_texts=prompt.input_texts,
            model=self._model(),
            instructions=prompt.instructions,
            max_output_tokens=min(MAX_EDIT_OUTPUT_TOKENS, 64 + 2 * max(16, len(region.text) // 3))
            + allowance,
            reasoning_effort=effort,
        )
        # One pick, one model call: a dropped link is reported, not resent (the user can pick
        # again; a resend doubled the calls of every pick against a dropping endpoint).
        with quoting(prompt.sources):
            return await session.complete(request, resend=False)
