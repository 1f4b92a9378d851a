"""The one way either process reads a file from the workspace: checked, bounded, never blocking.

A workspace is untrusted input. A committed symlink ``.sparkignore -> /dev/stdin`` made the
server read its own LSP input; ``-> /dev/zero`` grew memory until ``MemoryError``; a source file
swapped for a FIFO blocked the index thread (and with it the process's exit) for good. So every
read of a workspace file (ignore files, indexed sources, a document re-read when it closes)
comes through :func:`read_bytes`, which

- reads regular files only: the type is checked with ``stat`` before the file is opened (a
  device is never opened: opening some has side effects) and again with ``fstat`` on the open
  descriptor, which must be the very file that was checked (a swap in between is refused);
- opens with ``O_NONBLOCK`` (a FIFO that slips through cannot block the open) and, when the
  name is not itself a link, ``O_NOFOLLOW`` (a link swapped in after the check is refused);
- reads at most ``max_bytes + 1`` bytes, so a file that grows or lies about its size (``/proc``)
  is refused as too large instead of filling memory;
- follows a link only to a regular file, and, when ``inside`` is given, only to one inside that
  directory. Sources pass their workspace folder as ``inside``: their text may reach the model,
  and a link must not carry a file from elsewhere into a prompt. Ignore files pass None: their
  patterns are never sent, and refusing a ``.gitignore`` kept in a dotfiles repository would
  quietly un-ignore what it names (the leaky direction).

A missing file raises ``FileNotFoundError`` (callers treat it as absent); everything else that
cannot be read raises :class:`UnsafeFile` with a reason fit to show the user. Callers on the
event loop wrap the read in :func:`with_deadline`, which runs it on a daemon thread (one that
never holds up the process's exit) and gives up after a few seconds.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: How long a caller on the event loop waits for one read (a regular file on a hung network
#: mount is the only thing left that can take this long).
READ_DEADLINE_S = 3.0
_CHUNK = 64 * 1024


class UnsafeFile(OSError):
    """A file that exists but is not read: not a regular file, too large, a link out of the
    workspace, changed while being opened, or too slow. ``str()`` says which, in words."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path.name} is {why}")
        self.path = path
        self.why = why

    def __str__(self) -> str:
        return f"{self.path.name} is {self.why}"


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "of an unknown type")


def _missing(error: OSError) -> bool:
    return isinstance(error, FileNotFoundError | NotADirectoryError)


def read_bytes(path: Path, *, max_bytes: int, inside: Path | None = None) -> bytes:
    """The whole content of ``path`` if it is a regular file of at most ``max_bytes`` bytes.

    ``inside`` (a resolved directory): a link must lead to a file under it. Raises
    ``FileNotFoundError`` when nothing is there and :class:`UnsafeFile` for everything refused.
    """
    return read_with_status(path, max_bytes=max_bytes, inside=inside)[0]


def read_with_status(
    path: Path, *, max_bytes: int, inside: Path | None = None, follow_links: bool = True
) -> tuple[bytes, os.stat_result]:
    """:func:`read_bytes` plus the status of the file read (callers that remember a file by its
    size and mtime); ``follow_links=False`` refuses a link outright (the working-tree diff
    reads what git tracks, and git tracks the link, not its target)."""
    named = os.lstat(path)  # FileNotFoundError / NotADirectoryError: absent, the caller's call
    linked = stat.S_ISLNK(named.st_mode)
    if linked and not follow_links:
        raise UnsafeFile(path, "a link (not followed here)")
    try:
        checked = os.stat(path) if linked else named
    except OSError as exc:  # a dangling link, a link loop
        why = "a link loop" if exc.errno == errno.ELOOP else "a link to nothing readable"
        raise UnsafeFile(path, why) from exc
    if not stat.S_ISREG(checked.st_mode):
        raise UnsafeFile(path, f"not a regular file ({_kind(checked.st_mode)})")
    if inside is not None and not _within(path, inside):
        raise UnsafeFile(path, "a link to a file outside the workspace")
    if checked.st_size > max_bytes:
        raise UnsafeFile(path, f"larger than {max_bytes} bytes")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not linked:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if _missing(exc):
            raise
        raise UnsafeFile(path, f"unreadable ({exc.strerror or exc})") from exc
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
            raise UnsafeFile(path, "replaced while it was being opened")
        return _read_capped(fd, path, max_bytes), opened
    finally:
        os.close(fd)


def _read_capped(fd: int, path: Path, max_bytes: int) -> bytes:
    """Read to EOF, refusing the file once it passes ``max_bytes`` (it grew, or ``/proc``)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
        except BlockingIOError as exc:  # cannot happen for a regular file; refuse, never wait
            raise UnsafeFile(path, "not ready to be read") from exc
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise UnsafeFile(path, f"larger than {max_bytes} bytes")


def _within(path: Path, inside: Path) -> bool:
    """Whether the file ``path`` names (links followed) lies under ``inside``."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(inside)
    except (OSError, ValueError):
        return False


def read_text(path: Path, *, max_bytes: int, inside: Path | None = None) -> str:
    """:func:`read_bytes` decoded as UTF-8 (undecodable bytes replaced)."""
    return read_bytes(path, max_bytes=max_bytes, inside=inside).decode("utf-8", "replace")


def with_deadline(read: Callable[[], T], path: Path, seconds: float = READ_DEADLINE_S) -> T:
    """Run ``read`` on a daemon thread and wait at most ``seconds`` for it.

    For reads made from the event loop, where even a bounded read must not stall every other
    request. Past the deadline the read is abandoned (its thread ends whenever the read does and
    never holds up exit) and :class:`UnsafeFile` says the file was too slow.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(read())
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=run, name="spark-safe-read", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise UnsafeFile(path, f"too slow to read (more than {seconds:g} s)")
    if failure:
        raise failure[0]
    return outcome[0]
