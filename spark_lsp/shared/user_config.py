"""The user-level settings file: ``$XDG_CONFIG_HOME/spark-lsp/config.json``.

Settings that run a program or decide where the API key goes (``scope: machine`` in the schema)
must never come from a repository, and some editors forward a repository's own settings as the
``workspace/configuration`` answer (Eglot's ``.dir-locals.el``, for one). This file is the place
a person keeps them whatever the editor: it sits in their home directory, outside every
workspace, so a cloned repository cannot write it. It holds the same ``spark`` settings as any
other layer (nested, dotted or wrapped in ``"spark"``).

Reading it must never hang or exhaust the server, even if the path is something odd: only a
regular file is read, opened without blocking and without following a final symlink to a
device, and at most :data:`MAX_BYTES` of it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A settings file is a few hundred bytes; anything this large is not one.
MAX_BYTES = 1_000_000
APP_DIR = "spark-lsp"
FILE_NAME = "config.json"


@dataclass(frozen=True)
class UserConfig:
    """What the file held: ``layer`` is None when there is no file or it could not be used."""

    path: Path | None
    layer: Mapping[str, Any] | None = None
    problem: str | None = None


def user_config_path(env: Mapping[str, str]) -> Path | None:
    """Where the file is for this environment (XDG rules), or None without a home."""
    base = env.get("XDG_CONFIG_HOME", "").strip()
    if base and os.path.isabs(base):
        return Path(base) / APP_DIR / FILE_NAME
    home = env.get("HOME", "").strip()
    return Path(home) / ".config" / APP_DIR / FILE_NAME if home else None


def read_user_config(env: Mapping[str, str]) -> UserConfig:
    """Read and parse the file; a missing file is no problem, a broken one is one message."""
    path = user_config_path(env)
    if path is None:
        return UserConfig(None)
    try:
        raw = _read_regular(path)
    except FileNotFoundError:
        return UserConfig(path)
    except OSError as exc:
        return UserConfig(path, problem=f"cannot read {path}: {exc.strerror or exc}")
    if raw is None:
        return UserConfig(path, problem=f"ignored {path}: not a regular file of at most 1 MB")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return UserConfig(path, problem=f"ignored {path}: not valid JSON ({exc})")
    if not isinstance(data, dict):
        return UserConfig(path, problem=f"ignored {path}: expected a JSON object")
    return UserConfig(path, data)


def _read_regular(path: Path) -> bytes | None:
    """The file's bytes, or None when it is not a regular file or is too large."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: a FIFO put here must not block the open
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        chunks: list[bytes] = []
        remaining = MAX_BYTES + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 65536))):
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > MAX_BYTES else data
    finally:
        os.close(fd)
