"""What may never reach the model: excluded files and secret-looking strings.

A user must be able to trust that a ``.env`` file or a private key is never sent anywhere, so
exclusion is decided per file before any request is made (gitignore syntax, the same rules git
uses, from ``.gitignore`` files, a root ``.sparkignore``, built-in secret patterns and the
``spark.context.exclude`` setting), and every text that does go out is scrubbed of well-known
credential shapes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from spark_lsp.ignore_patterns import (
    BudgetExceeded,
    GlobMatcher,
    InvalidPattern,
    compile_glob,
    time_budget,
)

log = logging.getLogger(__name__)

#: Files that hold secrets by convention; never sent, whatever the ignore files say.
SECRET_FILE_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "credentials",
    "credentials.*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "*.kdbx",
    "secrets.*",
)
REDACTED = "«redacted»"

#: (literals, one of which every match contains, pattern): the cheap ``in`` test skips the
#: regex scan for almost all text, which matters on tens of thousands of tokens per prompt.
_SECRET_SHAPES: list[tuple[tuple[str, ...], re.Pattern[str]]] = [
    (
        ("-----BEGIN",),
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
    ),
    (("sk-",), re.compile(r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}")),
    (
        ("gh", "github_pat_"),
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ),
    (("AKIA", "ASIA"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    (("k_live_", "k_test_"), re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}")),
    (("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
]
_ASSIGNMENT_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "auth")
_ASSIGNMENT = re.compile(
    r"(?i)(\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)"
    r"[\w.-]*\s*[:=]\s*)(['\"]?)([^\s'\"]{6,})(\2)"
)
_CODE_LIKE = re.compile(r"[A-Za-z_][\w.]*(?:\(.*|\[.*)?")


def redact_secrets(text: str) -> str:
    """Replace credential-shaped substrings (keys, tokens, private keys, password values)."""
    for literals, shape in _SECRET_SHAPES:
        if any(literal in text for literal in literals):
            text = shape.sub(REDACTED, text)
    lowered = text.lower()
    if not any(word in lowered for word in _ASSIGNMENT_WORDS):
        return text
    return "".join(
        _ASSIGNMENT.sub(_redact_assignment, line) if _mentions_secret(line) else line
        for line in text.splitlines(keepends=True)
    )


def _mentions_secret(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in _ASSIGNMENT_WORDS)


def _redact_assignment(match: re.Match[str]) -> str:
    quote, value = match.group(2), match.group(3)
    if value == REDACTED or not quote and _CODE_LIKE.fullmatch(value):
        return match.group(0)  # ``password = get_password()`` or ``token = self.token``: code
    return f"{match.group(1)}{match.group(2)}{REDACTED}{match.group(4)}"


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One gitignore line, compiled."""

    regex: GlobMatcher
    negated: bool
    directory_only: bool


@lru_cache(maxsize=4096)
def compile_rule(line: str) -> IgnoreRule | None:
    """Compile one gitignore line; None for blanks and comments; InvalidPattern when malformed."""
    text = line.rstrip("\n").rstrip()
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    text = text[1:] if negated else text
    directory_only = text.endswith("/")
    text = text.rstrip("/")
    anchored = "/" in text
    text = text.lstrip("/")
    return IgnoreRule(compile_glob(text, anchored), negated, directory_only)


def rules_from(lines: Iterable[str], source: str = "ignore patterns") -> list[IgnoreRule]:
    """Compile the rules of one ignore file; a malformed line is logged once and skipped."""
    rules = []
    for number, line in enumerate(lines, 1):
        try:
            rule = compile_rule(line)
        except InvalidPattern as exc:
            log.warning("ignore file %s:%d: skipped an invalid pattern (%s)", source, number, exc)
            continue
        if rule is not None:
            rules.append(rule)
    return rules


def matches(rules: list[IgnoreRule], relative: str, is_dir: bool = False) -> bool | None:
    """The verdict of the last matching rule (True: ignored), or None when none matches."""
    verdict: bool | None = None
    for rule in rules:
        if rule.directory_only and not is_dir and not _under_directory(rule, relative):
            continue
        if rule.regex.match(relative):
            verdict = not rule.negated
    return verdict


def _under_directory(rule: IgnoreRule, relative: str) -> bool:
    parts = PurePosixPath(relative).parts
    return any(rule.regex.match("/".join(parts[:n])) for n in range(1, len(parts)))


class ExclusionPolicy:
    """Decides, per file, whether its content may be sent to the model (and why not)."""

    def __init__(
        self, root: Path | None, extra_patterns: Iterable[str] = (), budget_s: float = 0.5
    ) -> None:
        self.root = root.resolve() if root is not None else None
        self._budget_s = budget_s
        self._builtin = rules_from(SECRET_FILE_PATTERNS)
        self._setting = rules_from(extra_patterns, "spark.context.exclude")
        self._ignore_files: dict[Path, list[IgnoreRule]] = {}
        self._verdicts: dict[Path, str | None] = {}

    def reason(self, path: Path | None) -> str | None:
        """Why ``path`` must not be sent, or None when it may be.

        Asked on every completion request, so the verdict is remembered per path (resolving
        the path and matching every ignore file level costs system calls); it lives as long as
        the ignore files' rules, which are read once too.
        """
        if path is None:
            return None
        if path not in self._verdicts:
            try:
                with time_budget(self._budget_s):
                    self._verdicts[path] = self._decide(path)
            except BudgetExceeded:  # fail closed: a file we cannot judge is not sent
                self._verdicts[path] = "the exclusion check took too long (ignore patterns)"
        return self._verdicts[path]

    def _decide(self, path: Path) -> str | None:
        if matches(self._builtin, path.name) or matches(self._builtin, path.as_posix()):
            return f"{path.name} looks like a secrets file"
        relative = self._relative(path)
        if relative is None:
            return None
        if matches(self._setting, relative):
            return "excluded by spark.context.exclude"
        if self._ignored_by_files(relative):
            return "excluded by .gitignore/.sparkignore"
        return None

    def _relative(self, path: Path) -> str | None:
        if self.root is None:
            return None
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None

    def _ignored_by_files(self, relative: str) -> bool:
        """Apply root ``.sparkignore`` and each ``.gitignore`` from the root down."""
        assert self.root is not None
        parts = PurePosixPath(relative).parts
        verdict: bool | None = matches(self._rules(self.root / ".sparkignore"), relative)
        for depth in range(len(parts)):
            base = self.root.joinpath(*parts[:depth])
            local = "/".join(parts[depth:])
            found = matches(self._rules(base / ".gitignore"), local)
            verdict = found if found is not None else verdict
        return bool(verdict)

    def _rules(self, ignore_file: Path) -> list[IgnoreRule]:
        if ignore_file not in self._ignore_files:
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self._ignore_files[ignore_file] = rules_from(lines, str(ignore_file))
        return self._ignore_files[ignore_file]

    def forget_ignore_files(self) -> None:
        """Re-read ignore files on next use (after one of them changed)."""
        self._ignore_files.clear()
        self._verdicts.clear()
