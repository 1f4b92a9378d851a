"""The reply corpus through the language server's own entry points.

Each shape runs twice: as written (LF) and with the document in CRLF, where the ghost text and
the edited document must come out in CRLF too.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.corpus.harness import CompletionCase, EditCase, run_completion, run_edit
from tests.corpus.languages import LANGUAGE_CASES
from tests.corpus.reply_shapes import COMPLETIONS, EDITS


def _crlf(text: str | None) -> str | None:
    return None if text is None else text.replace("\n", "\r\n")


def _variants(cases: list[CompletionCase] | list[EditCase]) -> list[object]:
    out: list[object] = []
    for case in cases:
        out.append(pytest.param(case, id=f"LF {case.name}"))
        crlf = replace(case, document=_crlf(case.document), expected=_crlf(case.expected))
        out.append(pytest.param(crlf, id=f"CRLF {case.name}"))
    return out


@pytest.mark.parametrize("case", _variants(COMPLETIONS))
def test_reply_shape_completion(case: CompletionCase) -> None:
    assert run_completion(case) == case.expected


@pytest.mark.parametrize("case", _variants(EDITS))
def test_reply_shape_edit(case: EditCase) -> None:
    assert run_edit(case) == case.expected


@pytest.mark.parametrize("case", _variants(LANGUAGE_CASES))
def test_language_case(case: CompletionCase) -> None:
    assert run_completion(case) == case.expected


def test_corpus_is_large_enough() -> None:
    assert len(COMPLETIONS) + len(EDITS) >= 80
    assert len(LANGUAGE_CASES) >= 80
