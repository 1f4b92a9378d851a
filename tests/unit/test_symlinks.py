"""Symlinks: exclusion and secret checks apply to what a link points at, and the bundled
model's index never follows a link out of the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp.modelserver.engines.local import workspace_files
from spark_lsp.shared.privacy import ExclusionPolicy


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / ".env").write_text("API_KEY=hunter2\n", encoding="utf-8")
    (outside / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n", encoding="utf-8")
    (outside / "notes.py").write_text("x = 1\n", encoding="utf-8")
    (ws / "secrets").mkdir()
    (ws / "secrets" / "prod.py").write_text("TOKEN = 1\n", encoding="utf-8")
    (ws / ".gitignore").write_text("secrets/\n", encoding="utf-8")
    (ws / "main.py").write_text("print(1)\n", encoding="utf-8")
    (ws / "settings.py").symlink_to(outside / ".env")
    (ws / "helpers.py").symlink_to(outside / "id_ed25519")
    (ws / "config.py").symlink_to(ws / "secrets" / "prod.py")
    (ws / "elsewhere.py").symlink_to(outside / "notes.py")
    (ws / ".env").write_text("DB_PASSWORD=hunter2\n", encoding="utf-8")
    (ws / "data.py").symlink_to(ws / ".env")
    return ws


@pytest.mark.parametrize("name", ["settings.py", "helpers.py", "config.py", "data.py"])
def test_a_link_with_an_innocent_name_is_judged_by_its_target(tree: Path, name: str) -> None:
    assert ExclusionPolicy(tree).reason(tree / name) is not None


def test_the_index_reads_no_link_target_that_is_secret_ignored_or_outside(tree: Path) -> None:
    names = {p.name for p in workspace_files(tree)} - {".gitignore"}
    assert names == {"main.py"}
