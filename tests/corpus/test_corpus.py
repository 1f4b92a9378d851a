"""The reply corpus through the language server's own entry points.

Each shape runs twice: as written (LF) and with the document in CRLF, where the ghost text and
the edited document must come out in CRLF too.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from spark_lsp.errors import SparkError
from tests.corpus import reply_shapes_round3 as round3
from tests.corpus import reply_shapes_round4 as round4
from tests.corpus.blind import BLIND_COMPLETIONS, BLIND_EDITS
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


@pytest.mark.parametrize("case", _variants(round3.COMPLETIONS))
def test_round3_completion(case: CompletionCase) -> None:
    assert run_completion(case) == case.expected


@pytest.mark.parametrize("case", _variants(round3.EDITS))
def test_round3_edit(case: EditCase) -> None:
    assert run_edit(case) == case.expected


@pytest.mark.parametrize("case", _variants(round4.COMPLETIONS))
def test_round4_completion(case: CompletionCase) -> None:
    assert run_completion(case) == case.expected


@pytest.mark.parametrize("case", _variants(round4.EDITS))
def test_round4_edit(case: EditCase) -> None:
    assert run_edit(case) == case.expected


@pytest.mark.parametrize("case", _variants(BLIND_COMPLETIONS))
def test_blind_completion(case: CompletionCase) -> None:
    """The probe compares ghost text without trailing blanks."""
    got = run_completion(case)
    assert (got and got.rstrip()) == (case.expected and case.expected.rstrip())


@pytest.mark.parametrize("case", _variants(BLIND_EDITS))
def test_blind_edit(case: EditCase) -> None:
    """The probe compares documents without their final newline; a refused edit raises a
    clear error (one line naming what went wrong) and leaves the document alone."""
    if case.refused:
        with pytest.raises(SparkError) as raised:
            run_edit(case)
        assert "\n" not in str(raised.value) and "diff" in str(raised.value)
        return
    eol = "\r\n" if "\r\n" in case.document else "\n"
    assert run_edit(case).removesuffix(eol) == case.expected.removesuffix(eol)


@pytest.mark.parametrize("case", _variants(LANGUAGE_CASES))
def test_language_case(case: CompletionCase) -> None:
    assert run_completion(case) == case.expected


def test_corpus_is_large_enough() -> None:
    assert len(COMPLETIONS) + len(EDITS) >= 80
    assert len(LANGUAGE_CASES) >= 80
