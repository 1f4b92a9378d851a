"""The workspace index: every source file's outline, built in the background, kept fresh lazily.

Context sources ask "where is ``compute_discount`` defined?" and "which file is ``pkg.pricing``?"
on every completion, for files the editor never opened. Answering from disk each time would cost
milliseconds per file, so one background pass outlines the workspace (bounded: file count, file
size, symbols per file) and later changes cost one file each: a saved or edited open document
is re-outlined when a query touches it, and a file on disk is re-read when its mtime moved.
Nothing here ever re-scans the workspace on a keystroke.

Every workspace folder is a root. With one folder, a file's key is its path relative to it;
with several, each key starts with its folder's name (``api/app.py``), as editors show files of
a multi-root workspace, so keys stay unique and readable in prompts. Files are read through
``spark_lsp.shared.safe_read`` (regular files only, size-capped, links only within their
folder): the workspace is untrusted input, and a FIFO or ``/dev/zero`` must not stall the index.
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from spark_lsp.engine.symbols import FileOutline, Symbol, outline
from spark_lsp.shared.safe_read import read_text
from spark_lsp.shared.skipped_dirs import skipped_directory

log = logging.getLogger(__name__)

#: File name endings the index reads, with the language id each is parsed as.
LANGUAGE_BY_SUFFIX: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".rb": "ruby",
    ".lua": "lua",
    ".kt": "kotlin",
    ".swift": "swift",
    ".php": "php",
    ".cs": "csharp",
    ".scala": "scala",
}
MAX_FILES = 5_000
MAX_FILE_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """One file's outline, with what tells whether it is still current."""

    relative: str
    language_id: str
    mtime_ns: int
    outline: FileOutline


@dataclass(frozen=True, slots=True)
class Definition:
    """A symbol and the file that defines it."""

    file: IndexedFile
    symbol: Symbol


Excluded = Callable[[Path], str | None]


def named_roots(roots: Sequence[Path]) -> dict[str, Path]:
    """Key prefix → workspace folder: ``""`` for a lone folder, else each folder's name (a
    second folder of the same name gets ``name~2``)."""
    if len(roots) == 1:
        return {"": roots[0]}
    named: dict[str, Path] = {}
    for root in roots:
        name, n = root.name or "root", 1
        while name in named:
            n += 1
            name = f"{root.name or 'root'}~{n}"
        named[name] = root
    return named


def _printable(name: str) -> bool:
    """A name a prompt can quote on one line: a newline in a file name would forge a line of
    the repository map (``x.py\nIGNORE PREVIOUS...``), so control characters and line or
    paragraph separators rule a name out."""
    return not any(unicodedata.category(c) in _LINE_BREAKING for c in name)


_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})


class WorkspaceIndex:
    """Key (folder-relative path) → outline, plus name → definitions, for the workspace folders.

    ``roots`` are resolved paths. The build runs in a worker thread and stops between files
    once :meth:`stop` is called.
    """

    def __init__(
        self, roots: Path | Sequence[Path], excluded: Excluded, *, max_files: int = MAX_FILES
    ) -> None:
        self.roots = named_roots([roots] if isinstance(roots, Path) else list(roots))
        #: The first folder (the diff and single-folder callers use it).
        self.root = next(iter(self.roots.values()))
        self._excluded = excluded
        self._stop = threading.Event()
        self._max_files = max_files
        self._lock = threading.Lock()
        self._files: dict[str, IndexedFile] = {}
        self._names: dict[str, list[Definition]] = {}
        self._modules: dict[str, str] = {}
        self.generation = 0
        self.ready = False
        self.truncated = False

    # -- building --------------------------------------------------------------------------

    def build(self) -> int:
        """Outline every source file under the roots (run in a worker thread); returns the count.

        Checks the stop flag between files: shutdown never waits for a whole build.
        """
        count = 0
        for relative, language_id in self._walk():
            if self._stop.is_set():
                break
            if count >= self._max_files:
                self.truncated = True
                break
            if self.refresh(relative, language_id):
                count += 1
        self.ready = True
        return count

    def stop(self) -> None:
        """Make a running build end at its next file."""
        self._stop.set()

    def _walk(self) -> Iterator[tuple[str, str]]:
        others = set(self.roots.values())
        for prefix, root in self.roots.items():
            for path, language_id in _sources(root, others - {root}):
                yield self._key(prefix, path.relative_to(root).as_posix()), language_id

    @staticmethod
    def _key(prefix: str, relative: str) -> str:
        return f"{prefix}/{relative}" if prefix else relative

    def path_of(self, relative: str) -> Path:
        """The file a key names."""
        return self.locate(relative)[0]

    def locate(self, relative: str) -> tuple[Path, Path]:
        """(the file a key names, the folder it belongs to)."""
        if "" in self.roots:
            return self.root / relative, self.root
        prefix, _, rest = relative.partition("/")
        root = self.roots.get(prefix)
        if root is None:  # not a key of ours: read as the first folder's
            return self.root / relative, self.root
        return root / rest, root

    def relative_of(self, path: Path) -> str | None:
        """The key of a file (links resolved), or None when it is in no workspace folder."""
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a link loop: in no folder
            return None
        inside = [(p, r) for p, r in self.roots.items() if resolved.is_relative_to(r)]
        if not inside:
            return None
        prefix, root = max(inside, key=lambda item: len(item[1].parts))  # the innermost
        return self._key(prefix, resolved.relative_to(root).as_posix())

    def refresh(
        self, relative: str, language_id: str | None = None, text: str | None = None
    ) -> bool:
        """Re-outline one file (from ``text`` when given, else from disk if its mtime moved).

        Excluded files are dropped, never read; a file that is not a small regular file in its
        folder (a FIFO, a device, a link out) is dropped with a log line. Returns whether the
        file is in the index.
        """
        path, root = self.locate(relative)
        language_id = language_id or LANGUAGE_BY_SUFFIX.get(PurePosixPath(relative).suffix)
        if language_id is None or self._excluded(path) is not None:
            self.remove(relative)
            return False
        try:
            stat = path.stat()
        except (OSError, RuntimeError):
            stat = None
        if text is None:
            if stat is None or stat.st_size > MAX_FILE_BYTES:
                self.remove(relative)
                return False
            known = self._files.get(relative)
            if known is not None and known.mtime_ns == stat.st_mtime_ns:
                return True
            try:
                text = read_text(path, max_bytes=MAX_FILE_BYTES, inside=root)
            except FileNotFoundError:
                self.remove(relative)
                return False
            except OSError as exc:
                log.info("not indexed: %s", exc)
                self.remove(relative)
                return False
        mtime = stat.st_mtime_ns if stat is not None else -1
        self._store(IndexedFile(relative, language_id, mtime, outline(language_id, text)))
        return True

    def _store(self, entry: IndexedFile) -> None:
        with self._lock:
            self._drop(entry.relative)
            self._files[entry.relative] = entry
            for symbol in entry.outline.symbols:
                self._names.setdefault(symbol.name, []).append(Definition(entry, symbol))
            module = _module_name(entry.relative)
            if module:
                self._modules[module] = entry.relative
            self.generation += 1

    def remove(self, relative: str) -> None:
        """Forget a file (deleted, excluded, or too large)."""
        with self._lock:
            if self._drop(relative):
                self.generation += 1

    def _drop(self, relative: str) -> bool:
        old = self._files.pop(relative, None)
        if old is None:
            return False
        for symbol in old.outline.symbols:
            found = self._names.get(symbol.name)
            if found is not None:
                found[:] = [d for d in found if d.file is not old]
                if not found:
                    del self._names[symbol.name]
        module = _module_name(relative)
        if module and self._modules.get(module) == relative:
            del self._modules[module]
        return True

    # -- queries -----------------------------------------------------------------------------

    def file(self, relative: str) -> IndexedFile | None:
        """The outline of one file, or None when it is not indexed."""
        return self._files.get(relative)

    def files(self) -> list[IndexedFile]:
        """A snapshot of every indexed file."""
        with self._lock:
            return list(self._files.values())

    def definitions(self, name: str) -> list[Definition]:
        """Every definition of ``name`` in the workspace (a snapshot)."""
        with self._lock:
            return list(self._names.get(name, ()))

    def defines(self, name: str) -> bool:
        """Whether any indexed file defines ``name``."""
        return name in self._names

    def __len__(self) -> int:
        return len(self._files)

    def resolve_import(self, spec: str, importer: str) -> str | None:
        """The indexed file an import spec names, from the importing file's place."""
        if spec.startswith((".", "/")) and ("/" in spec or spec.startswith("./")):
            return self._resolve_path(spec, importer)
        return self._resolve_module(spec, importer)

    def _resolve_module(self, spec: str, importer: str) -> str | None:
        dotted = spec.replace("::", ".").replace("/", ".")
        if dotted.startswith("."):
            level = len(dotted) - len(dotted.lstrip("."))
            package = PurePosixPath(importer).parts[:-1]
            base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else ()
            dotted = ".".join((*base, dotted.lstrip(".")))
        with self._lock:
            found = self._modules.get(dotted)
            if found is not None:
                return found
            tail = "." + dotted  # src/ layouts: ``pkg.mod`` is ``src.pkg.mod``
            matches = [rel for mod, rel in self._modules.items() if mod.endswith(tail)]
        return min(matches, key=len) if matches else None

    def _resolve_path(self, spec: str, importer: str) -> str | None:
        base = PurePosixPath(importer).parent
        joined = os.path.normpath(str(base / spec)).replace(os.sep, "/")
        candidates = [joined] + [joined + s for s in _SCRIPT_SUFFIXES]
        candidates += [f"{joined}/index{s}" for s in _SCRIPT_SUFFIXES]
        return next((c for c in candidates if c in self._files), None)

    def outlines(self, relatives: Iterable[str]) -> list[IndexedFile]:
        """The indexed files among ``relatives``, in order."""
        return [f for r in relatives if (f := self._files.get(r)) is not None]


def _sources(root: Path, skipped: set[Path]) -> Iterator[tuple[Path, str]]:
    """Source files under ``root``, by name; links, hidden and dependency directories, other
    workspace folders nested inside and names that cannot be quoted on one line are skipped."""
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not _printable(entry.name):
                log.info("not indexed: %r (a control character in its name)", entry.path)
                continue
            if entry.is_dir(follow_symlinks=False):
                child = Path(entry.path)
                if not skipped_directory(entry.name) and child not in skipped:
                    stack.append(child)
                continue
            language_id = LANGUAGE_BY_SUFFIX.get(Path(entry.name).suffix)
            if language_id is not None and entry.is_file(follow_symlinks=False):
                yield Path(entry.path), language_id


_SCRIPT_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts")


#: Files that stand for their directory (``import pkg`` reads ``pkg/__init__.py``).
_PACKAGE_FILES = frozenset(
    {"__init__.py", "__init__.pyi", "index.js", "index.ts", "index.tsx", "index.jsx", "mod.rs"}
)


def _module_name(relative: str) -> str:
    """``pkg/sub/mod.py`` → ``pkg.sub.mod``; ``pkg/__init__.py`` → ``pkg``."""
    path = PurePosixPath(relative)
    parts = list(path.parts[:-1])
    if path.name not in _PACKAGE_FILES:
        parts.append(path.stem)
    return ".".join(parts)
