"""Exclusion rules (gitignore syntax, secrets files, settings) and secret redaction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spark_lsp.shared.privacy import (
    RECHECK_IGNORE_FILES_S,
    REDACTED,
    ExclusionPolicy,
    matches,
    redact_secrets,
    rules_from,
)


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        (["*.log"], "a/b/debug.log", True),
        (["/build"], "build/x.py", True),
        (["/build"], "src/build/x.py", None),
        (["build/"], "src/build/x.py", True),
        (["docs/**/*.md"], "docs/a/b/c.md", True),
        (["docs/**/*.md"], "docs/c.md", True),
        (["*.py", "!keep.py"], "src/keep.py", False),
        (["*.py", "!keep.py"], "src/other.py", True),
        (["# comment", ""], "x", None),
        (["secret?.txt"], "secret1.txt", True),
        (["[ab].txt"], "c.txt", None),
    ],
)
def test_gitignore_semantics(patterns: list[str], path: str, ignored: bool | None) -> None:
    assert matches(rules_from(patterns), path) is ignored


@pytest.mark.parametrize(
    "name", [".env", ".env.local", "server.pem", "tls.key", "id_rsa", "id_ed25519.pub",
             "credentials.json", ".npmrc"],
)
def test_builtin_secret_files_are_excluded(tmp_path: Path, name: str) -> None:
    policy = ExclusionPolicy(tmp_path)
    assert policy.reason(tmp_path / "sub" / name) is not None


def test_every_root_has_its_own_ignore_files_and_nested_roots_add_up(
    tmp_path: Path,
) -> None:
    outer, other = tmp_path / "outer", tmp_path / "other"
    inner = outer / "inner"
    for folder, pattern in ((outer, "*.gen.py\n"), (inner, "draft.py\n"), (other, "secret.py\n")):
        folder.mkdir(parents=True)
        (folder / ".sparkignore").write_text(pattern)
    policy = ExclusionPolicy([outer, other, inner])
    assert policy.root == outer.resolve()  # the first folder, as the client listed it
    ignored = "excluded by .gitignore/.sparkignore"
    assert policy.reason(other / "secret.py") == ignored
    assert policy.reason(outer / "secret.py") is None  # another folder's rule does not apply
    assert policy.reason(inner / "draft.py") == ignored
    assert policy.reason(inner / "x.gen.py") == ignored  # the outer folder's rule holds too
    assert policy.reason(outer / "draft.py") is None  # the inner one's does not reach out
    assert policy.reason(outer / "x.gen.py") == ignored
    assert policy.reason(tmp_path / "elsewhere" / "secret.py") is None  # in no folder


def test_ignore_files_and_setting(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n*.tmp\n")
    (tmp_path / ".sparkignore").write_text("private/**\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / ".gitignore").write_text("local_only.py\n")
    policy = ExclusionPolicy(tmp_path, ["vendor/*.js"])
    assert policy.reason(tmp_path / "generated" / "a.py")
    assert policy.reason(tmp_path / "x.tmp")
    assert policy.reason(tmp_path / "private" / "notes.py")
    assert policy.reason(tmp_path / "pkg" / "local_only.py")
    assert policy.reason(tmp_path / "vendor" / "lib.js") == "excluded by spark.context.exclude"
    assert policy.reason(tmp_path / "src" / "main.py") is None
    assert policy.reason(tmp_path / "pkg" / "main.py") is None


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "xoxb-1234567890-abcdefghij",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    ],
)
def test_known_token_shapes_are_redacted(secret: str) -> None:
    out = redact_secrets(f"value = call('{secret}')\n")
    assert secret not in out and REDACTED in out


def test_private_key_block_and_password_assignments() -> None:
    text = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\n"
        'DB_PASSWORD = "hunter2hunter2"\napi_key: 9f8e7d6c5b4a\n'
        "password = get_password()\n"
        "token: abc123def456\n"
    )
    out = redact_secrets(text)
    assert "MIIEabc" not in out and "hunter2hunter2" not in out and "9f8e7d6c5b4a" not in out
    assert "abc123def456" not in out  # a name with digits inside is a literal, not code
    assert "password = get_password()" in out  # code, not a secret


def test_ordinary_code_is_untouched() -> None:
    code = "def tokenize(text: str) -> list[str]:\n    return text.split()\n"
    assert redact_secrets(code) == code


def test_ignore_file_edits_apply_without_restart(tmp_path: Path) -> None:
    clock = [0.0]
    policy = ExclusionPolicy(tmp_path, timer=lambda: clock[0])
    draft = tmp_path / "draft.py"
    assert policy.reason(draft) is None
    (tmp_path / ".gitignore").write_text("draft.py\n")
    assert policy.reason(draft) is None  # checked at most once per interval...
    clock[0] += RECHECK_IGNORE_FILES_S
    assert policy.reason(draft) == "excluded by .gitignore/.sparkignore"  # ...then re-read
    (tmp_path / ".gitignore").write_text("# nothing ignored\n")
    os.utime(tmp_path / ".gitignore", ns=(1, 1))  # a different stamp, whatever the clock
    clock[0] += RECHECK_IGNORE_FILES_S
    assert policy.reason(draft) is None
    (tmp_path / ".gitignore").unlink()
    (tmp_path / ".sparkignore").write_text("draft.*\n")
    clock[0] += RECHECK_IGNORE_FILES_S
    assert policy.reason(draft) == "excluded by .gitignore/.sparkignore"


def test_git_info_exclude_and_directories(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch/\n")
    policy = ExclusionPolicy(tmp_path)
    assert policy.reason(tmp_path / "scratch", is_dir=True) is not None
    assert policy.reason(tmp_path / "scratch" / "a.py") is not None
    assert policy.reason(tmp_path / "scratch") is None  # a file named scratch is not the dir


def test_text_whose_lowercase_is_longer_is_still_redacted() -> None:
    text = "İstanbul = 1\nDB_PASSWORD=hunter2secret\nname = 'İ'\n"  # "İ".lower() is 2 chars
    assert redact_secrets(text) == "İstanbul = 1\nDB_PASSWORD=«redacted»\nname = 'İ'\n"


@pytest.mark.parametrize(
    "line",
    ["    token = req", "    api_key = os.env", "auth_token = self.tok", "    secret = compute"],
)
def test_the_cursor_marker_does_not_make_code_a_literal(line: str) -> None:
    # Typed up to the cursor, the value is code; with the marker inside it, it read as a
    # literal (the marker's "<|" is no name's), so the line and the marker were redacted and
    # the model was asked to complete a prompt without a cursor.
    from spark_lsp.shared.prompt_format import CURSOR

    assert redact_secrets(line + CURSOR + "\n") == line + CURSOR + "\n"
    assert redact_secrets(line + CURSOR + "x()\n") == line + CURSOR + "x()\n"


@pytest.mark.parametrize(
    "line", ['password = "hunter2', "password = hunter2", "DB_PASSWORD=s3cr3t-value"]
)
def test_a_literal_typed_up_to_the_cursor_is_still_redacted(line: str) -> None:
    from spark_lsp.shared.prompt_format import CURSOR

    out = redact_secrets(line + CURSOR + '"\n' if '"' in line else line + CURSOR + "\n")
    assert "hunter2" not in out and "s3cr3t" not in out and REDACTED in out
