"""What changed since the last commit, read so that git runs no program the repository names.

``git diff`` runs programs from the repository's own ``.git/config``: the ``core.fsmonitor``
hook, clean and long-running ``process`` filters (on the working tree), ``textconv`` drivers, and
(unless told not to) external diffs and a pager. A repository that arrives as an archive, or a
config written by any tool, could make the language server run anything. So the diff is built
from plumbing that runs none of them:

- ``git ls-tree -r -l HEAD`` and ``git ls-files -s``: paths and blob ids (no working-tree
  access, so no filter; ``core.fsmonitor`` is overridden anyway);
- ``git cat-file --batch``: the committed blobs' bytes, raw (only ``--filters``/``--textconv``
  would convert them);
- the working-tree files read here: regular files only, never through a symlink, size-capped;
- ``difflib`` for the changed lines.

Each git command is bounded (deadline, output cap, its process group killed on either), and
lazy fetching in partial clones is off, so a missing blob cannot start a network helper.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spark_lsp.shared.bounded_run import RunTimeout, run_bounded
from spark_lsp.shared.safe_read import read_with_status

log = logging.getLogger(__name__)

#: Files larger than this (committed or in the working tree) are left out of the diff.
MAX_FILE_BYTES = 1_000_000
#: Committed text read per refresh, and changed working-tree text kept per refresh, at most
#: (a checkout where everything changed must not hold the whole tree in memory).
MAX_BLOB_BYTES = 8_000_000
MAX_CHANGED_BYTES = 8_000_000
#: Output of a listing (ls-tree/ls-files): a repository of about 200k files.
MAX_LISTING_BYTES = 32_000_000
GIT_TIMEOUT_S = 10.0
#: Git looks for NUL in the first 8000 bytes to call a file binary; so do we.
BINARY_PROBE = 8000

#: Overrides that switch off every mechanism that could start a program while listing and
#: reading objects (belt and braces: the commands used never filter or page).
SAFE_CONFIG = (
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "core.pager=cat",
    "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=",
)
_GIT_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",  # never rewrite the index from a background reader
    "GIT_NO_LAZY_FETCH": "1",  # a partial clone's missing blob stays missing
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
}
_REGULAR_MODES = frozenset({"100644", "100755"})


@dataclass(frozen=True, slots=True)
class Hunk:
    """One changed place: the new lines starting at ``first`` (1-based), and removals."""

    path: str
    first: int
    new_lines: tuple[str, ...]
    removed: int


@dataclass(frozen=True, slots=True)
class _Seen:
    """A working-tree file found unchanged, by its stat and the blob it was compared with."""

    size: int
    mtime_ns: int
    inode: int
    head_oid: str


def _git(root: Path, *args: str, stdin: bytes | None = None, cap: int) -> bytes | None:
    """Run ``git`` in ``root`` safely; its stdout, or None when it failed or overflowed."""
    command = ["git", "--no-pager", "--no-optional-locks", *SAFE_CONFIG, *args]
    try:
        done = run_bounded(
            command,
            timeout=GIT_TIMEOUT_S,
            max_output=cap,
            stdin=stdin,
            cwd=root,
            env={**os.environ, **_GIT_ENV},
        )
    except OSError as exc:
        log.debug("no working-tree diff: git %s could not run (%s)", args[0], exc)
        return None
    except RunTimeout:
        log.debug("no working-tree diff: git %s took over %.0f s", args[0], GIT_TIMEOUT_S)
        return None
    if done.returncode != 0 or done.truncated:
        return None
    return done.stdout


def _records(output: bytes) -> Iterator[tuple[str, str]]:
    """``-z`` listing records as (fields before the tab, path)."""
    for record in output.split(b"\0"):
        if b"\t" in record:
            meta, _, path = record.partition(b"\t")
            yield meta.decode("ascii", "replace"), os.fsdecode(path)


def head_blobs(root: Path) -> dict[str, tuple[str, int]] | None:
    """Regular files of HEAD under ``root`` (relative path -> blob id, size); None: no HEAD."""
    output = _git(root, "ls-tree", "-r", "-l", "-z", "HEAD", cap=MAX_LISTING_BYTES)
    if output is None:
        return None
    blobs = {}
    for meta, path in _records(output):
        mode, kind, oid, size = meta.split()
        if kind == "blob" and mode in _REGULAR_MODES and size.isdigit():
            blobs[path] = (oid, int(size))
    return blobs


def index_paths(root: Path) -> set[str] | None:
    """Paths in the index under ``root`` (what ``git diff HEAD`` compares)."""
    output = _git(root, "ls-files", "-s", "-z", cap=MAX_LISTING_BYTES)
    if output is None:
        return None
    return {path for meta, path in _records(output) if meta.split()[0] in _REGULAR_MODES}


def read_blobs(root: Path, wanted: dict[str, int]) -> dict[str, bytes]:
    """The raw bytes of blobs (id -> known size), read with ``cat-file --batch`` (no filter)."""
    if not wanted:
        return {}
    request = "".join(f"{oid}\n" for oid in wanted).encode("ascii")
    cap = sum(wanted.values()) + 200 * len(wanted)
    output = _git(root, "cat-file", "--batch", stdin=request, cap=cap)
    blobs: dict[str, bytes] = {}
    position = 0
    while output is not None and position < len(output):
        end = output.find(b"\n", position)
        if end < 0:
            break
        header = output[position:end].split()
        position = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "<id> missing": nothing follows
        size = int(header[2])
        blobs[header[0].decode("ascii")] = output[position : position + size]
        position += size + 1
    return blobs


def read_working_file(path: Path) -> tuple[bytes, os.stat_result] | None:
    """A working-tree file's bytes if it is a regular file within the cap (never through a
    symlink, never a FIFO or device)."""
    try:
        return read_with_status(path, max_bytes=MAX_FILE_BYTES, follow_links=False)
    except OSError:
        return None


def blob_id(data: bytes, oid_length: int) -> str:
    """The id git gives ``data`` as a blob (SHA-1, or SHA-256 in a SHA-256 repository)."""
    digest = hashlib.sha256() if oid_length == 64 else hashlib.sha1()  # noqa: S324 (git's id)
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def _lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def hunks_between(path: str, old: bytes, new: bytes) -> list[Hunk]:
    """The changed places of ``path``, numbered like ``git diff --unified=0``'s new side."""
    if _binary(old) or _binary(new):
        return []  # git says only "Binary files differ"
    if b"\r\n" in new and b"\r" not in old:
        new = new.replace(b"\r\n", b"\n")  # checked out with CRLF line ends (autocrlf)
    before, after = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, before, after)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # A pure removal is placed after the line that precedes it, as git numbers it.
        first = j1 if j1 == j2 else j1 + 1
        hunks.append(Hunk(path, first, tuple(after[j1:j2]), i2 - i1))
    return hunks


class ChangeReader:
    """Reads the working tree's changes against HEAD, remembering files found unchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, _Seen] = {}

    def read(self) -> list[Hunk]:
        """Every hunk of the tracked files under the root; [] without git or a commit."""
        head = head_blobs(self.root)
        tracked = index_paths(self.root) if head is not None else None
        if head is None or tracked is None:
            return []
        changed: dict[str, bytes] = {}  # path -> working-tree bytes
        budget = MAX_CHANGED_BYTES
        for path in sorted(tracked):
            working = self._changed_file(path, head.get(path))
            if working is not None and len(working) <= budget:
                changed[path] = working
                budget -= len(working)
        self._seen = {p: s for p, s in self._seen.items() if p in tracked}
        return list(self._hunks(changed, head))

    def _changed_file(self, path: str, entry: tuple[str, int] | None) -> bytes | None:
        """The file's bytes when it differs from HEAD (or is new), else None."""
        full = self.root / path
        seen = self._seen.get(path)
        if seen is not None and entry is not None:
            try:
                info = os.lstat(full)
            except OSError:
                return None
            if (info.st_size, info.st_mtime_ns, info.st_ino, entry[0]) == (
                seen.size, seen.mtime_ns, seen.inode, seen.head_oid
            ):
                return None
        read = read_working_file(full)
        if read is None:
            return None  # deleted, not a regular file, or too large: no text to show
        data, info = read
        if entry is not None and blob_id(data, len(entry[0])) == entry[0]:
            self._seen[path] = _Seen(info.st_size, info.st_mtime_ns, info.st_ino, entry[0])
            return None
        self._seen.pop(path, None)
        return data

    def _hunks(self, changed: dict[str, bytes], head: dict[str, tuple[str, int]]) -> Iterable[Hunk]:
        wanted: dict[str, int] = {}
        budget = MAX_BLOB_BYTES
        for path in changed:
            if path in head and head[path][1] <= min(MAX_FILE_BYTES, budget):
                wanted[head[path][0]] = head[path][1]
                budget -= head[path][1]
        blobs = read_blobs(self.root, wanted)
        for path, working in changed.items():
            if path not in head:
                yield from hunks_between(path, b"", working)
            elif head[path][0] in blobs:
                yield from hunks_between(path, blobs[head[path][0]], working)
