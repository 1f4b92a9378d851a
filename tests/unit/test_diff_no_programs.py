"""The working-tree diff runs no program a repository names in its ``.git/config``.

A repository that arrives as an archive (or a ``.git/config`` any tool wrote) can name programs
that ``git diff`` would run: an fsmonitor hook, a clean/smudge/process filter, a textconv
driver, an external diff, a pager. Each test configures one of them to write a marker file,
changes a tracked file, and reads the diff: the change is seen, the marker never appears.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from spark_lsp.engine.sources.diff import Hunk, WorkingTreeDiff, parse_diff

ORIGINAL = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
CHANGED = "def add(a, b):\n    return a + b + 0\n\n\ndef sub(a, b):\n    return a - b\n"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=True, text=True
    )
    return done.stdout


def repository(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "calc.py").write_text(ORIGINAL)
    git(root, "add", "calc.py")
    git(root, "commit", "-q", "-m", "one")
    return root


def hunks_of(root: Path) -> list[Hunk]:
    diff = WorkingTreeDiff(root)
    asyncio.run(diff.refresh())
    return diff.hunks


def marker_writer(tmp_path: Path, marker: Path) -> str:
    """A script that records its run and passes its input through (a harmless filter)."""
    script = tmp_path / "hostile.sh"
    script.write_text(f'#!/bin/sh\ntouch {shlex.quote(str(marker))}\ncat "$@"\n')
    script.chmod(0o755)
    return str(script)


MECHANISMS = {
    # name: (git config entries, .gitattributes line or None)
    "fsmonitor": ({"core.fsmonitor": "{script}"}, None),
    "textconv": ({"diff.evil.textconv": "{script}"}, "*.py diff=evil"),
    "clean-filter": ({"filter.evil.clean": "{script}"}, "*.py filter=evil"),
    "smudge-filter": ({"filter.evil.smudge": "{script}"}, "*.py filter=evil"),
    "process-filter": ({"filter.evil.process": "{script}"}, "*.py filter=evil"),
    "external-diff": ({"diff.external": "{script}"}, None),
    "diff-driver-command": ({"diff.evil.command": "{script}"}, "*.py diff=evil"),
    "pager": ({"core.pager": "{script}", "pager.diff": "{script}"}, None),
}


@pytest.mark.parametrize("mechanism", list(MECHANISMS))
def test_no_repository_configured_program_runs(tmp_path: Path, mechanism: str) -> None:
    root = repository(tmp_path / "repo")
    marker = tmp_path / "ran"
    script = marker_writer(tmp_path, marker)
    entries, attributes = MECHANISMS[mechanism]
    for key, value in entries.items():
        git(root, "config", key, value.format(script=script))
    if attributes is not None:
        (root / ".gitattributes").write_text(attributes + "\n")
    (root / "calc.py").write_text(CHANGED)
    # Racy-clean entries are what make git re-read (and filter) a file: make calc.py one.
    os.utime(root / "calc.py", (1, 1))
    hunks = hunks_of(root)
    assert not marker.exists(), f"{mechanism} ran a program from .git/config"
    assert Hunk("calc.py", 2, ("    return a + b + 0",), 1) in hunks


def lines(n: int, tag: str = "line") -> str:
    return "".join(f"{tag} {i}\n" for i in range(1, n + 1))


def test_hunks_match_what_git_diff_reports(tmp_path: Path) -> None:
    """Replaced, inserted and deleted lines, a staged new file, a deleted file, a subdirectory
    workspace: the same hunks ``git diff --unified=0 --relative HEAD`` gives."""
    root = repository(tmp_path / "repo")
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text(lines(30))
    (pkg / "gone.py").write_text(lines(3))
    (pkg / "data.bin").write_bytes(b"\x00\x01binary\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "two")
    text = lines(30).replace("line 5\n", "line five\nline five and a half\n")
    text = text.replace("line 12\nline 13\n", "").replace("line 30\n", "line 30\nline 31\n")
    (pkg / "a.py").write_text(text)
    (pkg / "gone.py").unlink()
    (pkg / "new.py").write_text("x = 1\ny = 2\n")
    (pkg / "data.bin").write_bytes(b"\x00\x02binary\n")
    git(root, "add", "pkg/new.py")
    (pkg / "untracked.py").write_text("z = 3\n")
    expected = parse_diff(
        git(pkg, "diff", "--no-color", "--no-ext-diff", "--unified=0", "--relative", "HEAD")
    )
    assert expected  # the scenario has changes
    assert hunks_of(pkg) == expected


def test_a_workspace_without_commits_or_git_has_no_diff(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert hunks_of(tmp_path / "plain") == []
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "a.py").write_text("x = 1\n")
    assert hunks_of(empty) == []


def test_a_tracked_path_swapped_for_a_fifo_or_symlink_is_skipped(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo")
    (root / "other.py").write_text("a = 1\n")
    git(root, "add", "other.py")
    git(root, "commit", "-q", "-m", "two")
    (root / "calc.py").unlink()
    os.mkfifo(root / "calc.py")
    (root / "other.py").unlink()
    (root / "other.py").symlink_to("/dev/zero")
    assert hunks_of(root) == []  # returns at all: neither blocked on the FIFO nor read /dev/zero


def test_changed_text_kept_per_refresh_is_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spark_lsp.engine.sources import worktree

    root = repository(tmp_path / "repo")
    for n in range(5):
        (root / f"f{n}.txt").write_text(lines(50, f"old {n}"))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "two")
    for n in range(5):
        (root / f"f{n}.txt").write_text(lines(50, f"new {n}"))
    size = len(lines(50, "new 0"))
    monkeypatch.setattr(worktree, "MAX_CHANGED_BYTES", 2 * size + 10)
    assert {h.path for h in hunks_of(root)} == {"f0.txt", "f1.txt"}
