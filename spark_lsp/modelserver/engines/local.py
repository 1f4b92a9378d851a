"""The offline default engine: longest-match continuation over the prompt and the workspace.

With no model configured, spark-lsp still completes code: this engine finds the longest recent
stretch of tokens (up to 16) in the prompt or the workspace that ends like the text before the
cursor, and copies what followed it, one token at a time, backing off to shorter n-grams when a
long one never occurred. It is weak but honest: it says nothing rather than guess, stops at the
end of the block, and declines instruction edits with a message that says how to get a real
model. Deterministic, so tests can state exactly what it answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import threading
from array import array
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from spark_lsp.modelserver.engines.base import (
    Action,
    Engine,
    EngineRequest,
    Fail,
    Plan,
    Text,
)
from spark_lsp.shared.privacy import ExclusionPolicy, redact_secrets
from spark_lsp.shared.prompt_format import CURSOR, TASK_EDIT, TASK_NEXT_EDIT
from spark_lsp.shared.safe_read import read_bytes
from spark_lsp.shared.skipped_dirs import skipped_directory

log = logging.getLogger(__name__)

#: Identifiers, numbers, a newline with the next line's indentation, blank runs, one character.
_TOKEN = re.compile(r"[^\W\d]\w*|\d+|\n[ \t]*|[ \t]+|.", re.DOTALL)
_EXTENDABLE = re.compile(r"[^\W\d]\w*|\d+|\n[ \t]*|[ \t]+")
#: Stands between documents; the tokenizer never produces it, so no match crosses it.
SEP = "\x00<sep>"
#: n-gram orders with a hash-chain index, longest first (back-off order).
ORDERS = (6, 3, 1)
MAX_CONTEXT = 16
MIN_MATCH = 2
MAX_CANDIDATES = 32
MAX_WALK = 256
DEFAULT_LIMIT = 256
SUFFIX_CHECK_TOKENS = 6

UNSUPPORTED_TASK_MESSAGE = (
    "The bundled local model only completes code; it cannot follow edit instructions. "
    "To use edits and quick-fixes, configure a real model: set SPARK_LSP_ENDPOINT "
    "(e.g. wss://api.openai.com/v1/responses) and OPENAI_API_KEY."
)


def tokenize(text: str) -> list[str]:
    """Split text into the engine's tokens; their concatenation is exactly ``text``."""
    return _TOKEN.findall(text)


def _is_newline(token: str) -> bool:
    return token.startswith("\n")


class Corpus:
    """Tokens of several documents with hash-chained n-gram indexes (one per order).

    For order k, ``heads[b]`` is the latest position whose preceding k tokens hash to bucket
    ``b`` and ``prev[p]`` the previous such position: walking a chain visits occurrences most
    recent first, which is the tie-break we want. Appending is safe while another thread reads,
    because a position is linked only after its tokens and its ``prev`` entry exist.
    """

    def __init__(self, head_bits: int) -> None:
        self.tokens: list[str] = []
        self._mask = (1 << head_bits) - 1
        self._heads = {k: array("i", [-1]) * (1 << head_bits) for k in ORDERS}
        self._prev = {k: array("i") for k in ORDERS}

    @classmethod
    def sized_for(cls, token_count: int) -> Corpus:
        """A corpus whose bucket tables suit about ``token_count`` tokens."""
        return cls(max(10, min(21, (2 * token_count).bit_length())))

    def add(self, tokens: list[str]) -> None:
        """Append one document (followed by a separator) and index it."""
        start = len(self.tokens)
        self.tokens.extend(tokens)
        self.tokens.append(SEP)
        for order in ORDERS:
            self._link(order, start, start + len(tokens))

    def _link(self, order: int, start: int, end: int) -> None:
        prev, heads, mask, toks = self._prev[order], self._heads[order], self._mask, self.tokens
        prev.extend([-1] * min(order, end - start))
        count = max(0, end - start - order)
        grams = zip(*(toks[start + i : start + i + count] for i in range(order)), strict=True)
        for position, digest in enumerate(map(hash, grams), start + order):
            bucket = digest & mask
            prev.append(heads[bucket])
            heads[bucket] = position
        prev.append(-1)

    def match_length(self, context: list[str], position: int) -> int:
        """How many tokens before ``position`` equal the end of ``context`` (≤ MAX_CONTEXT)."""
        toks = self.tokens
        limit = min(MAX_CONTEXT, len(context), position)
        length = 0
        while length < limit and toks[position - 1 - length] == context[-1 - length]:
            length += 1
        return length

    def search(self, context: list[str], accept: Callable[[str], bool]) -> tuple[int, int]:
        """The longest (length, position) whose next token passes ``accept``; (0, -1) if none.

        Tries the longest order first and backs off only when it has no candidate at all.
        """
        for order in ORDERS:
            if len(context) >= order:
                found = self._walk(order, context, accept)
                if found[0]:
                    return found
        return 0, -1

    def _walk(
        self, order: int, context: list[str], accept: Callable[[str], bool]
    ) -> tuple[int, int]:
        prev = self._prev[order]
        position = self._heads[order][hash(tuple(context[-order:])) & self._mask]
        best, best_at, accepted, steps = 0, -1, 0, 0
        while position >= 0 and accepted < MAX_CANDIDATES and steps < MAX_WALK:
            steps += 1
            length = self.match_length(context, position)
            if length >= order and accept(self.tokens[position]):
                accepted += 1
                if length > best:
                    best, best_at = length, position
                    if length == MAX_CONTEXT:
                        break
            position = prev[position]
        return best, best_at


@dataclass(frozen=True, slots=True)
class Match:
    """Where the current continuation is being copied from."""

    corpus: Corpus
    position: int
    length: int

    @property
    def token(self) -> str:
        """The token this match proposes next."""
        return self.corpus.tokens[self.position]

    def following(self, count: int) -> list[str]:
        """The proposed token and the ones after it (stops at a document end)."""
        toks = self.corpus.tokens
        out = toks[self.position : self.position + count]
        return out[: out.index(SEP)] if SEP in out else out


def best_match(
    corpora: list[Corpus], context: list[str], accept: Callable[[str], bool]
) -> Match | None:
    """The first corpus with a usable match wins (the prompt before the workspace), else the
    longest short match of any.

    The prompt is the freshest text: the workspace often holds the same file as saved on disk,
    whose copy of the cursor's context always matches longest but continues with whatever
    stood there at the last save (often nothing), so it must only back the prompt off.
    """
    best: Match | None = None
    for corpus in corpora:
        length, position = corpus.search(context, accept)
        if length >= MIN_MATCH:
            return Match(corpus, position, length)
        if length and (best is None or length > best.length):
            best = Match(corpus, position, length)
    return best


@dataclass(frozen=True, slots=True)
class CursorPrompt:
    """The request read as a completion: the text around the cursor and the other context."""

    before: str
    after: str
    others: tuple[str, ...]

    @classmethod
    def parse(cls, request: EngineRequest) -> CursorPrompt | None:
        """Find the last input text holding the cursor marker.

        A plain Responses request ("Continue the code.", the code as input) has no marker:
        the end of its last non-empty input is the cursor. ``None`` when there is no input.
        """
        texts = request.input_texts
        for index in range(len(texts) - 1, -1, -1):
            if CURSOR in texts[index]:
                before, _, after = texts[index].partition(CURSOR)
                others = texts[:index] + texts[index + 1 :]
                return cls(
                    before,
                    after.replace(CURSOR, ""),
                    tuple(t.replace(CURSOR, "") for t in others),
                )
        filled = [index for index, text in enumerate(texts) if text.strip()]
        if not filled:
            return None
        last = filled[-1]
        return cls(texts[last], "", texts[:last] + texts[last + 1 :])

    @property
    def line_before(self) -> str:
        """The cursor line up to the cursor."""
        return self.before.rpartition("\n")[2]


class Completer:
    """One completion: greedy copying from the best match, with the stop rules of a block."""

    def __init__(
        self,
        prompt: CursorPrompt,
        workspace: Corpus | None,
        limit: int,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.prompt = prompt
        self.limit = limit
        #: Set when nobody waits for the answer any more (the client moved on): stop early.
        self.cancelled = cancelled or threading.Event()
        before = tokenize(prompt.before)
        extendable = bool(before) and _EXTENDABLE.fullmatch(before[-1]) is not None
        #: The token the cursor may be inside of; kept out of the corpus so that the text before
        #: the cursor cannot match itself.
        self.partial = before.pop() if extendable else ""
        self.after = tokenize(prompt.after)
        corpus = Corpus.sized_for(len(before) + len(self.after) + sum(map(len, prompt.others)))
        for text in prompt.others:
            corpus.add(tokenize(text))
        corpus.add(self.after)
        corpus.add(before)
        self.corpora = [corpus] if workspace is None else [corpus, workspace]
        self.context = list(before)
        line = prompt.line_before
        self.indent = len(line) - len(line.lstrip(" \t"))
        self.line_has_text = bool(line.strip())
        self.match: Match | None = None

    def run(self) -> list[str]:
        """The completion's pieces (one per token); empty when nothing fits."""
        if _mid_word(self.prompt):
            return []
        out = self._first()
        if out is None:
            return []
        while len(out) < self.limit and not self.cancelled.is_set():
            match = self._next()
            if match is None or self._stops(match):
                return _trim_trailing_blanks(out)
            self.context.append(match.token)
            out.append(match.token)
            self.match = match
        return out  # untrimmed: the extra piece tells the server the limit cut it short

    def _first(self) -> list[str] | None:
        """Complete the token the cursor may be in the middle of (``comp|`` → ``ute``).

        Returns None when nothing fits, else the visible part of that token (maybe empty).
        """
        last = self.partial
        if not last:
            return []
        match = best_match(self.corpora, self.context, lambda token: token.startswith(last))
        needed = 1 if last.strip() else MIN_MATCH
        if match is None or match.length < needed or self._reproduces_suffix(match):
            return None
        if _is_newline(match.token):
            if self._ends_block(match):
                return None
            self.indent = len(match.token) - 1
        self.match = match
        self.context.append(match.token)
        rest = match.token[len(last) :]
        return [rest] if rest else []

    def _next(self) -> Match | None:
        """Continue the current occurrence if it is still a full-length match, else search."""
        current = self.match
        if current is not None:
            following = Match(current.corpus, current.position + 1, current.length + 1)
            if following.token != SEP and following.length >= MAX_CONTEXT:
                return Match(following.corpus, following.position, MAX_CONTEXT)
        match = best_match(self.corpora, self.context, lambda token: token != SEP)
        return match if match is not None and match.length >= MIN_MATCH else None

    def _stops(self, match: Match) -> bool:
        if self._reproduces_suffix(match):
            return True
        return _is_newline(match.token) and self._ends_block(match)

    def _ends_block(self, match: Match) -> bool:
        """A blank line next, or a line indented less than the block the cursor is in."""
        upcoming = match.following(2)
        if len(upcoming) < 2 or _is_newline(upcoming[1]):
            return True
        indent = len(match.token) - 1
        if self.line_has_text:
            return indent <= self.indent
        return indent < self.indent

    def _reproduces_suffix(self, match: Match) -> bool:
        """True when copying on would just retype the text after the cursor."""
        wanted = self.after[:SUFFIX_CHECK_TOKENS]
        if not any(token.strip() for token in wanted):
            return False
        upcoming = "".join(match.following(len(wanted)))
        return upcoming.startswith("".join(wanted))


def _mid_word(prompt: CursorPrompt) -> bool:
    """Inside an identifier, any completion would split it: say nothing."""
    return bool(prompt.after[:1].isalnum() or prompt.after[:1] == "_") and bool(
        prompt.before[-1:].isalnum() or prompt.before[-1:] == "_"
    )


def _trim_trailing_blanks(out: list[str]) -> list[str]:
    while out and not out[-1].strip():
        out.pop()
    return out


# ---------------------------------------------------------------------------------------------
# Workspace indexing
# ---------------------------------------------------------------------------------------------

MAX_FILE_BYTES = 512 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024


def workspace_files(root: Path, policy: ExclusionPolicy | None = None) -> Iterator[Path]:
    """Files under ``root`` the privacy policy lets the model see, in a stable order.

    The language server's policy, applied here too: what is gitignored, ``.sparkignore``d,
    excluded by the settings or looks like a secrets file (``.env``, ``id_ed25519``,
    ``credentials.json``) is never read, so its text can never come back as a suggestion.
    Never leaves ``root`` (symlinks resolved); a link loop is skipped with a log line.
    """
    base = root.resolve()
    policy = policy if policy is not None else ExclusionPolicy(base)
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not skipped_directory(d)
            and policy.reason(here / d, is_dir=True) is None
        )
        for name in sorted(filenames):
            try:
                path = (here / name).resolve(strict=True)
            except (OSError, RuntimeError) as exc:  # a link loop or a dangling link
                log.info("workspace index: skipped %s (%s)", here / name, exc)
                continue
            if path.is_relative_to(base) and path.is_file() and policy.reason(here / name) is None:
                yield path


def read_text_file(path: Path, inside: Path | None = None) -> str | None:
    """The file's text if it is a small regular file, UTF-8 and not binary; None otherwise.

    Read through ``safe_read`` (a FIFO or device swapped in is refused, never waited on).
    """
    try:
        data = read_bytes(path, max_bytes=MAX_FILE_BYTES, inside=inside)
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class WorkspaceIndex:
    """The workspace folders' text files as one corpus, built once in a background thread.

    Queries may run while it is still being built: they see the files indexed so far.
    """

    def __init__(
        self,
        roots: Path | Sequence[Path],
        exclude: Sequence[str] = (),
        max_total_bytes: int = MAX_TOTAL_BYTES,
    ) -> None:
        self.roots = [roots] if isinstance(roots, Path) else list(roots)
        self.policy = ExclusionPolicy(self.roots, exclude)
        self.corpus = Corpus(21)
        self.ready = threading.Event()
        self.files: list[Path] = []
        self._max_total = max_total_bytes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin indexing in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.build, name="spark-index", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ask the indexer to stop at the next file."""
        self._stop.set()

    def build(self) -> None:
        """Index files until done, stopped, or the byte budget is spent."""
        total = 0
        try:
            for root in self.roots:  # one byte budget for all folders, the first one first
                base = root.resolve()
                for path in workspace_files(base, self.policy):
                    text = read_text_file(path, base)
                    if self._stop.is_set() or (text and total + len(text) > self._max_total):
                        return
                    if text:
                        total += len(text)
                        self.corpus.add(list(map(sys.intern, tokenize(redact_secrets(text)))))
                        self.files.append(path)
        except OSError:
            pass
        finally:
            self.ready.set()


class LocalEngine(Engine):
    """The default engine: completes code from the prompt and (optionally) the workspace."""

    def __init__(
        self, workspace: Path | Sequence[Path] | None = None, exclude: Sequence[str] = ()
    ) -> None:
        folders = [] if workspace is None else workspace
        self.index = WorkspaceIndex(folders, exclude) if folders else None

    def start(self) -> None:
        """Start indexing the workspace in the background."""
        if self.index is not None:
            self.index.start()

    def close(self) -> None:
        """Stop indexing."""
        if self.index is not None:
            self.index.stop()

    def plan(self, request: EngineRequest) -> Plan:
        """Decline edits; otherwise compute the completion and stream it token by token."""
        task = (request.instructions or "").partition("\n")[0].strip()
        prompt = CursorPrompt.parse(request)
        if task in (TASK_EDIT, TASK_NEXT_EDIT) or prompt is None:
            return Fail("unsupported_task", UNSUPPORTED_TASK_MESSAGE, status=400)
        return self._stream(prompt, request.max_output_tokens)

    def complete(
        self,
        prompt: CursorPrompt,
        max_output_tokens: int | None = None,
        cancelled: threading.Event | None = None,
    ) -> list[str]:
        """The completion's pieces; one more than ``max_output_tokens`` signals truncation.

        Stops at its next token once ``cancelled`` is set (what it has is then thrown away).
        """
        limit = (max_output_tokens or DEFAULT_LIMIT) + 1
        workspace = self.index.corpus if self.index is not None else None
        return Completer(prompt, workspace, limit, cancelled).run()

    async def _stream(
        self, prompt: CursorPrompt, max_output_tokens: int | None
    ) -> AsyncGenerator[Action, None]:
        """Compute off the event loop (big prompts take a while), then send at full speed.

        A cancelled request (superseded by the editor's next key, or its client gone) stops
        the worker thread too: run to its cap, it would take the CPU from the next request.
        """
        cancelled = threading.Event()
        try:
            pieces = await asyncio.to_thread(self.complete, prompt, max_output_tokens, cancelled)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        for piece in pieces:
            yield Text(piece)
