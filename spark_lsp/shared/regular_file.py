"""Read a file only if it is a regular file of bounded size, without ever blocking.

A path the server reads can be something else by the time it is opened: a FIFO (whose ``open``
and ``read`` wait for a writer that never comes), ``/dev/zero`` behind a symlink (endless), a
directory. Opening with ``O_NONBLOCK`` cannot hang, ``fstat`` on the opened descriptor says what
it really is (no race between a check and the open), and the read stops at the cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_regular(
    path: Path, max_bytes: int, *, follow_symlinks: bool = True
) -> tuple[bytes, os.stat_result] | None:
    """The bytes and status of ``path``, or None when it is not a regular file of at most
    ``max_bytes``. OSError when it cannot be opened (missing, a symlink without
    ``follow_symlinks``, no permission)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes and (chunk := os.read(fd, min(max_bytes + 1 - size, 65536))):
            chunks.append(chunk)
            size += len(chunk)
        return (b"".join(chunks), info) if size <= max_bytes else None
    finally:
        os.close(fd)
