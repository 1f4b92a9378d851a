"""The one door's vocabulary: what goes in and comes out of :class:`SparkService`, as plain data.

Kept apart from the service so that the language server's handlers can name requests and
results without importing the engine: the engine (parsers, prompts, the completion pipeline)
loads after ``initialize`` has been answered, and an editor's start-up does not wait for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from spark_lsp.errors import ConfigError, SparkError

#: How an exclusion is worded in the status, in error messages and by ``spark-lsp complete``.
EXCLUDED_NOTE = "this file is not sent to the model: "

Selection = tuple[int, int, int, int]


ActionKind = Literal["fix", "syntax", "edit", "docstring", "simplify", "regex", "custom"]
ACTION_KINDS: tuple[str, ...] = get_args(ActionKind)
#: The ``source`` of the syntax diagnostics we publish ourselves: their fix is a syntax fix,
#: which rewrites the neighbouring lines too.
SYNTAX_SOURCE = "spark"


class Refused(ConfigError):
    """The service declined a request before asking the model; the message says why."""


class StaleVersion(SparkError):
    """A request named a document version older than the text the server holds."""


class StaleEdit(SparkError):
    """The document changed since the action was listed; its edit would land on other text."""


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A suggestion wanted at a position (0-based line, character in the store's encoding)."""

    uri: str
    line: int
    character: int
    invoked: bool = False


@dataclass(frozen=True, slots=True)
class CompletionResult:
    """The suggestion, or why there is none: refused before the model, or failed in it."""

    text: str | None
    refused: str | None = None
    failed: str | None = None


@dataclass(frozen=True, slots=True)
class LineEdit:
    """Replace the text between two positions (0-based, the store's position encoding)."""

    start_line: int
    start_character: int
    end_line: int
    end_character: int
    text: str


@dataclass(frozen=True, slots=True)
class EditResult:
    """Edits for one document, valid only for the version they were computed against."""

    uri: str
    version: int
    edits: tuple[LineEdit, ...]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """Everything needed to compute an action later; travels in the action's ``data``."""

    kind: ActionKind
    uri: str
    version: int
    start_line: int
    start_character: int
    end_line: int
    end_character: int
    message: str = ""
    source: str = ""
    instruction: str = ""
    #: A custom action's key (``CustomAction.key``): its template is looked up on resolve.
    custom: str = ""

    def to_data(self) -> dict[str, Any]:
        """JSON for ``CodeAction.data`` / command arguments."""
        return {"spark": asdict(self)}

    @staticmethod
    def from_data(data: Any) -> ActionSpec:
        """Rebuild from ``data``; a client that mangled it gets a clear error, not a crash."""
        try:
            fields = dict(data["spark"])
            if fields.get("kind") not in ACTION_KINDS:
                raise ValueError(fields.get("kind"))
            spec = ActionSpec(**fields)
            numbers = (
                spec.version,
                spec.start_line,
                spec.start_character,
                spec.end_line,
                spec.end_character,
            )
            if not all(isinstance(n, int) and n >= 0 for n in numbers[1:]):
                raise ValueError("negative or non-integer position")
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"this code action's data is not spark-lsp's ({exc})") from None
        return spec


@dataclass(frozen=True, slots=True)
class OfferedAction:
    """One listed action: a title, an LSP kind, and its spec."""

    title: str
    lsp_kind: str
    spec: ActionSpec
    diagnostic_index: int | None = None


@dataclass(frozen=True, slots=True)
class DiagnosticInfo:
    """The parts of an LSP diagnostic a quick-fix needs."""

    start_line: int
    start_character: int
    end_line: int
    end_character: int
    message: str
    source: str = ""
