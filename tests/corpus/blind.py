"""The outside probes' cases for issue 24 as harness cases: ``blind_round3.py`` and the later
held-out set ``blind_heldout.py`` (fresh cases of the same families), both kept as written
(plain dicts).

The probe's conventions: ghost text is compared without trailing blanks, a document after an
edit without its final newline; ``quickfix`` is the diagnostic fix (``fix``) and ``rewrite`` the
instruction edit (``edit``); ``refused`` expects the edit refused with the document unchanged.
"""

from __future__ import annotations

from typing import Any

from tests.corpus import blind_heldout, blind_round3
from tests.corpus.harness import CompletionCase, EditCase

_KINDS = {"quickfix": "fix", "rewrite": "edit"}


def _completion(raw: dict[str, Any]) -> CompletionCase:
    name = f"blind {raw['family']}: {raw['name']}"
    return CompletionCase(name, raw["language"], raw["document"], raw["reply"], raw["expected"])


def _edit(raw: dict[str, Any]) -> EditCase:
    return EditCase(
        f"blind {raw['family']}: {raw['name']}",
        raw["language"],
        raw["document"],
        _KINDS.get(raw["kind"], raw["kind"]),
        raw["first"],
        raw["last"],
        raw["reply"],
        raw["document"] if raw.get("refused") else raw["expected"],
        raw["message"],
        refused=bool(raw.get("refused")),
    )


_SETS = (blind_round3, blind_heldout)

BLIND_COMPLETIONS: list[CompletionCase] = [
    _completion(raw) for cases in _SETS for raw in cases.COMPLETIONS
]
BLIND_EDITS: list[EditCase] = [_edit(raw) for cases in _SETS for raw in cases.EDITS]
