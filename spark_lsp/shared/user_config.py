"""The user-level settings file: ``$XDG_CONFIG_HOME/spark-lsp/config.json``.

Settings that run a program or decide where the API key goes (``scope: machine`` in the schema)
must never come from a repository, and some editors forward a repository's own settings as the
``workspace/configuration`` answer (Eglot's ``.dir-locals.el``, for one). This file is the place
a person keeps them whatever the editor: it sits in their home directory, outside every
workspace, so a cloned repository cannot write it. It holds the same ``spark`` settings as any
other layer (nested, dotted or wrapped in ``"spark"``).

Reading it must never hang or exhaust the server, even if the path is something odd: only a
regular file is read, opened without blocking, and at most :data:`MAX_BYTES` of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spark_lsp.shared.safe_read import UnsafeFile, read_bytes

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
        raw = read_bytes(path, max_bytes=MAX_BYTES)
    except FileNotFoundError:
        return UserConfig(path)
    except UnsafeFile as exc:
        return UserConfig(path, problem=f"ignored {path}: {exc} (a regular file of at most 1 MB)")
    except OSError as exc:
        return UserConfig(path, problem=f"cannot read {path}: {exc.strerror or exc}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return UserConfig(path, problem=f"ignored {path}: not valid JSON ({exc})")
    if not isinstance(data, dict):
        return UserConfig(path, problem=f"ignored {path}: expected a JSON object")
    return UserConfig(path, data)
