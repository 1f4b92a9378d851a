"""The directories no workspace walk enters, whoever walks (the language server's project
index, the bundled model server's corpus): one list, so the two never disagree about what is
source.

Dependencies, build output, caches and version-control data are never what the user is
writing, are often huge, and a walk into them would spend its file budget there. Hidden
directories are skipped as well: they are tool state or secrets (``.ssh``, ``.aws``).
"""

from __future__ import annotations

from typing import Final

SKIPPED_DIRECTORIES: Final = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "dist",
        "build",
        "target",
        "out",
        ".next",
        ".cache",
    }
)


def skipped_directory(name: str) -> bool:
    """Whether a walk skips a directory called ``name`` (hidden, or on the list)."""
    return name.startswith(".") or name in SKIPPED_DIRECTORIES
