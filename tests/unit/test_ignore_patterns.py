"""Ignore patterns: linear-time matching, malformed lines refused, decisions under a budget."""

from __future__ import annotations

import logging
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spark_lsp.shared.ignore_patterns import (
    BudgetExceeded,
    InvalidPattern,
    compile_glob,
    time_budget,
)
from spark_lsp.shared.privacy import ExclusionPolicy, matches, rules_from

HOSTILE = [
    ("*a" * 13 + "*b", "a" * 40),
    ("**/" * 30 + "x", "/".join(["d"] * 60) + "/y"),
    ("a*" * 200 + "b", "a" * 3000),
]


@pytest.mark.parametrize(("line", "name"), HOSTILE, ids=["stars", "double-stars", "long"])
def test_a_hostile_ignore_line_is_decided_promptly(tmp_path: Path, line: str, name: str) -> None:
    """In a child process, so a backtracking matcher fails the test instead of hanging it."""
    (tmp_path / ".sparkignore").write_text(line + "\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text(line + "\n", encoding="utf-8")
    code = (
        "import sys; from pathlib import Path\n"
        "from spark_lsp.shared.privacy import ExclusionPolicy\n"
        "root = Path(sys.argv[1])\n"
        "print(ExclusionPolicy(root).reason(root / sys.argv[2]))\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path), name],
                              capture_output=True, text=True, timeout=30, check=True)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{line[:30]!r} hung the exclusion check") from None
    assert done.stdout.strip() == "None"


@pytest.mark.parametrize("line", ["[z-a].py", "[!]", "x[", "[]"])
def test_malformed_lines_are_reported_once_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, line: str
) -> None:
    (tmp_path / ".gitignore").write_text(f"*.log\n{line}\n", encoding="utf-8")
    policy = ExclusionPolicy(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert policy.reason(tmp_path / "a.log") is not None  # the good line still applies
        assert policy.reason(tmp_path / "b.py") is None
        assert policy.reason(tmp_path / "sub" / "c.py") is None
    warnings = [r.getMessage() for r in caplog.records if "ignore" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert f"{tmp_path / '.gitignore'}:2" in warnings[0]


def test_a_decision_past_its_budget_fails_closed(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    matcher = compile_glob("*.log", anchored=False)
    with time_budget(-1), pytest.raises(BudgetExceeded):
        matcher.match("a.log")
    policy = ExclusionPolicy(tmp_path, budget_s=-1)
    reason = policy.reason(tmp_path / "main.py")
    assert reason is not None and "too long" in reason


def _reference(glob: str, anchored: bool) -> re.Pattern[str]:
    """The regex translation the matcher replaces (fine on tiny inputs): the oracle."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{''.join(out)}(?:/.*)?$")


def test_matches_what_the_regex_translation_matched() -> None:
    rng = random.Random(15)
    pieces = ["a", "b", "/", "*", "?", "**/", "*", "a"]
    for _ in range(3000):
        glob = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))).strip("/") or "a"
        if glob.endswith("/**"[:2]):
            glob += "/**"
        path = "".join(rng.choice("ab/") for _ in range(rng.randint(1, 8))).strip("/") or "a"
        for anchored in (True, False):
            expected = bool(_reference(glob, anchored).match(path))
            assert compile_glob(glob, anchored).match(path) == expected, (glob, path, anchored)


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [("[a-c]x", "bx", True), ("[!a-c]x", "bx", False), ("[!a-c]x", "dx", True),
     ("[]]x", "]x", True), ("[ab]", "a/", True), ("a[/]b", "a/b", False)],
)
def test_character_classes(glob: str, path: str, hit: bool) -> None:
    assert compile_glob(glob, anchored=True).match(path) is hit


def test_invalid_globs_say_why() -> None:
    with pytest.raises(InvalidPattern, match="reversed"):
        compile_glob("[z-a]", anchored=False)
    with pytest.raises(InvalidPattern, match="never closed"):
        compile_glob("[!]", anchored=False)
    assert matches(rules_from(["[z-a]", "*.txt"]), "x.txt") is True
