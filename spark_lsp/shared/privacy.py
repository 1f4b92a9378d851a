"""What may never reach the model: excluded files and secret-looking strings.

A user must be able to trust that a ``.env`` file or a private key is never sent anywhere, so
exclusion is decided per file before any request is made (gitignore syntax, the same rules git
uses, from ``.gitignore`` files, a ``.sparkignore`` at each workspace folder's root, built-in
secret patterns and the ``spark.context.exclude`` setting), and every text that does go out is
scrubbed of credentials: well-known key shapes, ``key = value`` assignments in code, dotenv,
INI, YAML, TOML and JSON, and passwords in connection strings.

One module for both processes: the language server asks it before any request, and the bundled
model server's workspace index asks it before it reads a file, so neither can leak what the
other would have kept back. ``compile_rule`` is the one place glob patterns are turned into
matchers. Ignore files are repository content, so they are read like any untrusted file
(``safe_read``); one that cannot be read safely excludes everything it governs.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from spark_lsp.shared.ignore_patterns import (
    BudgetExceeded,
    GlobMatcher,
    InvalidPattern,
    check_budget,
    compile_glob,
    time_budget,
)
from spark_lsp.shared.prompt_format import CURSOR
from spark_lsp.shared.safe_read import UnsafeFile, read_text, with_deadline

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
    ".htpasswd",
    "*.tfvars",
    "*.tfstate",
)
REDACTED = "«redacted»"
#: How often (at most) the ignore files are checked for changes on disk.
RECHECK_IGNORE_FILES_S = 1.0

_Shape = tuple[tuple[str, ...], re.Pattern[str]]


def _shape(literals: tuple[str, ...], pattern: str, flags: int = 0) -> _Shape:
    return literals, re.compile(pattern, flags)


#: Credential shapes recognisable on their own: (literals, one of which every match contains,
#: pattern). The cheap ``in`` test skips the regex scan for almost all text, which matters on
#: tens of thousands of tokens per prompt. A ``secret`` group, when present, is the only part
#: replaced (``Bearer «redacted»`` still reads as a header).
_SECRET_SHAPES: list[_Shape] = [
    _shape(
        ("-----BEGIN",),
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        re.DOTALL,
    ),
    _shape(("sk-",), r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}"),
    _shape(
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
    ),
    _shape(("glpat-",), r"\bglpat-[A-Za-z0-9_-]{20,}"),
    _shape(("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
    _shape(("hf_",), r"\bhf_[A-Za-z0-9]{30,}\b"),
    _shape(("AKIA", "ASIA"), r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    _shape(("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _shape(("hooks.slack.com",), r"hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),
    _shape(("AIza",), r"\bAIza[0-9A-Za-z_-]{35}\b"),
    _shape(("k_live_", "k_test_"), r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}"),
    _shape(("eyJ",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # HTTP credentials; one pattern per spelling, so each starts with a literal (fast search)
    *(
        _shape((scheme,), rf"\b{scheme}\s+(?P<secret>[A-Za-z0-9._~+/-]{{12,}}=*)")
        for scheme in ("Bearer", "bearer", "BEARER", "Basic", "basic", "BASIC")
    ),
    # scheme://user:password@host: the password only (the host is useful context)
    _shape(("://",), r"://[^\s:/@'\"]*:(?P<secret>[^\s@/'\"]+)@"),
    _shape(
        ("assword>", "asswd>", "ecret>", "oken>", "ASSWORD>", "ECRET>", "OKEN>"),
        r"(?i)<(?P<tag>[\w:-]*(?:password|passwd|secret|token)[\w:-]*)>"
        r"(?P<secret>[^<\s]{4,})</(?P=tag)>",
    ),
]

#: A line is scanned for ``key = value`` secrets only when it holds one of these words.
_ASSIGNMENT_WORDS = ("pass", "pwd", "secret", "token", "key", "credential")
#: ``key = value`` in code, dotenv, INI, properties, YAML, TOML, JSON (``"key": "value"``),
#: Ruby/PHP (``=>``) and Go (``:=``); a type annotation may stand between key and ``=``.
_ASSIGNMENT = re.compile(
    r"""(?P<key>(?<![\w.-])["']?(?P<name>[A-Za-z_][\w.-]*)["']?)"""
    r"""(?P<sep>\s*(?::\s*[A-Za-z_][\w\[\], |.]*?\s*(?==))?(?:=>|:=|=|:)\s*)"""
    r"""(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;#'"\])}(\[{=]+=*)"""
)
#: The last word of a key that names a secret (``DB_PASSWORD``, ``apiToken``, ``secret``).
_SECRET_NOUNS = frozenset(
    {"password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "apikey",
     "credential", "credentials"}  # fmt: skip
)
#: ``<qualifier>_key`` names a secret (``api_key``, ``AccountKey``); a bare ``key`` does not.
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "secret", "private", "signing", "encryption", "master", "client",
     "auth", "account", "service"}  # fmt: skip
)
_KEY_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
#: Unquoted values that are words of a language, not credentials.
_PLAIN_WORDS = frozenset(
    {"true", "false", "null", "none", "nil", "yes", "no", "undefined", "required", "optional",
     "str", "string", "bytes", "int", "number", "bool", "boolean", "any", "unknown", "object",
     "secretstr", "redacted"}  # fmt: skip
)
_REFERENCE_STARTS = ("$", "%(", "{{", "<", "#{", "@", "process.env", "os.environ", "env.")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_MIN_SECRET_CHARS = 4
#: What may stand before ``KEY=value`` on a settings line (a YAML list item, ``export``).
_SETTING_LINE_START = re.compile(r"\s*(?:-\s*)?(?:export\s+)?")


def redact_secrets(text: str) -> str:
    """Replace credential-shaped substrings (keys, tokens, private keys, password values)."""
    for literals, shape in _SECRET_SHAPES:
        if any(literal in text for literal in literals):
            text = shape.sub(_replace_shape, text)
    if "-----END" in text:
        text = _redact_key_tails(text)
    return _redact_assignments(text)


#: A private key's END line, and a line of its base64 body, bare or quoted in code.
_KEY_END = re.compile(r"""^[ \t]*["']?-----END [A-Z0-9 ]*PRIVATE KEY-----""", re.MULTILINE)
_KEY_BODY_LINE = re.compile(r"""[ \t]*["'+]?[A-Za-z0-9+/]{16,}={0,2}(?:\\n)?["',+]*[ \t]*\r?\n?""")


def _redact_key_tails(text: str) -> str:
    """The tail of a key whose BEGIN line is in another piece (a window that starts inside the
    key): the base64 lines right above an END line, and the END line. A whole block was
    replaced already, BEGIN to END. Walks back line by line: linear, however much base64
    a file holds."""
    parts: list[str] = []
    done = 0
    for end in _KEY_END.finditer(text):
        start = end.start()
        while start > done:
            above = max(done, text.rfind("\n", done, start - 1) + 1)
            if not _KEY_BODY_LINE.fullmatch(text, above, start):
                break
            start = above
        if start < end.start():
            parts += (text[done:start], REDACTED)
            done = end.end()
    parts.append(text[done:])
    return "".join(parts)


def holds_secret(text: str) -> bool:
    """Whether ``text`` holds anything :func:`redact_secrets` would replace."""
    return redact_secrets(text) != text


def _redact_assignments(text: str) -> str:
    """Scan for ``key = value`` secrets only the lines that mention a secret word."""
    spans = _lines_mentioning_secrets(text)
    if not spans:
        return text
    parts: list[str] = []
    done = 0
    for start, end in spans:
        parts += (text[done:start], _ASSIGNMENT.sub(_redact_assignment, text[start:end]))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def _lines_mentioning_secrets(text: str) -> list[tuple[int, int]]:
    """(start, end) of each such line, in order; ``str.find`` per word keeps this at C speed."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lengthen when lowered: go line by line
        return _lines_mentioning_secrets_slowly(text)
    spans: set[tuple[int, int]] = set()
    for word in _ASSIGNMENT_WORDS:
        found = lowered.find(word)
        while found >= 0:
            start = lowered.rfind("\n", 0, found) + 1
            end = lowered.find("\n", found)
            end = len(text) if end < 0 else end + 1
            spans.add((start, end))
            found = lowered.find(word, end)
    return sorted(spans)


def _lines_mentioning_secrets_slowly(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.splitlines(keepends=True):
        if any(word in line.lower() for word in _ASSIGNMENT_WORDS):
            spans.append((start, start + len(line)))
        start += len(line)
    return spans


def _replace_shape(match: re.Match[str]) -> str:
    if "secret" not in match.re.groupindex:
        return REDACTED
    start, end = match.span("secret")
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + REDACTED + whole[end - offset :]


def is_secret_key(name: str) -> bool:
    """True when a key's last word names a credential (``DB_PASSWORD``, ``apiKey``)."""
    words = [w.lower().rstrip("0123456789") for w in _KEY_WORDS.findall(name)]
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_NOUNS or last.endswith(("password", "passwd", "secret", "token")):
        return True
    return last == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


def _redact_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if not is_secret_key(match.group("name")) or not _is_secret_value(match):
        return match.group(0)
    quoted = value[:1] in "\"'" and len(value) >= 2
    body = f"{value[0]}{REDACTED}{value[-1]}" if quoted else REDACTED
    return match.group("key") + match.group("sep") + body


def _is_secret_value(match: re.Match[str]) -> bool:
    """Literal text (a password) rather than code or a reference (``get_password()``)."""
    value = match.group("value")
    quoted = value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0]
    # A prompt's cursor marker stands inside the value being typed and is no part of it (its
    # ``<|`` would make any name read as a literal, and the marker would be redacted with it).
    inner = (value[1:-1] if quoted else value).replace(CURSOR, "")
    if len(inner) < _MIN_SECRET_CHARS or REDACTED in inner or inner.isdigit():
        return False
    if inner.lower() in _PLAIN_WORDS or inner.startswith(_REFERENCE_STARTS):
        return False
    if quoted:
        return True
    return not _unquoted_is_code(match, inner)


def _unquoted_is_code(match: re.Match[str], inner: str) -> bool:
    """An unquoted value is code when it calls, indexes, dots or names a variable."""
    line, end = match.string, match.end("value")
    if line[end : end + 1] in ("(", "[") or _DOTTED.fullmatch(inner):
        return True
    if not _IDENTIFIER.fullmatch(inner):
        return False  # punctuation a name cannot hold: a literal (``s3cr3t!``, ``a+b/c==``)
    separator = match.group("sep")
    if separator == "=" and _SETTING_LINE_START.fullmatch(line[: match.start()]):
        return False  # ``KEY=value`` opening a line (dotenv, shell, INI): always a literal
    if any(char.isdigit() for char in inner):
        return False  # ``hunter2secret``: names with digits inside are rare, passwords are not
    lowered = inner.lower()
    if any(noun in lowered for noun in ("pass", "pwd", "secret", "token", "key")):
        return True  # ``password=password``, ``token: user_token``: a variable
    if separator.strip() == "=" and not line[: match.start()]:
        # ``password = correcthorse`` at the margin is how INI and .conf files write it; a
        # program rarely sets a secret-named name from a bare variable there. Unsure: redact.
        return False
    if separator.strip() == ":":
        # ``password: hunter`` (YAML) is a literal; ``password: str`` or ``token: Token``
        # (annotations) and ``apiKey: userKey`` (an object field) are code.
        return inner[:1].isupper() or any(c.isupper() for c in inner[1:])
    return True  # ``password = hunter`` or ``f(password=hunter)`` in a program: a variable


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


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop: judge the name alone
        return path


#: Larger ignore files are not read (git has no limit; 1 MiB is tens of thousands of rules).
MAX_IGNORE_FILE_BYTES = 1024 * 1024
#: What an ignore file yields: its rules, or why it could not be read (then every path it
#: governs is excluded: what it meant to keep back is unknown, so nothing is sent).
_IgnoreFile = list[IgnoreRule] | str


def as_roots(roots: Path | Sequence[Path] | None) -> tuple[Path, ...]:
    """The workspace folders as resolved paths, innermost first."""
    if roots is None:
        return ()
    listed = [roots] if isinstance(roots, Path) else list(roots)
    resolved = dict.fromkeys(_resolved(root) for root in listed)
    return tuple(sorted(resolved, key=lambda root: -len(root.parts)))


class ExclusionPolicy:
    """Decides, per file, whether its content may be sent to the model (and why not).

    The one policy of both processes: the language server asks it before any request, and the
    bundled model server's workspace index asks it before reading a file. Every workspace
    folder is a root with its own ignore files; a file is judged by every root that holds it.
    """

    def __init__(
        self,
        roots: Path | Sequence[Path] | None,
        extra_patterns: Iterable[str] = (),
        *,
        recheck_s: float = RECHECK_IGNORE_FILES_S,
        timer: Callable[[], float] = time.monotonic,
        budget_s: float = 0.5,
    ) -> None:
        self.roots = as_roots(roots)
        first = roots if isinstance(roots, Path) else next(iter(roots or ()), None)
        #: The first workspace folder (the one ``rootUri`` names), resolved.
        self.root = _resolved(first) if first is not None else None
        self._budget_s = budget_s
        self._builtin = rules_from(SECRET_FILE_PATTERNS)
        self._setting = rules_from(extra_patterns, "spark.context.exclude")
        self._ignore_files: dict[Path, tuple[int | None, _IgnoreFile]] = {}
        self._verdicts: dict[tuple[Path, bool], str | None] = {}
        self._recheck_s = recheck_s
        self._timer = timer
        self._checked_at = timer()

    def reason(self, path: Path | None, *, is_dir: bool = False) -> str | None:
        """Why ``path`` must not be sent, or None when it may be.

        Asked on every completion request, so the verdict is remembered per path (resolving
        the path and matching every ignore file level costs system calls) until an ignore file
        changes on disk, which is checked at most every ``recheck_s`` seconds.
        """
        if path is None:
            return None
        self._reload_if_changed()
        key = (path, is_dir)
        if key not in self._verdicts:
            try:
                with time_budget(self._budget_s):
                    self._verdicts[key] = self._decide(path, is_dir)
            except BudgetExceeded:  # fail closed: a file we cannot judge is not sent
                self._verdicts[key] = "the exclusion check took too long (ignore patterns)"
        return self._verdicts[key]

    def _decide(self, path: Path, is_dir: bool) -> str | None:
        # A link is judged by what it points at too: ``settings.py`` -> ``../.env`` is a
        # secrets file whatever its name says.
        for candidate in dict.fromkeys((path, _resolved(path))):
            if matches(self._builtin, candidate.name, is_dir) or matches(
                self._builtin, candidate.as_posix(), is_dir
            ):
                return f"{path.name} looks like a secrets file"
        for root, relative in self._containing(path):
            if matches(self._setting, relative, is_dir):
                return "excluded by spark.context.exclude"
            reason = self._ignored_by_files(root, relative, is_dir)
            if reason is not None:
                return reason
        return None

    def _containing(self, path: Path) -> list[tuple[Path, str]]:
        """Each root holding ``path``, innermost first, with the path relative to it.

        A folder nested in another is judged by both: whatever either's ignore files exclude
        stays back (excluding too much costs a suggestion; too little, a secret).
        """
        resolved = _resolved(path)
        return [
            (root, resolved.relative_to(root).as_posix())
            for root in self.roots
            if resolved.is_relative_to(root)
        ]

    def _ignored_by_files(self, root: Path, relative: str, is_dir: bool) -> str | None:
        """Apply ``.git/info/exclude``, root ``.sparkignore`` and each ``.gitignore`` down."""
        parts = PurePosixPath(relative).parts
        verdict: bool | None = None
        governing = [(root / ".git" / "info" / "exclude", relative)]
        governing.append((root / ".sparkignore", relative))
        for depth in range(len(parts)):
            governing.append((root.joinpath(*parts[:depth], ".gitignore"), "/".join(parts[depth:])))
        for ignore_file, local in governing:
            check_budget()  # a path thousands of levels deep: one ignore-file lookup per level
            rules = self._rules(ignore_file)
            if isinstance(rules, str):
                shown = ignore_file.relative_to(root).as_posix()
                return f"its ignore file {shown} is {rules}, so it cannot be applied"
            found = matches(rules, local, is_dir)
            verdict = found if found is not None else verdict
        return "excluded by .gitignore/.sparkignore" if verdict else None

    def _rules(self, ignore_file: Path) -> _IgnoreFile:
        if ignore_file not in self._ignore_files:
            stamp = _stamp(ignore_file)
            self._ignore_files[ignore_file] = (stamp, self._read_rules(ignore_file))
        return self._ignore_files[ignore_file][1]

    @staticmethod
    def _read_rules(ignore_file: Path) -> _IgnoreFile:
        """The file's rules; [] when it is absent; why not when it cannot be read safely.

        Read on a daemon thread with a deadline: the policy is also asked on the event loop.
        """
        if not os.path.lexists(ignore_file):
            return []
        try:
            text = with_deadline(
                lambda: read_text(ignore_file, max_bytes=MAX_IGNORE_FILE_BYTES), ignore_file
            )
        except (FileNotFoundError, NotADirectoryError):
            return []
        except UnsafeFile as exc:
            log.warning("ignore file %s not read: %s", ignore_file, exc)
            return exc.why
        except OSError as exc:
            log.warning("ignore file %s not read: %s", ignore_file, exc)
            return f"unreadable ({exc.strerror or exc})"
        return rules_from(text.splitlines(), str(ignore_file))

    def _reload_if_changed(self) -> None:
        """Forget rules and verdicts when an ignore file was created, edited or deleted."""
        now = self._timer()
        if now - self._checked_at < self._recheck_s:
            return
        self._checked_at = now
        if any(_stamp(path) != stamp for path, (stamp, _) in self._ignore_files.items()):
            self._ignore_files.clear()
            self._verdicts.clear()


def _stamp(path: Path) -> int | None:
    """The file's modification time (ns), None when it does not exist."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
