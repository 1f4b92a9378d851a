"""Import resolution beyond Python's dotted modules: TypeScript/JavaScript and Go.

The index resolves ``pkg.mod`` and ``./util`` by itself; what it cannot read from a spec alone
is what the *project* says a spec means. TypeScript's ESM style names the emitted ``.js`` file
of a ``.ts`` source (``'../types/options.js'``), ``tsconfig.json`` maps aliases (``paths``,
``baseUrl``), a package may import itself by name through its ``exports``; a Go import is a
module path (``go.mod``) plus a directory, and a package is every file in that directory.

Everything a lookup needs from the workspace (directory → files, the config files) is built
once per set of indexed files and then answered from dictionaries: never a walk per request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from spark_lsp.engine.sources.index import WorkspaceIndex
from spark_lsp.shared.safe_read import read_text

#: What an ESM ``.js`` specifier may stand for in a TypeScript source tree.
_ESM_SOURCES = {
    ".js": (".ts", ".tsx", ".js"),
    ".jsx": (".tsx", ".jsx"),
    ".mjs": (".mts", ".mjs"),
    ".cjs": (".cts", ".cjs"),
}
_SCRIPT_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts")
#: Config files larger than this are not project configuration.
MAX_CONFIG_BYTES = 256 * 1024
#: Files of one Go package summarised for an import (tests left out).
MAX_PACKAGE_FILES = 8


@dataclass
class _Layout:
    """Tables built once per set of files: files by directory, Go modules, TypeScript aliases."""

    generation: int  # the index's file count when built
    directories: dict[str, list[str]] = field(default_factory=dict)
    go_modules: dict[str, str] = field(default_factory=dict)  # module path → its directory
    aliases: list[tuple[str, list[str]]] = field(default_factory=list)  # "@/*" → ["src/*"]
    base_url: str | None = None
    packages: dict[str, dict[str, str]] = field(default_factory=dict)  # name → subpath → file


class ImportResolver:
    """Resolves import specs of any indexed language to workspace files."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self._layout: _Layout | None = None
        #: Answers of :meth:`files` for the index's current generation: a member access asks
        #: on every keystroke, and an external import (``import os``) scans every module key.
        self._answers: dict[tuple[str, str, str], list[str]] = {}
        self._answered_at = -1

    def files(self, spec: str, importer: str, language_id: str) -> list[str]:
        """The workspace files an import names (a Go package: its files); [] when external."""
        if self._answered_at != self.index.generation:
            self._answers.clear()
            self._answered_at = self.index.generation
        key = (spec, importer, language_id)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._files(spec, importer, language_id)
        return list(found)

    def _files(self, spec: str, importer: str, language_id: str) -> list[str]:
        if language_id == "go":
            return self._go(spec)
        if language_id.startswith(("typescript", "javascript")):
            found = self._script(spec, importer)
            return [found] if found else []
        resolved = self.index.resolve_import(spec, importer)
        return [resolved] if resolved else []

    # -- layout -------------------------------------------------------------------------------

    def layout(self) -> _Layout:
        """The tables, rebuilt when the index gained or lost files (an edit that re-outlines a
        file moves the index's generation but not where files are: no rebuild for that)."""
        files = len(self.index)
        if self._layout is None or self._layout.generation != files:
            self._layout = self._build(files)
        return self._layout

    def _build(self, generation: int) -> _Layout:
        layout = _Layout(generation)
        for indexed in self.index.files():
            parent = PurePosixPath(indexed.relative).parent.as_posix()
            layout.directories.setdefault("" if parent == "." else parent, []).append(
                indexed.relative
            )
        go_directories = [d for d, files in layout.directories.items()
                          if any(f.endswith(".go") for f in files)]
        for directory in go_directories:
            module = _go_module(self._read(f"{directory}/go.mod" if directory else "go.mod"))
            if module:
                layout.go_modules[module] = directory
        if "" not in layout.directories or not layout.go_modules:
            module = _go_module(self._read("go.mod"))
            if module:
                layout.go_modules[module] = ""
        self._typescript_config(layout)
        return layout

    def _read(self, relative: str) -> str:
        """A project file (``go.mod``, ``tsconfig.json``…) read like every workspace file: a
        small regular file, links only within the workspace (a FIFO never blocks)."""
        path, root = self.index.locate(relative)
        try:
            return read_text(path, max_bytes=MAX_CONFIG_BYTES, inside=root)
        except OSError:
            return ""

    def _typescript_config(self, layout: _Layout) -> None:
        config = _json(self._read("tsconfig.json")).get("compilerOptions")
        if isinstance(config, dict):
            base = config.get("baseUrl")
            layout.base_url = _normal(base) if isinstance(base, str) else None
            paths = config.get("paths")
            if isinstance(paths, dict):
                root = layout.base_url or ""
                layout.aliases = [
                    (key, [_join(root, t) for t in targets if isinstance(t, str)])
                    for key, targets in paths.items()
                    if isinstance(targets, list)
                ]
        manifest = _json(self._read("package.json"))
        name = manifest.get("name")
        if isinstance(name, str):
            layout.packages[name] = _exports(manifest.get("exports"))

    # -- TypeScript / JavaScript --------------------------------------------------------------

    def _script(self, spec: str, importer: str) -> str | None:
        if spec.startswith("."):
            base = PurePosixPath(importer).parent.as_posix()
            return self._script_file(_join("" if base == "." else base, spec))
        layout = self.layout()
        for pattern, targets in layout.aliases:
            for target in targets:
                mapped = _alias(pattern, target, spec)
                found = self._script_file(mapped) if mapped is not None else None
                if found:
                    return found
        for name, exports in layout.packages.items():
            if spec == name or spec.startswith(name + "/"):
                subpath = "." + spec[len(name) :]
                entry = exports.get(subpath)
                exported = self._script_file(_normal(entry)) if entry else None
                if exported:
                    return exported
        if layout.base_url is not None:
            return self._script_file(_join(layout.base_url, spec))
        return None

    def _script_file(self, joined: str) -> str | None:
        """The indexed source of a path: as is, ``.js`` as ``.ts``, with a suffix, ``index``."""
        known = self.index.file
        stem, suffix = _split_suffix(joined)
        candidates = [joined]
        candidates += [stem + s for s in _ESM_SOURCES.get(suffix, ())]
        candidates += [joined + s for s in _SCRIPT_SUFFIXES]
        candidates += [f"{joined}/index{s}" for s in _SCRIPT_SUFFIXES]
        if suffix in _ESM_SOURCES:  # a built entry point (``dist/index.js``) of a src/ tree
            candidates += [_source_of_built(stem) + s for s in (".ts", ".tsx")]
        return next((c for c in candidates if known(c) is not None), None)

    # -- Go -----------------------------------------------------------------------------------

    def _go(self, spec: str) -> list[str]:
        layout = self.layout()
        for module, directory in sorted(layout.go_modules.items(), key=lambda m: -len(m[0])):
            if spec == module or spec.startswith(module + "/"):
                rest = spec[len(module) :].strip("/")
                package = _join(directory, rest) if rest else directory
                files = [
                    f
                    for f in layout.directories.get(package, [])
                    if f.endswith(".go") and not f.endswith("_test.go")
                ]
                return sorted(files)[:MAX_PACKAGE_FILES]
        return []


def _go_module(text: str) -> str:
    found = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return found.group(1).strip('"') if found else ""


def _json(text: str) -> dict[str, object]:
    """A JSON object from a config file; tsconfig's comments and trailing commas allowed."""
    if not text:
        return {}
    cleaned = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "",
                     text, flags=re.DOTALL)
    cleaned = re.sub(r",(\s*[}\]])", r"\1", cleaned)
    try:
        value = json.loads(cleaned)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _exports(value: object) -> dict[str, str]:
    """``exports`` of a package.json: subpath → the file it points at (source-like first)."""
    if isinstance(value, str):
        return {".": value}
    if not isinstance(value, dict):
        return {}
    if not any(k.startswith(".") for k in value):
        value = {".": value}
    found: dict[str, str] = {}
    for subpath, target in value.items():
        chosen = _condition(target)
        if chosen:
            found[subpath] = chosen
    return found


def _condition(target: object) -> str | None:
    """The file of an exports entry: a string, or the best of its conditions."""
    if isinstance(target, str):
        return target
    if isinstance(target, dict):
        for key in ("source", "types", "import", "default", "require", "node"):
            chosen = _condition(target.get(key))
            if chosen:
                return chosen
    return None


def _alias(pattern: str, target: str, spec: str) -> str | None:
    """``@/*`` + ``src/*`` maps ``@/util`` to ``src/util``; an exact key maps exactly."""
    if "*" not in pattern:
        return target if spec == pattern else None
    head, _, tail = pattern.partition("*")
    if spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(head) + len(tail):
        return target.replace("*", spec[len(head) : len(spec) - len(tail)])
    return None


def _split_suffix(path: str) -> tuple[str, str]:
    suffix = PurePosixPath(path).suffix
    return (path[: -len(suffix)], suffix) if suffix else (path, "")


def _source_of_built(stem: str) -> str:
    """``dist/esm/index`` → ``src/index``: a package's own entry, as its sources lay it out."""
    parts = stem.split("/")
    for built in ("dist", "lib", "build", "esm", "cjs"):
        while built in parts:
            parts.remove(built)
    return "/".join(["src", *parts]) if parts and parts[0] != "src" else "/".join(parts)


def _normal(path: str) -> str:
    return _join("", path)


def _join(base: str, spec: str) -> str:
    """``base/spec`` with ``.`` and ``..`` folded, relative to the workspace root."""
    parts: list[str] = [p for p in base.split("/") if p and p != "."]
    for part in spec.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)
