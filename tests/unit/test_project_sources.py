"""The workspace index and the project sources, without a server."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.sources import definitions, imports, repomap
from spark_lsp.engine.sources.diff import Hunk, hunk_text, parse_diff
from spark_lsp.engine.sources.index import WorkspaceIndex
from spark_lsp.engine.sources.near import names_near
from spark_lsp.engine.sources.project import SOURCES, allocations
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.shared.privacy import ExclusionPolicy


def count(text: str) -> int:
    return len(text) // 4 + 1


def workspace(root: Path, files: dict[str, str]) -> WorkspaceIndex:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    policy = ExclusionPolicy(root)
    index = WorkspaceIndex(root.resolve(), policy.reason)
    index.build()
    return index


FILES = {
    "shop/__init__.py": "",
    "shop/pricing.py": "def compute_discount(order, rate):\n    return order.total * rate\n",
    "shop/models.py": "class Cart:\n    def add(self, sku):\n        pass\n",
    "src/lib/util.ts": "export function clamp(x: number): number { return x }\n",
    "web/app.ts": "import { clamp } from '../src/lib/util';\n",
    "node_modules/dep/index.js": "function vendored() {}\n",
    "generated/out.py": "def generated_thing():\n    pass\n",
    ".gitignore": "generated/\n",
    ".env.py": "def secret():\n    pass\n",
}


def test_the_index_skips_dependencies_ignored_and_secret_files(tmp_path: Path) -> None:
    index = workspace(tmp_path, FILES)
    assert sorted(f.relative for f in index.files()) == [
        "shop/__init__.py", "shop/models.py", "shop/pricing.py", "src/lib/util.ts", "web/app.ts"]
    assert index.definitions("generated_thing") == [] and index.definitions("vendored") == []
    assert [d.file.relative for d in index.definitions("compute_discount")] == ["shop/pricing.py"]


def test_imports_resolve_modules_relative_imports_and_script_paths(tmp_path: Path) -> None:
    index = workspace(tmp_path, FILES)
    assert index.resolve_import("shop.pricing", "app.py") == "shop/pricing.py"
    assert index.resolve_import(".models", "shop/pricing.py") == "shop/models.py"
    assert index.resolve_import("shop", "app.py") == "shop/__init__.py"
    assert index.resolve_import("../src/lib/util", "web/app.ts") == "src/lib/util.ts"
    assert index.resolve_import("lib.util", "x.py") == "src/lib/util.ts"  # src/ layouts
    assert index.resolve_import("nowhere.at_all", "app.py") is None


def test_refresh_costs_one_file_and_follows_mtime(tmp_path: Path) -> None:
    index = workspace(tmp_path, FILES)
    generation = index.generation
    assert index.refresh("shop/pricing.py")  # unchanged on disk: nothing re-read
    assert index.generation == generation
    path = tmp_path / "shop/pricing.py"
    path.write_text("def compute_discount(order, rate, coupon=None):\n    pass\n")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert index.refresh("shop/pricing.py")
    (found,) = index.definitions("compute_discount")
    assert found.symbol.signature == "def compute_discount(order, rate, coupon=None):"
    index.refresh("shop/pricing.py", text="def renamed():\n    pass\n")  # an unsaved buffer
    assert index.definitions("compute_discount") == [] and index.defines("renamed")
    path.unlink()
    assert not index.refresh("shop/pricing.py") and not index.defines("renamed")


def test_definitions_prefer_imports_and_skip_ambiguous_names(tmp_path: Path) -> None:
    files = {f"pkg{i}/mod.py": "def run(x):\n    pass\n" for i in range(4)}
    files["helpers.py"] = "def unique_helper(a, b):\n    pass\n"
    index = workspace(tmp_path, files)
    doc = DocumentIndex("x = unique_helper(1, 2)\nrun(x)\ny = x.\n", TokenCounter())
    near = names_near(doc, 2)
    found = dict(definitions.resolve(index, near, [], set(), "main.py"))
    assert [d.file.relative for d in found["unique_helper"]] == ["helpers.py"]
    assert found["run"] == []  # four definitions, none imported: left out, not guessed
    preferred = dict(definitions.resolve(index, near, ["pkg2/mod.py"], set(), "main.py"))
    assert [d.file.relative for d in preferred["run"]] == ["pkg2/mod.py"]
    result = definitions.render(list(found.items()), 500, count)
    assert "--- helpers.py (language: python) ---\ndef unique_helper(a, b):" in result.text
    assert result.resolved == 1 and result.referenced == 2


def test_the_budget_cuts_whole_entries(tmp_path: Path) -> None:
    files = {f"m{i}.py": f"def function_{i}(argument_{i}):\n    pass\n" for i in range(50)}
    index = workspace(tmp_path, files)
    text, used = repomap.render(index, Counter({"function_7": 1}), [], None, 60, count,
                                lambda _: None)
    assert used <= 60 and "def function_7(argument_7):" in text
    assert text.splitlines()[1] == "--- m7.py (language: python) ---"  # referenced: first
    summary, _, shown = imports.render(index, ["m3.py"], 100, count, lambda _: None)
    assert "def function_3(argument_3):" in summary and ("m3.py", "function_3") in shown


UNIFIED = """diff --git a/billing.py b/billing.py
index 1..2 100644
--- a/billing.py
+++ b/billing.py
@@ -1,2 +1,3 @@
-def invoice(amount):
+def invoice(amount, currency):
+    --- not a header, code that starts with dashes
+    ++counter
+++ added line that starts with two pluses
@@ -10 +11,0 @@
-old_line()
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
"""


def test_diff_hunks_become_new_text_without_markers() -> None:
    hunks = parse_diff(UNIFIED)
    assert hunks == [
        Hunk("billing.py", 1, ("def invoice(amount, currency):",
                               "    --- not a header, code that starts with dashes",
                               "    ++counter", "++ added line that starts with two pluses"), 1),
        Hunk("billing.py", 11, (), 1),
    ]
    assert hunk_text(hunks[0]).splitlines() == [
        "--- billing.py (language: python, lines 1-4 now read, replacing 1 line(s)) ---",
        "def invoice(amount, currency):",  # the code as it reads, the marker column gone
        "    --- not a header, code that starts with dashes",
        "    ++counter",
        "++ added line that starts with two pluses",
    ]
    assert hunk_text(hunks[1]) == (
        "--- billing.py (language: python, 1 line(s) removed after line 11) ---\n")


def test_source_budgets_are_shares_in_priority_order() -> None:
    assert [name for name, _ in allocations(True, 1000)] == ["imports", "diff", "map"]
    assert sum(share for _, share in allocations(True, 1000)) <= 1000
    assert {s.name for s in SOURCES if not s.stable} == {"definitions", "recent"}


@pytest.mark.parametrize("line", [0, 2])
def test_near_names_are_ordered_by_distance(line: int) -> None:
    doc = DocumentIndex("alpha_value = 1\nbeta_value = 2\ngamma_value = alpha_value\n",
                        TokenCounter())
    near = names_near(doc, line)
    assert near.names[0] == ("alpha_value" if line == 0 else "gamma_value")
    assert "self" not in near.names


async def test_the_diff_of_a_workspace_inside_a_repository_is_relative_to_it(
    tmp_path: Path,
) -> None:
    import subprocess

    from spark_lsp.engine.sources.diff import WorkingTreeDiff

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, capture_output=True)

    (tmp_path / "web").mkdir()
    (tmp_path / "web/app.py").write_text("x = 1\n")
    (tmp_path / "other.py").write_text("y = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    (tmp_path / "web/app.py").write_text("x = 2\n")
    (tmp_path / "other.py").write_text("y = 2\n")
    diff = WorkingTreeDiff(tmp_path / "web")
    await diff.refresh()
    assert diff.hunks == [Hunk("app.py", 1, ("x = 2",), 1)]  # not web/app.py, not other.py


def test_the_map_leaves_out_files_shown_whole_elsewhere(tmp_path: Path) -> None:
    index = workspace(tmp_path, FILES)
    everything, _ = repomap.render(index, Counter(), [], None, 10_000, count, lambda _: None)
    assert "shop/pricing.py" in everything
    text, _ = repomap.render(
        index, Counter(), [], None, 10_000, count, lambda _: None, skip={"shop/pricing.py"}
    )
    assert "shop/pricing.py" not in text and "shop/models.py" in text
