"""Members of the receiver before the cursor: what ``core.``, ``cmd.`` or ``self.`` can reach.

At ``return core.`` the name about to be typed is not near the cursor yet: it is exactly what
the user is about to type, so a lookup of near names cannot find it. What *is* there is the
receiver. It resolves, as far as the index can tell, to a module (an import binding: ``import *
as core``, ``import cobra``, ``from . import utils``) or to a type (``self``/``this`` → the
enclosing class and its bases; a parameter annotation ``cmd *cobra.Command`` or ``ctx:
Context``; an assignment ``mux := NewRouter()`` or ``c = Client(...)``), one attribute hop at a
time (``self.console.`` → the type of ``console``). The members found are ranked by the words
the line and the lines above use, so ``_ZodMiniType<core.`` on a line about ``NaN`` lists
``$ZodNaN`` first.

Cost per request: the cursor line and at most :data:`SCAN_LINES` lines above it, plus the
outlines of the files the receiver resolves to; nothing proportional to the current file or the
workspace.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.prompts import section_heading
from spark_lsp.engine.sources.index import IndexedFile, WorkspaceIndex
from spark_lsp.engine.sources.render import Counter
from spark_lsp.engine.sources.resolve import ImportResolver
from spark_lsp.engine.symbols import FileOutline, Symbol

#: Lines above the cursor searched for what binds the receiver (a parameter, an assignment):
#: back to the start of the enclosing definition, at most this many.
SCAN_LINES = 400
#: Lines above the cursor whose words rank the members.
RANK_LINES = 8
#: Lines above the cursor searched for members already reached through the same receiver,
#: and what that adds to a member's score (a word shared by only one member adds 1).
USED_LINES = 120
#: ... and below it (the suffix the model sees too).
USED_LINES_BELOW = 40
USED_BONUS = 0.3
#: Files one receiver may resolve to (a Go package, a module and what it re-exports).
MAX_TARGETS = 24
#: A member's line in the list (its name, kind and the start of its parameters or type).
MAX_MEMBER_CHARS = 100
SELF_WORDS = frozenset({"self", "this", "cls"})
_RECEIVER = re.compile(r"([A-Za-z_$][\w$]*)((?:\??\.[A-Za-z_$][\w$]*)*)\??\.([A-Za-z_$][\w$]*)?$")
_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_CLASS_BASES = re.compile(r"\(([^)]*)\)|\b(?:extends|implements)\s+([^{]+)")
_RETURNS = re.compile(r"(?:->|\)\s*:|\)\s+\*?)\s*\*?([A-Za-z_$][\w$.]*)\s*[:{]?\s*$")
_ANNOTATED = re.compile(r"^(?:readonly\s+)?[\w$]+[?!]?\s*:\s*\*?([A-Za-z_$][\w$.]*)")
_GO_FIELD = re.compile(r"^[\w$]+\s+\*?(?:\[\])?([A-Za-z_][\w.]*)")


@dataclass(frozen=True, slots=True)
class Receiver:
    """``a.b.`` before the cursor: the head name, the attributes after it, what is typed."""

    head: str
    path: tuple[str, ...]
    typed: str


@dataclass(frozen=True, slots=True)
class Target:
    """Where members come from: a module (``container`` empty) or a class/type in a file."""

    file: IndexedFile
    container: str


def receiver_at(prefix: str) -> Receiver | None:
    """The member access the line ends with (``core.``, ``self.console.pri``), or None."""
    tail = prefix[-200:]
    found = _RECEIVER.search(tail)
    if found is None:
        return None
    path = tuple(p for p in re.split(r"\??\.", found.group(2)) if p)
    return Receiver(found.group(1), path, found.group(3) or "")


@dataclass
class ReceiverResolver:
    """Resolves a receiver to targets through the current file, the index and the imports."""

    index: WorkspaceIndex
    imports: ImportResolver
    current: IndexedFile
    doc: DocumentIndex
    line: int

    def targets(self, receiver: Receiver) -> list[Target]:
        found = self.head(receiver.head)
        for attribute in receiver.path:
            found = self.step(found, attribute)
        return found[:MAX_TARGETS]

    # -- the head -----------------------------------------------------------------------------

    def head(self, name: str) -> list[Target]:
        if name in SELF_WORDS:
            return self.enclosing_class()
        bound = self.imported(name)
        if bound:
            return bound
        typed = self.local_type(name)
        if typed:
            return self.types(typed)
        return [t for t in self.types(name) if self.has_members(t)]

    def enclosing_class(self) -> list[Target]:
        """``self``/``this``: the class around the cursor, then the classes it extends."""
        outline = self.current.outline
        before = [s for s in outline.symbols if s.line <= self.line]
        if not before:
            return []
        last = max(before, key=lambda s: s.line)
        name = last.container or (last.name if last.kind == "class" else "")
        if not name:
            return []
        found = [Target(self.current, name)]
        header = next((s for s in outline.symbols if s.name == name and not s.container), None)
        for base in _bases(header.signature if header else ""):
            found += self.types(base)
        return found

    def imported(self, name: str) -> list[Target]:
        """An import binding: the module's files, or the imported class in them."""
        for local, spec, member in self.current.outline.bindings:
            if local != name:
                continue
            language_id, importer = self.current.language_id, self.current.relative
            if member and member != "default":
                joined = spec + member if spec.endswith(".") else f"{spec}.{member}"
                if language_id == "python":
                    modules = self.imports.files(joined, importer, language_id)
                    if modules:
                        return self.modules(modules)
                files = set(self.imports.files(spec, importer, language_id))
                return [t for t in self.types(member) if t.file.relative in files]
            return self.modules(self.imports.files(spec, importer, language_id))
        return []

    def modules(self, relatives: Iterable[str]) -> list[Target]:
        """Module targets, each followed by the modules it re-exports (one level)."""
        found: list[Target] = []
        for indexed in self.index.outlines(list(relatives)):
            found.append(Target(indexed, ""))
            for spec in indexed.outline.reexports:
                again = self.imports.files(spec, indexed.relative, indexed.language_id)
                found += [Target(f, "") for f in self.index.outlines(again)]
        return found

    def local_type(self, name: str) -> str:
        """The type a parameter annotation or an assignment above the cursor gives ``name``."""
        word = re.escape(name)
        annotation = re.compile(rf"(?<![\w$.]){word}\s*[?!]?:\s*\*?([A-Za-z_$][\w$.]*)")
        go_parameter = re.compile(rf"[(,]\s*{word}\s+\*?(?:\[\])?([A-Za-z_][\w.]*)")
        go_variable = re.compile(rf"^\s*var\s+{word}\s+\*?([A-Za-z_][\w.]*)")
        assigned = re.compile(
            rf"(?<![\w$.]){word}\s*(?::=|=(?!=))\s*(?:new\s+|&|await\s+)?([A-Za-z_$][\w$.]*)"
        )
        starts = [s.line for s in self.current.outline.symbols if s.line <= self.line]
        first = max(max(starts, default=0), self.line - SCAN_LINES, 0)
        for number in range(min(self.line, self.doc.line_count - 1), first - 1, -1):
            text = self.doc.line(number)
            for pattern in (annotation, go_parameter, go_variable, assigned):
                match = pattern.search(text)
                if match is not None and match.group(1) not in ("None", "null", "nil"):
                    return match.group(1)
        module_level = [s for s in self.current.outline.top_level() if s.name == name]
        return _declared_type(module_level[0]) if module_level else ""

    # -- types --------------------------------------------------------------------------------

    def types(self, written: str) -> list[Target]:
        """A type as written (``cobra.Command``, ``Client``, ``make_client``) → class targets;
        a function's name stands for what its signature says it returns."""
        qualifier, _, simple = written.rpartition(".")
        within: set[str] | None = None
        if qualifier:
            within = {t.file.relative for t in self.imported(qualifier.split(".")[-1])}
        found: list[Target] = []
        for definition in self.index.definitions(simple):
            symbol, indexed = definition.symbol, definition.file
            if symbol.container or (within is not None and indexed.relative not in within):
                continue
            if symbol.kind in ("class", "type"):
                found.append(Target(indexed, simple))
            elif symbol.kind == "function" and not found:
                returned = _returned_type(symbol.signature)
                if returned and returned != simple:
                    found += [t for t in self.types(returned) if t.container == returned]
        if not found and simple in {s.name for s in self.current.outline.top_level()}:
            found.append(Target(self.current, simple))
        return found[:MAX_TARGETS]

    def step(self, targets: list[Target], attribute: str) -> list[Target]:
        """``x.attr``: the module's class, or the type a member's signature gives ``attr``."""
        found: list[Target] = []
        for target in targets:
            for symbol in target.file.outline.symbols:
                if symbol.name != attribute or symbol.container != target.container:
                    continue
                if symbol.kind in ("class", "type") and not symbol.container:
                    found.append(Target(target.file, attribute))
                else:
                    written = _declared_type(symbol)
                    found += self.types(written) if written else []
        return found

    def has_members(self, target: Target) -> bool:
        return any(s.container == target.container for s in target.file.outline.symbols)


def _bases(signature: str) -> list[str]:
    """``class C(A, b.B):`` / ``class C extends A implements I`` → the base type names."""
    found = _CLASS_BASES.search(signature)
    if found is None:
        return []
    listed = found.group(1) if found.group(1) is not None else found.group(2)
    names = [_IDENTIFIER.findall(part.split("<")[0].split("[")[0]) for part in listed.split(",")]
    return [".".join(n) for n in names if n and "=" not in listed.split(",")[0]]


def _returned_type(signature: str) -> str:
    found = _RETURNS.search(signature)
    return found.group(1) if found else ""


def _declared_type(symbol: Symbol) -> str:
    """The type a member's signature names: an annotation, a Go field's type, a return type."""
    signature = symbol.signature
    if symbol.kind in ("function", "method"):
        return _returned_type(signature)
    for pattern in (_ANNOTATED, _GO_FIELD):
        found = pattern.search(signature)
        if found is not None:
            return found.group(1)
    constructed = re.search(r"=\s*(?:new\s+|&)?([A-Za-z_$][\w$.]*)\s*[({]", signature)
    return constructed.group(1) if constructed else ""


def words(text: str) -> set[str]:
    """Lower-case word pieces of identifiers (``ZodMiniNaN`` → zod, mini, na, n …)."""
    return {w.lower() for name in _IDENTIFIER.findall(text) for w in _WORD.findall(name)}


def render(
    targets: list[Target],
    receiver: Receiver,
    context_words: set[str],
    budget: int,
    count: Counter,
    excluded: Callable[[Path], str | None],
    path_of: Callable[[str], Path],
    used: Collection[str] = (),
) -> tuple[str, int, set[tuple[str, str]]]:
    """Member signatures of the targets, the most relevant of all of them first, within
    ``budget``, grouped under their files in target order.

    Returns the text, its tokens and the (file, name) pairs shown (the definitions source
    leaves those out).
    """
    typed = receiver.typed.lower()
    allowed = [t for t in targets if excluded(path_of(t.file.relative)) is None]
    pool = [
        (order, member)
        for order, target in enumerate(allowed)
        for member in _members(target.file.outline, target.container, typed)
    ]
    # A word most members share (``zod``, ``check``) says little; a rare one (``upper``) a lot.
    frequency = Tally(w for _, member in pool for w in name_words(member.name) & context_words)
    candidates: list[tuple[float, int, int, Symbol]] = []
    for order, member in pool:
        shared = name_words(member.name) & context_words
        score = sum(1 / frequency[w] for w in shared) + (USED_BONUS if member.name in used else 0)
        candidates.append((-score, order, member.line, member))
    candidates.sort(key=lambda item: item[:3])
    heading = f"Members of `{'.'.join((receiver.head, *receiver.path))}` (what the code before " \
              "the cursor reaches):\n"
    spent = count(heading) + 1
    chosen: dict[int, list[Symbol]] = {}
    for _, order, _, member in candidates:
        target = allowed[order]
        extra = 0 if order in chosen else count(_target_heading(target)) + 1
        cost = count(_member_line(member)) + 1 + extra
        if spent + cost > budget:
            if spent + 8 > budget:
                break
            continue
        chosen.setdefault(order, []).append(member)
        spent += cost
    if not chosen:
        return "", 0, set()
    blocks: list[str] = []
    shown: set[tuple[str, str]] = set()
    for order in sorted(chosen):
        target = allowed[order]
        indent = "    " if target.container else ""
        members = sorted(chosen[order], key=lambda s: s.line)
        lines = [indent + _member_line(m) for m in members]
        blocks.append(_target_heading(target) + "\n".join(lines) + "\n")
        shown.update((target.file.relative, m.name) for m in members)
    return heading + "".join(blocks), spent, shown


def _member_line(member: Symbol) -> str:
    """A member's signature, cut to what identifies it: a list of many beats a few in full."""
    signature = member.signature
    if len(signature) <= MAX_MEMBER_CHARS:
        return signature
    return signature[: MAX_MEMBER_CHARS - 1] + "…"


def _target_heading(target: Target) -> str:
    """A file's heading, and the class or type whose members follow."""
    indexed = target.file
    heading = section_heading(indexed.relative, indexed.language_id)
    owner = next((s for s in indexed.outline.symbols
                  if target.container and s.name == target.container and not s.container), None)
    return heading + (owner.signature + "\n" if owner is not None else "")


def _members(outline: FileOutline, container: str, typed: str) -> list[Symbol]:
    """Members of ``container`` ("" → the top level), those matching what is typed if any."""
    members = [s for s in outline.symbols if s.container == container]
    if typed:
        matching = [s for s in members if s.name.lower().startswith(typed)]
        members = matching or members
    return members


@lru_cache(maxsize=65536)
def name_words(name: str) -> frozenset[str]:
    """A name's lower-case word pieces (remembered: the same members rank request after
    request)."""
    return frozenset(w.lower() for w in _WORD.findall(name))


def context_words(doc: DocumentIndex, line: int, prefix: str) -> set[str]:
    """Words of the cursor line and the few lines above it (the ranking's evidence)."""
    first = max(0, line - RANK_LINES)
    text = doc.text_of_lines(first, line) + prefix
    return words(text)


def near_members(
    index: WorkspaceIndex,
    imports: ImportResolver,
    current: IndexedFile,
    doc: DocumentIndex,
    position: tuple[int, int],
    budget: int,
    count: Counter,
    excluded: Callable[[Path], str | None],
) -> tuple[str, int, set[tuple[str, str]]]:
    """The members section for a cursor after ``receiver.`` ("" elsewhere)."""
    line, character = position
    if budget <= 0 or line >= doc.line_count:
        return "", 0, set()
    prefix = doc.line(line)[:character]
    receiver = receiver_at(prefix)
    if receiver is None:
        return "", 0, set()
    targets = ReceiverResolver(index, imports, current, doc, line).targets(receiver)
    if not targets:
        return "", 0, set()
    return render(targets, receiver, context_words(doc, line, prefix), budget, count, excluded,
                  index.path_of, used_members(doc, line, receiver.head))


def used_members(doc: DocumentIndex, line: int, head: str) -> set[str]:
    """Members the lines around the cursor already reach through the same receiver
    (``core.$constructor`` used nearby is likely used again)."""
    pattern = re.compile(rf"(?<![\w$.]){re.escape(head)}\??\.([A-Za-z_$][\w$]*)")
    first, end = max(0, line - USED_LINES), min(doc.line_count, line + USED_LINES_BELOW)
    below = doc.text_of_lines(line + 1, end) if line + 1 < end else ""
    return set(pattern.findall(doc.text_of_lines(first, line) + "\n" + below))
