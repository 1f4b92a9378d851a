"""Definition recall of the inline prompt on real projects, CrossCodeEval-style, without a model.

A position is a place where a line uses a name defined in *another* file of the same project
(found by this benchmark's own per-language scan, not by the engine's outline, so a kind of
definition the engine ignores still counts). The line is cut just before the name (the user is
about to type it), the file is opened alone in a fresh engine at default settings, the inline
prompt is built, and the prompt's project parts are checked for the definition's header (its
line up to the name and the character after, whitespace collapsed: ``def request(``,
``HeaderTypes =``, ``export interface ZodType<``, ``func (c *Command) Execute(``).

The prompt is built by the engine the server runs (``ContextBuilder.completion_prompt`` with a
``ProjectContext`` over a ``WorkspaceIndex`` of the project, options from the default settings,
the default ``contextTokens`` budget), not through LSP: the same prompt the server would send,
without a socket per position. The index is built once per project and handed to each fresh
``ProjectContext`` (a server builds the same index at start).

Projects come from the reachable registries at run time into ``~/.cache/spark-lsp/recall/``
(never into the repository): Python wheels from PyPI, TypeScript packages that ship ``src/``
from npm, Go libraries from Debian's ``golang-*-dev`` packages (the Go module proxy is not
reachable; Debian ships Go sources under ``/usr/share/gocode/src``).

Prints recall per language and per project, which prompt part held the header, and the median
prompt size in tokens.

Run: python -m benchmarks.bench_recall [--per-project 40] [--only httpx,zod]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from benchmarks.common import loaded_counter, table
from spark_lsp.config import Settings
from spark_lsp.engine.context import ContextBuilder, ContextOptions
from spark_lsp.engine.prompts import file_heading
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.sources.index import WorkspaceIndex
from spark_lsp.engine.sources.project import ProjectContext
from spark_lsp.engine.store import DocumentStore
from spark_lsp.shared.privacy import ExclusionPolicy

SHOW_MISSES = False
CACHE = Path.home() / ".cache" / "spark-lsp" / "recall"


@dataclass(frozen=True)
class Project:
    """A real project: where it comes from and which of its folders is the workspace."""

    name: str
    language: str
    registry: str  # "pypi", "npm" or "debian"
    package: str
    version: str
    #: The folder inside the unpacked package that becomes the workspace root.
    inside: str


PROJECTS = (
    Project("httpx", "python", "pypi", "httpx", "0.27.2", "httpx"),
    Project("click", "python", "pypi", "click", "8.1.7", "click"),
    Project("rich", "python", "pypi", "rich", "13.9.4", "rich"),
    Project("zod", "typescript", "npm", "zod", "4.1.12", "package"),
    Project("trpc-server", "typescript", "npm", "@trpc/server", "11.6.0", "package"),
    Project("cobra", "go", "debian", "golang-github-spf13-cobra-dev", "1.6.1-1",
            "usr/share/gocode/src/github.com/spf13/cobra"),
    Project("chi", "go", "debian", "golang-github-go-chi-chi-dev", "5.0.7-1",
            "usr/share/gocode/src/github.com/go-chi/chi"),
)
SUFFIXES = {"python": (".py",), "typescript": (".ts",), "go": (".go",)}


# -- fetching -------------------------------------------------------------------------------------


def fetch(project: Project) -> Path:
    """The project's workspace folder in the cache, downloaded and unpacked on first use."""
    target = CACHE / f"{project.name}-{project.version}"
    root = target / project.inside
    if root.is_dir():
        return root
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if project.registry == "pypi":
            subprocess.run(
                ["pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                 f"{project.package}=={project.version}", "-d", str(work)], check=True)
            with zipfile.ZipFile(next(work.glob("*.whl"))) as wheel:
                wheel.extractall(target)
        elif project.registry == "npm":
            subprocess.run(["npm", "pack", "--silent", f"{project.package}@{project.version}",
                            "--pack-destination", str(work)], check=True, capture_output=True)
            with tarfile.open(next(work.glob("*.tgz"))) as archive:
                archive.extractall(target, filter="data")
            # The compiled output would double every definition; the workspace is the sources.
            for built in ("dist", "lib", "v3", "v4", "mini", "locales", "adapters"):
                if (target / "package" / built).is_dir() and (target / "package" / "src").is_dir():
                    shutil.rmtree(target / "package" / built)
        else:
            subprocess.run(["apt-get", "download", f"{project.package}={project.version}"],
                           cwd=work, check=True, capture_output=True)
            subprocess.run(["dpkg-deb", "-x", str(next(work.glob("*.deb"))), str(target)],
                           check=True)
    return root


# -- the benchmark's own definition scan ----------------------------------------------------------

_PY_TOP = re.compile(
    r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)"
)
_PY_MEMBER = re.compile(
    r"^ {4}(?:(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)"
    r"|([A-Za-z_]\w*)\s*:\s*\S)"
)
_TS_TOP = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
    r"(?:function\*?|class|interface|type|enum|const|let|var|namespace)\s+([A-Za-z_$][\w$]*)"
)
_TS_CONTAINER = re.compile(r"^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?"
                           r"(?:class|interface)\s")
_TS_MEMBER = re.compile(
    r"^(?: {2}| {4}|\t)(?:(?:public|private|protected|static|readonly|abstract|async|override|"
    r"declare|get|set)\s+)*([A-Za-z_$][\w$]*)[?!]?\s*[(:<=]"
)
_GO_FUNC = re.compile(r"^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)\s*[\[(]")
_GO_TOP = re.compile(r"^(?:type|const|var)\s+([A-Za-z_]\w*)")
_GO_BLOCK = re.compile(
    r"^(?:type|const|var)\s*\($|^type\s+\w+(?:\[[^\]]*\])?\s+(?:struct|interface)\s*\{$"
)
_GO_MEMBER = re.compile(r"^\t([A-Za-z_]\w*)\b")
_KEYWORDS = frozenset(
    "self cls this super return import from export default const func type var let class def "
    "interface if else for while new true false null nil None True False async await function "
    "package case switch undefined typeof instanceof extends keyof infer readonly string number "
    "boolean any unknown never object symbol bigint void delete throw try catch finally break "
    "continue yield static public private protected struct map chan range defer select goto "
    "lambda pass raise with assert global nonlocal del elif not and".split()
)
#: Members every value of the language has (``"".join``, ``list.map``, ``err.Error``): a use of
#: these is rarely the project's definition of the same name.
_BUILTIN_MEMBERS = frozenset(
    {n for t in (str, bytes, dict, list, set, tuple, int, object, BaseException) for n in dir(t)}
    | set("map filter push pop shift length toString then catch finally keys values entries get "
          "set has add forEach slice splice split replace trim includes indexOf concat reduce some "
          "every find test exec call apply bind size clear sort parse stringify name message "
          "Error String Len Write Read Close Add Get Set Del Run".split())
)


def definitions_of(language: str, text: str) -> Iterator[tuple[str, int, bool]]:
    """(name, line) of what a file defines: top level, and one level into classes and blocks."""
    lines = text.splitlines()
    opener = ""
    for number, line in enumerate(lines):
        match, member = None, False
        if language == "python":
            if line and not line[0].isspace():
                opener = line
                match, member = _PY_TOP.match(line), False
            elif opener.startswith(("class ", "if ", "try:", "else:", "except")):
                match, member = _PY_MEMBER.match(line), opener.startswith("class ")
        elif language == "typescript":
            if line and not line[0].isspace():
                opener = line if _TS_CONTAINER.match(line) else ""
                match, member = _TS_TOP.match(line), False
            else:
                match, member = (_TS_MEMBER.match(line) if opener else None), True
        else:
            if line.startswith(("}", ")")):
                opener = ""
            elif line and not line[0].isspace():
                opener = line if _GO_BLOCK.match(line) else ""
                match, member = _GO_FUNC.match(line) or _GO_TOP.match(line), False
                member = member or bool(match and line.startswith("func ("))
            else:
                match, member = (_GO_MEMBER.match(line) if opener else None), "struct" in opener
                member = member or "interface" in opener
        if match is not None:
            name = next(g for g in match.groups() if g)
            if name not in _KEYWORDS and not name.startswith("__"):
                yield name, number, member


#: Leading words an outline may leave off (the name and signature are what a reader needs).
_MODIFIERS = re.compile(r"^(?:(?:export|default|declare)\s+)+")


def header_of(line: str, name: str) -> str:
    """The definition line up to its name and the next visible character, spaces collapsed."""
    flat = _MODIFIERS.sub("", " ".join(line.split()))
    at = re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", flat)
    if at is None:
        return flat
    rest = flat[at.end():].lstrip()
    if rest.startswith("{"):  # a body's brace, which signatures leave out
        return flat[: at.end()]
    spacer = " " if rest and flat[at.end():at.end() + 1] == " " else ""
    return flat[: at.end()] + spacer + rest[:1]


@dataclass(frozen=True)
class Position:
    """A use of ``name`` in ``relative`` at (line, column), defined in ``target``."""

    relative: str
    line: int
    column: int
    name: str
    target: str
    headers: tuple[str, ...]


_USE = re.compile(r"(?<![\w$])([A-Za-z_$][\w$]{2,})")
_IMPORT_LINE = re.compile(
    r"^\s*(?:import\b|from\s+\S+\s+import\b|export\s+\*|export\s+\{[^}]*\}\s+from|\"|\))"
)
_COMMENT = re.compile(r"^\s*(?:#|//|\*|/\*)")


def sample(root: Path, language: str, count: int, seed: int) -> list[Position]:
    """Uses of names that exactly one other file of the project defines."""
    files = sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES[language] and p.is_file()
                   and not p.name.endswith(".d.ts"))
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
             for p in files}
    defined: dict[str, dict[str, list[int]]] = defaultdict(dict)
    members: set[str] = set()
    for relative, text in texts.items():
        for name, number, member in definitions_of(language, text):
            defined[name].setdefault(relative, []).append(number)
            if member:
                members.add(name)
    candidates: list[Position] = []
    modules = {PurePosixPath(r).with_suffix("").parts[0] for r in texts}
    go_module = _GO_MODULE.search((root / "go.mod").read_text()) if (root / "go.mod").is_file() \
        else None
    for relative, text in texts.items():
        external = _external_names(language, text, modules, go_module.group(1) if go_module
                                   else "")
        lines = text.splitlines()
        in_import_block = False
        for number, line in enumerate(lines):
            stripped = line.strip()
            if language == "go" and stripped == "import (":
                in_import_block = True
            if in_import_block:
                in_import_block = stripped != ")"
                continue
            if _IMPORT_LINE.match(line) or _COMMENT.match(line) or len(stripped) < 4:
                continue
            for match in _USE.finditer(line):
                name = match.group(1)
                where = defined.get(name, {})
                if len(where) != 1 or relative in where:
                    continue
                before = line[: match.start()]
                after_dot = before.endswith(".")
                if after_dot and _receiver_head(before) in external:
                    continue  # ``http.HandlerFunc``, ``sys.stdout``: another project's name
                if (name in members and not after_dot) or (after_dot and name in _BUILTIN_MEMBERS):
                    continue
                if _binds(text, name):
                    continue
                if before.count('"') % 2 or before.count("'") % 2 or before.count("`") % 2:
                    continue
                (target, numbers), = where.items()
                target_lines = texts[target].splitlines()
                headers = tuple(header_of(target_lines[n], name) for n in numbers)
                candidates.append(Position(relative, number, match.start(), name, target, headers))
                break  # one position per line
    rng = random.Random(seed)
    rng.shuffle(candidates)
    # Spread over files: at most three positions from one file.
    per_file: Counter[str] = Counter()
    chosen: list[Position] = []
    for position in candidates:
        if per_file[position.relative] < 3:
            per_file[position.relative] += 1
            chosen.append(position)
        if len(chosen) == count:
            break
    return chosen


_GO_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_PY_IMPORT = re.compile(
    r"^(?:import\s+([\w.]+)(?:\s+as\s+(\w+))?|from\s+([\w.]+)\s+import\s+(.+))$", re.MULTILINE
)
_TS_IMPORT = re.compile(r"^import\s+(?:type\s+)?(.+?)\s+from\s+[\"']([^\"']+)[\"']", re.MULTILINE)
_GO_IMPORT = re.compile(r"^\s*(?:import\s+)?(\w+\s+)?\"([^\"]+)\"\s*$", re.MULTILINE)


def _external_names(language: str, text: str, modules: set[str], go_module: str) -> set[str]:
    """Names a file imports from outside the project (``sys``, ``http``, ``React``)."""
    found: set[str] = set()
    if language == "python":
        for plain, alias, source, names in _PY_IMPORT.findall(text):
            module = plain or source
            if module.startswith(".") or module.split(".")[0] in modules:
                continue
            if plain:
                found.add(alias or plain.split(".")[0])
            else:
                found.update(re.findall(r"(?:\bas\s+)?(\w+)\s*(?:,|$)", names))
    elif language == "typescript":
        for clause, source in _TS_IMPORT.findall(text):
            if not source.startswith("."):
                found.update(re.findall(r"[\w$]+", clause.replace(" as ", " ")))
    else:
        for alias, path in _GO_IMPORT.findall(text):
            if not (go_module and path.startswith(go_module)):
                parts = [p for p in path.split("/") if not re.fullmatch(r"v\d+", p)]
                found.add(alias.strip() or parts[-1])
    return found


def _receiver_head(before: str) -> str:
    """``x := os.Stdout.`` → ``os``: the first name of the access chain the text ends with."""
    chain = re.search(r"([A-Za-z_$][\w$]*)(?:\.[A-Za-z_$][\w$]*)*\.$", before)
    return chain.group(1) if chain else ""


def _binds(text: str, name: str) -> bool:
    """Whether a file binds ``name`` itself (a local, a parameter, a loop variable): a use of
    it there is not a use of the other file's definition."""
    word = re.escape(name)
    local = (rf"\b(?:const|let|var|def|class|function|func|type|for)\s+{word}\b"
             rf"|(?<![\w.$]){word}\s*(?::=|=(?![=>]))|(?<![\w.$]){word}\s*,[\w\s,]*:=")
    if re.search(local, text):
        return True
    parameter = re.compile(rf"[(,]\s*{word}\s*[?]?[:,)=]")
    return any(parameter.search(line) for line in text.splitlines()
               if _SIGNATURE_LINE.match(line))


_SIGNATURE_LINE = re.compile(
    r"^\s*(?:async\s+def|def|func|(?:export\s+)?(?:async\s+)?function)\b|.*=>"
)


# -- building prompts -----------------------------------------------------------------------------


def default_options() -> tuple[ContextOptions, int]:
    """The context options and completion budget the server derives from default settings."""
    settings = Settings()
    options = ContextOptions(
        max_tokens=settings.context.max_tokens,
        max_output_tokens=settings.completion.max_output_tokens + settings.model.reasoning_tokens,
        cross_file=settings.context.cross_file,
        project=settings.context.project,
        project_tokens=settings.context.project_tokens,
    )
    return options, min(settings.completion.context_tokens, settings.context.max_tokens)


@dataclass(frozen=True)
class Outcome:
    """One position's result."""

    project: str
    language: str
    found: bool
    part: str
    path_present: bool
    tokens: int
    member: bool
    build_ms: float
    parts: tuple[tuple[str, int], ...] = ()


_PART_HEADINGS = (
    ("map", "Map of the project"),
    ("imports", "Interfaces of the project files imported"),
    ("definitions", "Definitions of names used near the cursor"),
    ("members", "Members of"),
    ("recent", "Recently edited or visited"),
)


def project_text(prompt_parts: tuple[str, ...], volatile: str, heading: str) -> list[str]:
    """The prompt's parts other than the current file (its far part and its window)."""
    parts = [p for p in prompt_parts if not p.startswith("File: ")]
    parts.append(volatile.split(heading, 1)[0])
    return parts


def part_of(texts: list[str], header: str) -> str:
    """Which part of the project text holds ``header``."""
    for text in texts:
        flat = " ".join(text.split())
        at = flat.find(header)
        if at < 0:
            continue
        best = ("other", -1)
        for name, heading in _PART_HEADINGS:
            where = flat.rfind(heading, 0, at)
            if where > best[1]:
                best = (name, where)
        return best[0]
    return ""


async def measure(project: Project, positions: list[Position], root: Path,
                  index: WorkspaceIndex) -> list[Outcome]:
    counter = loaded_counter()
    options, budget = default_options()
    policy = ExclusionPolicy(root)
    outcomes: list[Outcome] = []
    for position in positions:
        path = root / position.relative
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        lines[position.line] = lines[position.line][: position.column]
        text = "\n".join(lines)
        store = DocumentStore(counter)
        store.root = root
        context = ProjectContext(store, policy.reason)
        context.index = index
        builder = ContextBuilder(store, lambda: policy, lambda: options, context)
        language_id = "typescript" if project.language == "typescript" else project.language
        doc = store.open(path.as_uri(), language_id, text, 1)
        query = CompletionQuery(path.as_uri(), doc.path, language_id, doc.index, position.line,
                                position.column, True)
        began = time.perf_counter()
        prompt = builder.completion_prompt(query, budget)
        elapsed = (time.perf_counter() - began) * 1000
        heading = file_heading(query.path, query.language_id)
        texts = project_text(prompt.stable, prompt.volatile, heading)
        part = next((p for h in position.headers if (p := part_of(texts, h))), "")
        joined = "\n".join(texts)
        tokens = sum(counter.count(t) for t in (prompt.instructions, *prompt.stable,
                                                prompt.volatile))
        member = lines[position.line][: position.column].endswith(".")
        if not part and SHOW_MISSES:
            print(f"miss {project.name} {position.relative}:{position.line + 1} "
                  f"{lines[position.line].strip()!r} -> {position.target} {position.headers}")
        outcomes.append(Outcome(project.name, project.language, bool(part), part,
                                position.target in joined, tokens, member, elapsed,
                                tuple(sorted(context.stats.parts.items()))))
        await context.close()
    return outcomes


def rate(outcomes: list[Outcome]) -> str:
    return f"{sum(o.found for o in outcomes) / max(1, len(outcomes)):.1%}"


async def run(per_project: int, only: set[str]) -> None:
    counter = loaded_counter()
    await asyncio.to_thread(counter.wait_ready, 60)
    results: list[Outcome] = []
    for project in PROJECTS:
        if only and project.name not in only:
            continue
        root = fetch(project).resolve()
        positions = sample(root, project.language, per_project, seed=26)
        index = WorkspaceIndex(root, ExclusionPolicy(root).reason)
        index.build()
        results += await measure(project, positions, root, index)
    by_project: dict[str, list[Outcome]] = defaultdict(list)
    by_language: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in results:
        by_project[outcome.project].append(outcome)
        by_language[outcome.language].append(outcome)
    rows = []
    for name, outcomes in by_project.items():
        members = [o for o in outcomes if o.member]
        parts = Counter(o.part for o in outcomes if o.found)
        rows.append([name, outcomes[0].language, len(outcomes), rate(outcomes),
                     f"{rate(members)} of {len(members)}",
                     f"{sum(o.path_present for o in outcomes) / len(outcomes):.0%}",
                     int(statistics.median(o.tokens for o in outcomes)),
                     " ".join(f"{k}:{v}" for k, v in parts.most_common())])
    print(table("Definition recall per project (default settings)",
                ["project", "language", "positions", "recall", "after a dot", "path in prompt",
                 "median tokens", "found in"], rows))
    lang_rows = [[lang, len(o), rate(o), int(statistics.median(x.tokens for x in o)),
                  round(statistics.median(x.build_ms for x in o), 2)]
                 for lang, o in by_language.items()]
    lang_rows.append(["all", len(results), rate(results),
                      int(statistics.median(x.tokens for x in results)),
                      round(statistics.median(x.build_ms for x in results), 2)])
    names = sorted({k for o in results for k, _ in o.parts})
    print(table("Median tokens of each project source (per language)", ["language", *names],
                [[lang, *(int(statistics.median(dict(x.parts).get(n, 0) for x in o))
                          for n in names)] for lang, o in by_language.items()]))
    print(table("Definition recall per language",
                ["language", "positions", "recall", "median prompt tokens",
                 "median first prompt ms"], lang_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-project", type=int, default=40)
    parser.add_argument("--only", default="", help="comma-separated project names")
    parser.add_argument("--misses", action="store_true", help="print each missed position")
    args = parser.parse_args()
    global SHOW_MISSES  # noqa: PLW0603 (a print switch of this script)
    SHOW_MISSES = args.misses
    asyncio.run(run(args.per_project, {n for n in args.only.split(",") if n}))


if __name__ == "__main__":
    main()
