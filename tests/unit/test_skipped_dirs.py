"""One skip list for both workspace walkers: the project index and the bundled model server's
corpus agree on which directories are not source."""

from __future__ import annotations

from pathlib import Path

from spark_lsp.engine.sources.index import WorkspaceIndex
from spark_lsp.modelserver.engines.local import workspace_files

SKIPPED = ("node_modules", "dist", "target", "build", "out", ".tox", ".venv", "__pycache__")


def tree(root: Path) -> Path:
    """A source file at the top and a copy in every directory no walk should enter."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def app():\n    return 1\n")
    for name in SKIPPED:
        (root / name).mkdir()
        (root / name / "generated.py").write_text("def generated():\n    return 2\n")
    return root


def test_both_walkers_skip_the_same_directories(tmp_path: Path) -> None:
    root = tree(tmp_path / "ws").resolve()
    index = WorkspaceIndex(root, lambda path: None)
    index.build()
    assert [f.relative for f in index.files()] == ["src/app.py"]
    assert [p.relative_to(root).as_posix() for p in workspace_files(root)] == ["src/app.py"]
