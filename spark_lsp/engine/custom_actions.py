"""User-defined code actions (``spark.actions.custom``): a title and an instruction template.

Teams have their own recurring edits ("translate these comments", "add type hints", "convert to
our logging helper"). Each becomes an action listed like the built-in ones, free (no model
call), only in its languages and, if it needs one, only with a selection; resolving it runs the
same edit path (region → model → minimal, versioned edits) with the template filled in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Placeholders a template may use; anything else in braces stays as written.
SELECTION = "{selection}"
LANGUAGE = "{language}"
DIAGNOSTIC = "{diagnostic}"
DEFAULT_KIND = "refactor.rewrite"


@dataclass(frozen=True, slots=True)
class CustomAction:
    """One validated ``spark.actions.custom`` entry."""

    title: str
    instruction: str
    kind: str = DEFAULT_KIND
    languages: tuple[str, ...] = ()
    needs_selection: bool = True

    def offered(self, language_id: str, has_selection: bool) -> bool:
        """Whether to list this action here (its languages; a selection if it needs one)."""
        if self.needs_selection and not has_selection:
            return False
        return not self.languages or language_id in self.languages

    def task(self, language_id: str, diagnostic: str) -> str:
        """The instruction with ``{language}`` and ``{diagnostic}`` filled in; ``{selection}``
        is filled when the edit is computed, from the region the model rewrites."""
        return self.instruction.replace(LANGUAGE, language_id).replace(
            DIAGNOSTIC, diagnostic or "(no diagnostic)"
        )


def custom_actions(entries: Sequence[Mapping[str, Any]]) -> list[CustomAction]:
    """Entries from the settings (already validated against the schema) as actions."""
    return [
        CustomAction(
            title=str(entry["title"]),
            instruction=str(entry["instruction"]),
            kind=str(entry.get("kind", DEFAULT_KIND)),
            languages=tuple(entry.get("languages", ())),
            needs_selection=bool(entry.get("needsSelection", True)),
        )
        for entry in entries
    ]


def fill_selection(task: str, region_text: str) -> str:
    """Put the code being edited where the template says ``{selection}``."""
    return task.replace(SELECTION, region_text.rstrip("\n"))
