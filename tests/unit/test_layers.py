"""Imports go one way: a test that fails when one goes the wrong way, or when modules cycle.

Every import counts, wherever it stands (module level, inside a function, under
``TYPE_CHECKING``): a lazy import is still a dependency, and a type-only one still ties two
layers together.

The graph spans the package, ``tests/`` and ``benchmarks/``. Tests may import anything (a unit
test is white-box by design) and may share the benchmarks' helpers (``benchmarks/common.py``);
the arrows the other way are what the rules forbid: the package never imports either (it ships
without them), benchmarks never import tests (they run from a checkout without the suite), and
benchmarks meet the language server as an editor does, as a process over stdio.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import spark_lsp

PACKAGE = Path(spark_lsp.__file__).parent
ROOT = PACKAGE.parent
#: The trees whose imports the graph holds: the package, its tests and its benchmarks.
TREES = ("spark_lsp", "tests", "benchmarks")

#: (layer, what it must never import, why). A prefix matches the module and its submodules.
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "spark_lsp.shared",
        ("spark_lsp.",),
        "shared code imports no other part of spark-lsp (both processes rely on it)",
    ),
    (
        "spark_lsp.config",
        ("spark_lsp.engine", "spark_lsp.model", "spark_lsp.modelserver", "spark_lsp.lsp",
         "spark_lsp.features", "spark_lsp.commands", "spark_lsp.app", "spark_lsp.runtime",
         "spark_lsp.host"),
        "settings are read by every layer, so they depend on none",
    ),
    (
        "spark_lsp.errors",
        ("spark_lsp.",),
        "the error tree is read by every layer, so it depends on none",
    ),
    (
        "spark_lsp.model",
        ("spark_lsp.engine", "spark_lsp.modelserver", "spark_lsp.lsp", "spark_lsp.features",
         "spark_lsp.commands", "spark_lsp.app", "spark_lsp.runtime", "spark_lsp.host", "pygls",
         "lsprotocol"),
        "the model client never imports the engine or anything above it",
    ),
    (
        "spark_lsp.modelserver",
        ("spark_lsp.engine", "spark_lsp.lsp", "spark_lsp.features", "spark_lsp.commands",
         "spark_lsp.app", "spark_lsp.runtime", "spark_lsp.host", "pygls", "lsprotocol"),
        "the model server never imports the engine or the language server",
    ),
    (
        "spark_lsp.engine",
        ("pygls", "lsprotocol", "spark_lsp.lsp", "spark_lsp.features", "spark_lsp.commands",
         "spark_lsp.app", "spark_lsp.runtime", "spark_lsp.host", "spark_lsp.modelserver",
         "spark_lsp.model."),
        "the engine never imports pygls/lsprotocol or the layers above it, and uses the model "
        "client only through its package's public surface (spark_lsp.model.__all__), never "
        "its modules",
    ),
    (
        "spark_lsp.lsp",
        ("spark_lsp.features", "spark_lsp.commands", "spark_lsp.app", "spark_lsp.modelserver",
         "spark_lsp.model.protocol", "spark_lsp.runtime"),
        "the server object adapts pygls to the host: it neither knows its features (spark_lsp"
        ".app wires them) nor brings up the model side (spark_lsp.host does)",
    ),
    (
        "spark_lsp.commands",
        ("spark_lsp.model.protocol", "spark_lsp.modelserver.engines",
         "spark_lsp.modelserver.server", "spark_lsp.features", "spark_lsp.lsp",
         "spark_lsp.runtime"),
        "commands build no model request themselves: they open the host, as the server does",
    ),
    (
        "spark_lsp.runtime",
        ("spark_lsp.engine", "spark_lsp.lsp", "spark_lsp.features", "spark_lsp.commands",
         "spark_lsp.app", "spark_lsp.modelserver.engines", "spark_lsp.modelserver.server",
         "spark_lsp.modelserver.main", "spark_lsp.host", "pygls", "lsprotocol"),
        "bringing up the model side needs the session and the launcher, nothing above them",
    ),
    (
        "spark_lsp.host",
        ("spark_lsp.lsp", "spark_lsp.features", "spark_lsp.commands", "spark_lsp.app",
         "spark_lsp.modelserver.engines", "spark_lsp.modelserver.server",
         "spark_lsp.modelserver.main", "pygls", "lsprotocol"),
        "the composition root every entry point opens knows none of them, nor any protocol",
    ),
    (
        "spark_lsp.app",
        ("spark_lsp.model", "spark_lsp.modelserver", "spark_lsp.commands"),
        "the composition root wires the server and its features, nothing else",
    ),
    (
        "spark_lsp.features",
        ("spark_lsp.model", "spark_lsp.modelserver", "spark_lsp.runtime", "spark_lsp.host",
         "spark_lsp.commands", "spark_lsp.app"),
        "handlers reach the model only through the engine's service",
    ),
    (
        "spark_lsp",
        ("tests", "benchmarks"),
        "the package ships without tests/ and benchmarks/: an import of their helpers works in "
        "a checkout and fails for every user",
    ),
    (
        "benchmarks",
        ("tests", "spark_lsp.lsp", "spark_lsp.features", "spark_lsp.app", "spark_lsp.commands",
         "spark_lsp.__main__"),
        "benchmarks run without the test suite (their shared helpers live in benchmarks/common"
        ".py), and time the language server as editors meet it, a process spawned over stdio: "
        "in-process they would leave out the framing, the process start and the event loop the "
        "editor's messages share. What lies below the server (host, engine, model) they may "
        "time directly",
    ),
]  # fmt: skip

#: Modules the language server process must never load: the model server's engines and its
#: WebSocket server belong to the bundled model server's own process.
MODEL_SERVER_ONLY = (
    "spark_lsp.modelserver.engines",
    "spark_lsp.modelserver.server",
    "spark_lsp.modelserver.main",
)
#: Where the language server process starts, and what it loads once the model side starts.
LANGUAGE_SERVER_ROOTS = ("spark_lsp.app", "spark_lsp.runtime")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules(trees: tuple[str, ...] = TREES) -> dict[str, Path]:
    return {module_name(p): p for tree in trees for p in sorted((ROOT / tree).rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every module ``name`` imports (``from pkg import mod`` yields ``pkg.mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"


def graph() -> dict[str, set[str]]:
    known = all_modules()
    return {name: set(imports_of(name, path, known)) for name, path in known.items()}


def _within(module: str, prefix: str) -> bool:
    if prefix.endswith("."):
        return module.startswith(prefix)
    return module == prefix or module.startswith(prefix + ".")


def test_the_rules_cover_every_layer() -> None:
    layers = {rule[0] for rule in RULES}
    for name in all_modules(("spark_lsp",)):
        if name.count(".") >= 1:
            top = ".".join(name.split(".")[:2])
            assert top in layers | {"spark_lsp.__main__"}, f"{name} is in no layer: add a rule"


def violations(deps: dict[str, set[str]], layer: str, forbidden: tuple[str, ...]) -> list[str]:
    """``module imports target`` for every import of ``layer`` that ``forbidden`` names."""
    return [
        f"{module} imports {target}"
        for module, targets in sorted(deps.items())
        if _within(module, layer)
        for target in sorted(targets)
        if any(_within(target, prefix) for prefix in forbidden) and not _within(target, layer)
    ]


@pytest.mark.parametrize(("layer", "forbidden", "why"), RULES, ids=[r[0] for r in RULES])
def test_no_import_goes_the_wrong_way(layer: str, forbidden: tuple[str, ...], why: str) -> None:
    wrong = violations(graph(), layer, forbidden)
    assert not wrong, f"{why}:\n" + "\n".join(wrong)


def test_no_module_imports_itself_through_others() -> None:
    known = set(all_modules())
    deps = {module: targets & known for module, targets in graph().items()}
    cycle = find_cycle(deps)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def find_cycle(deps: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (a list of modules, first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(deps):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_checker_sees_lazy_and_type_only_imports(tmp_path: Path) -> None:
    bad = tmp_path / "spark_lsp" / "engine" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from spark_lsp.features import code_actions\n"
        "def f():\n    from lsprotocol import types\n    return types\n"
    )
    known = {"spark_lsp.features.code_actions": bad}
    deps = {"spark_lsp.engine.bad": set(imports_of("spark_lsp.engine.bad", bad, known))}
    engine_rule = next(rule for rule in RULES if rule[0] == "spark_lsp.engine")
    assert violations(deps, "spark_lsp.engine", engine_rule[1]) == [
        "spark_lsp.engine.bad imports lsprotocol",
        "spark_lsp.engine.bad imports spark_lsp.features",
        "spark_lsp.engine.bad imports spark_lsp.features.code_actions",
    ]


def test_the_language_server_never_reaches_the_model_server_engines() -> None:
    deps = graph()
    seen: set[str] = set()
    todo = list(LANGUAGE_SERVER_ROOTS)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(t for t in deps.get(module, ()) if t.startswith("spark_lsp"))
    reached = sorted(m for m in seen if any(_within(m, p) for p in MODEL_SERVER_ONLY))
    assert not reached, f"the language server would load {reached}"


def test_a_started_language_server_process_has_not_loaded_them() -> None:
    """The same, observed: build the server and its model runtime, then list what is loaded."""
    script = (
        "import sys\n"
        "from spark_lsp.app import create_server\n"
        "from spark_lsp.runtime import ModelRuntime\n"
        "server = create_server()\n"
        "ModelRuntime(server.settings, {}, [])\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert "spark_lsp.modelserver.embedded" in loaded  # the launcher is there...
    assert not [m for m in loaded if any(_within(m, p) for p in MODEL_SERVER_ONLY)]


def names_imported_from(package: str, layer: str) -> set[str]:
    """The names ``layer``'s modules import with ``from package import ...``."""
    found: set[str] = set()
    for name, path in all_modules(("spark_lsp",)).items():
        if _within(name, layer):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == package:
                    found.update(alias.name for alias in node.names)
    return found


def test_the_engine_uses_only_the_model_packages_public_names() -> None:
    """The layer rule sees modules; this sees names: the engine's are all in ``__all__``, and
    each of those is found at run time (the package loads them lazily, by a table)."""
    import spark_lsp.model

    used = names_imported_from("spark_lsp.model", "spark_lsp.engine")
    assert used, "the engine imports nothing from spark_lsp.model: is this test still needed?"
    assert used <= set(spark_lsp.model.__all__), sorted(used - set(spark_lsp.model.__all__))
    for name in spark_lsp.model.__all__:
        assert getattr(spark_lsp.model, name) is not None
