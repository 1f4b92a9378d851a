"""User-defined code actions (``spark.actions.custom``): a title and an instruction template.

Teams have their own recurring edits ("translate these comments", "add type hints", "convert to
our logging helper"). Each becomes an action listed like the built-in ones, free (no model
call), only in its languages and, if it needs one, only with a selection; resolving it runs the
same edit path (region → model → minimal, versioned edits) with the template filled in.

The listing carries the action's key, never its instruction (300 actions of 100 kB made a 28 MB
answer to every cursor move); resolving looks the template up again. The template is filled in
one pass: a placeholder inside a filled-in value (a diagnostic that says ``{selection}``) is
text, not a placeholder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Placeholders a template may use; anything else in braces stays as written.
PLACEHOLDER = re.compile(r"\{(selection|language|diagnostic)\}")
DEFAULT_KIND = "refactor.rewrite"
NO_DIAGNOSTIC = "(no diagnostic)"
#: The most custom actions taken from the settings (the rest are left out, with a warning).
MAX_CUSTOM_ACTIONS = 50
#: The longest instruction kept whole (a longer one is cut, with a warning).
MAX_INSTRUCTION_CHARS = 8000


@dataclass(frozen=True, slots=True)
class CustomAction:
    """One validated ``spark.actions.custom`` entry."""

    title: str
    instruction: str
    kind: str = DEFAULT_KIND
    languages: tuple[str, ...] = ()
    needs_selection: bool = True

    @property
    def key(self) -> str:
        """What a listed action carries instead of the instruction: changes with either part,
        so an action listed before the settings changed is not resolved with another text."""
        digest = hashlib.sha256(f"{self.title}\0{self.instruction}".encode()).hexdigest()
        return digest[:16]

    def offered(self, language_id: str, has_selection: bool) -> bool:
        """Whether to list this action here (its languages; a selection if it needs one)."""
        if self.needs_selection and not has_selection:
            return False
        return not self.languages or language_id in self.languages


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced, in one pass."""
    return PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), template)


def custom_task(
    template: str, language_id: str, diagnostic: str, selection: str, bound: Callable[[str], str]
) -> str:
    """The task of a custom action: each value bounded by ``bound``, filled in one pass."""
    values = {
        "language": language_id[:100],
        "diagnostic": bound(diagnostic) if diagnostic else NO_DIAGNOSTIC,
        "selection": bound(selection.rstrip("\n")),
    }
    return fill(bound(template), values)


def custom_actions(entries: Sequence[Mapping[str, Any]]) -> tuple[list[CustomAction], list[str]]:
    """Entries from the settings (already validated against the schema) as actions, capped in
    number and instruction size; the warnings say what was left out or cut."""
    warnings: list[str] = []
    if len(entries) > MAX_CUSTOM_ACTIONS:
        warnings.append(
            f"spark.actions.custom has {len(entries)} actions; only the first "
            f"{MAX_CUSTOM_ACTIONS} are offered"
        )
    actions = []
    for entry in entries[:MAX_CUSTOM_ACTIONS]:
        title, instruction = str(entry["title"]), str(entry["instruction"])
        if len(instruction) > MAX_INSTRUCTION_CHARS:
            warnings.append(
                f"spark.actions.custom {title[:80]!r}: the instruction has {len(instruction)} "
                f"characters; only the first {MAX_INSTRUCTION_CHARS} are used"
            )
            instruction = instruction[:MAX_INSTRUCTION_CHARS]
        actions.append(
            CustomAction(
                title=title,
                instruction=instruction,
                kind=str(entry.get("kind", DEFAULT_KIND)),
                languages=tuple(entry.get("languages", ())),
                needs_selection=bool(entry.get("needsSelection", True)),
            )
        )
    return actions, warnings
