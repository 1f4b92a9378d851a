"""The one safe read of a workspace file: regular files only, capped, never blocking."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from spark_lsp.shared.privacy import ExclusionPolicy
from spark_lsp.shared.safe_read import UnsafeFile, read_bytes, read_text, with_deadline

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev are POSIX")


def refusal(path: Path, max_bytes: int = 1024, inside: Path | None = None) -> str:
    with pytest.raises(UnsafeFile) as caught:
        read_bytes(path, max_bytes=max_bytes, inside=inside)
    return str(caught.value)


def test_a_small_regular_file_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"x = 1\n\xff")
    assert read_bytes(tmp_path / "a.py", max_bytes=7) == b"x = 1\n\xff"
    assert read_text(tmp_path / "a.py", max_bytes=7) == "x = 1\n\ufffd"


def test_a_missing_file_is_absent_not_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bytes(tmp_path / "nothing", max_bytes=10)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    assert refusal(tmp_path / "pipe.py") == "pipe.py is not a regular file (a FIFO)"


@pytest.mark.parametrize(
    ("target", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")]
)
def test_a_link_to_a_device_is_refused(tmp_path: Path, target: str, kind: str) -> None:
    (tmp_path / ".sparkignore").symlink_to(target)
    assert refusal(tmp_path / ".sparkignore") == f".sparkignore is not a regular file ({kind})"


def test_a_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_bytes(b"x" * 1025)
    assert refusal(tmp_path / "big.py") == "big.py is larger than 1024 bytes"


def test_a_file_that_says_it_is_empty_is_still_cut_at_the_cap() -> None:
    maps = Path("/proc/self/maps")  # st_size 0, yet kilobytes to read
    if not maps.exists():
        pytest.skip("no /proc")
    assert os.stat(maps).st_size == 0
    assert refusal(maps, max_bytes=16) == "maps is larger than 16 bytes"


def test_links_stay_inside_when_asked(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / "notes.py").write_text("far = 1\n")
    (ws / "real.py").write_text("near = 1\n")
    (ws / "far.py").symlink_to(outside / "notes.py")
    (ws / "near.py").symlink_to(ws / "real.py")
    (ws / "dir").symlink_to(outside, target_is_directory=True)
    inside = ws.resolve()
    assert read_bytes(ws / "near.py", max_bytes=64, inside=inside) == b"near = 1\n"
    far = refusal(ws / "far.py", inside=inside)
    assert far == "far.py is a link to a file outside the workspace"
    assert "outside the workspace" in refusal(ws / "dir" / "notes.py", inside=inside)
    assert read_bytes(ws / "far.py", max_bytes=64) == b"far = 1\n"  # no ``inside``: followed


def test_link_loops_and_dangling_links_are_refused(tmp_path: Path) -> None:
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    assert refusal(tmp_path / "loop.py") == "loop.py is a link loop"
    assert refusal(tmp_path / "gone.py") == "gone.py is a link to nothing readable"


def test_a_read_past_its_deadline_is_abandoned(tmp_path: Path) -> None:
    release = threading.Event()
    with pytest.raises(UnsafeFile, match="too slow to read"):
        with_deadline(lambda: release.wait(30), tmp_path / "slow", seconds=0.05)
    release.set()
    assert with_deadline(lambda: 42, tmp_path / "fast") == 42


def test_an_ignore_file_may_link_to_a_regular_file_anywhere(tmp_path: Path) -> None:
    """Its patterns are never sent, and refusing a dotfiles-managed .gitignore would quietly
    un-ignore what it names."""
    ws, dotfiles = tmp_path / "ws", tmp_path / "dotfiles"
    ws.mkdir()
    dotfiles.mkdir()
    (dotfiles / "gitignore").write_text("drafts/\n")
    (ws / ".gitignore").symlink_to(dotfiles / "gitignore")
    (ws / "drafts").mkdir()
    (ws / "drafts" / "plan.py").write_text("x = 1\n")
    assert ExclusionPolicy(ws).reason(ws / "drafts" / "plan.py") == (
        "excluded by .gitignore/.sparkignore"
    )
