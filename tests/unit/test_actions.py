"""Code-action logic without LSP: listing, regions, reply parsing, context within budget."""

from __future__ import annotations

import re

import pytest

from spark_lsp.engine.actions import (
    ActionSpec,
    DiagnosticInfo,
    _context_lines,
    edit_prompt,
    list_actions,
    looks_like_regex_request,
    region_for,
    syntax_error,
)
from spark_lsp.engine.context import MODEL_CONTEXT_TOKENS, hard_cap
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edits import apply_edits, reply_edits
from spark_lsp.errors import ConfigError, ModelRequestError
from tests.counter import exact_counter

SOURCE = "import re\n\n\ndef area(w, h)\n    return w * h\n"


def doc(text: str = SOURCE) -> DocumentIndex:
    return DocumentIndex(text, exact_counter(), version=3)


def test_listing_offers_fixes_syntax_and_rewrites() -> None:
    index = doc()
    offered = list_actions(
        index,
        "file:///a.py",
        (3, 0, 4, 5),
        [DiagnosticInfo(4, 0, 4, 3, "unused name", "ruff")],
        syntax_error(index, "python"),
    )
    titles = [o.title for o in offered]
    assert titles[0] == "Spark: Fix: unused name"
    assert any(t.startswith("Spark: Fix syntax: expected ':'") for t in titles)
    assert "Spark: Edit selection…" in titles and "Spark: Simplify" in titles
    assert all(o.spec.version == 3 for o in offered)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# regex that matches an ISO date", True),
        ('PATTERN = r"\\d+"  # regex', True),
        ("total = compute(x)", False),
        ("# just a comment", False),
    ],
)
def test_regex_detection(line: str, expected: bool) -> None:
    assert looks_like_regex_request(line) is expected


def test_action_data_round_trip_and_garbage() -> None:
    spec = ActionSpec("fix", "file:///a.py", 3, 1, 0, 1, 4, message="m")
    assert ActionSpec.from_data(spec.to_data()) == spec
    for bad in (
        None,
        {},
        {"spark": {"kind": "explode"}},
        {"spark": {**spec.to_data()["spark"], "start_line": -1}},
    ):
        with pytest.raises(ConfigError):
            ActionSpec.from_data(bad)


def test_region_is_whole_lines_and_exact_text() -> None:
    d = doc("a\r\nb\r\nc")
    region = region_for(d, ActionSpec("edit", "u", 3, 1, 0, 2, 1))
    assert (region.first, region.end, region.text) == (1, 3, "b\r\nc")
    assert region.start_offset == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("def f():\n", "def f():\n"),
        ("```python\ndef f():\n```", "def f():\n"),
        ("Here is the fixed code:\n```python\ndef f():\n```\n", "def f():\n"),
        ("<region>\ndef f():\n</region>", "def f():\n"),
        ("def f():", "def f():\n"),
    ],
)
def test_reply_to_region_text(raw: str, expected: str) -> None:
    edits = reply_edits(raw, "", "def f()\n", "", language_id="python")
    assert apply_edits("def f()\n", edits) == expected


def test_empty_reply_is_an_error_and_crlf_is_kept() -> None:
    with pytest.raises(ModelRequestError):
        reply_edits("```\n```", "", "x = 1\n", "")
    assert apply_edits("x = 1\r\n", reply_edits("y = 2\n", "", "x = 1\r\n", "")) == "y = 2\r\n"


@pytest.mark.parametrize("budget", [0, 10, 200, 5000])
def test_context_lines_stay_within_budget(budget: int) -> None:
    text = "".join(f"line_{i} = {i}\n" for i in range(500))
    d = doc(text)
    region = region_for(d, ActionSpec("edit", "u", 3, 250, 0, 251, 0))
    before, after = _context_lines(d, region, budget)
    counter = exact_counter()
    used = sum(counter.count_line(x) for x in (before + after).splitlines(keepends=True))
    assert used <= budget
    assert text.index(region.text) == len(text.split(region.text)[0])
    assert (before + region.text + after) in text
    if budget >= 200:
        assert before and after


def test_secrets_in_the_region_are_never_sent() -> None:
    d = doc('KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz1234"\n')
    spec = ActionSpec("edit", "u", 3, 0, 0, 0, 5, instruction="rename")
    with pytest.raises(ConfigError):
        edit_prompt(d, "a.py", "python", spec, region_for(d, spec), 100)


MEGABYTE = "undefined name 'x' " * 55_000  # ~1 MB, ~220k tokens: a runaway linter message


@pytest.mark.parametrize(
    "spec",
    [ActionSpec("fix", "u", 3, 3, 0, 3, 5, message=MEGABYTE, source="lint"),
     ActionSpec("edit", "u", 3, 3, 0, 3, 5, instruction=MEGABYTE)],
    ids=["diagnostic-message", "instruction"],
)
def test_every_prompt_part_counts_against_the_cap(spec: ActionSpec) -> None:
    """A 1 MB message or instruction used to reach the model: ``context_length_exceeded``."""
    d = doc("\n".join(f"line_{i} = {i}" for i in range(20_000)) + "\n")
    prompt = edit_prompt(d, "a.py", "python", spec, region_for(d, spec), 120_000)
    counter = exact_counter()
    total = counter.count(prompt.instructions) + sum(map(counter.count, prompt.input_texts))
    assert total <= hard_cap(MODEL_CONTEXT_TOKENS, 4096)
    assert "truncated" in prompt.input_texts[-1]
    assert "line_3 = 3" in prompt.input_texts[-1]  # the region itself is still there


def test_the_reasoning_allowance_counts_against_the_cap() -> None:
    """Reasoning is billed to max_output_tokens: a large allowance leaves less room for context."""
    d = doc("\n".join(f"line_{i} = {i}" for i in range(20_000)) + "\n")
    allowance = 32_000
    spec = ActionSpec("edit", "u", 3, 3, 0, 3, 5, instruction="rename line_3")
    prompt = edit_prompt(d, "a.py", "python", spec, region_for(d, spec), 120_000, allowance)
    counter = exact_counter()
    total = counter.count(prompt.instructions) + sum(map(counter.count, prompt.input_texts))
    assert total <= hard_cap(MODEL_CONTEXT_TOKENS, 4096 + allowance)


def test_a_region_larger_than_the_cap_is_refused_clearly() -> None:
    d = doc("x = 1\n" * 200_000)
    spec = ActionSpec("edit", "u", 3, 0, 0, 199_999, 0, instruction="rename")
    with pytest.raises(ConfigError, match="too large"):
        edit_prompt(d, "a.py", "python", spec, region_for(d, spec), 8192)


def test_custom_actions_fill_their_template_and_respect_languages() -> None:
    from dataclasses import replace

    from spark_lsp.engine.actions import custom_offers
    from spark_lsp.engine.custom_actions import custom_actions

    template = "Translate {selection} ({language}): {diagnostic}"
    custom, warnings = custom_actions([
        {"title": "Translate", "instruction": template, "languages": ["python"]},
        {"title": "Anywhere", "instruction": "Explain", "needsSelection": False},
    ])
    assert warnings == []
    text = doc("x = 1  # eins\ny = 2\n")
    listed = custom_offers(text, "file:///a.py", "python", (0, 0, 1, 0), [], custom)
    assert [o.title for o in listed] == ["Spark: Translate", "Spark: Anywhere"]
    assert [o.title for o in custom_offers(text, "u", "go", (0, 0, 1, 0), [], custom)] == [
        "Spark: Anywhere"]
    assert [o.title for o in custom_offers(text, "u", "python", (0, 0, 0, 0), [], custom)] == [
        "Spark: Anywhere"]  # Translate needs a selection
    spec = listed[0].spec
    assert spec.kind == "custom" and spec.instruction == "" and spec.custom == custom[0].key
    assert ActionSpec.from_data(spec.to_data()) == spec
    resolved = replace(spec, instruction=template)  # the service looks the template up
    prompt = edit_prompt(text, "a.py", "python", resolved, region_for(text, resolved), 100)
    assert "Task: Translate x = 1  # eins (python): (no diagnostic)" in prompt.volatile


def test_a_template_is_filled_in_one_pass() -> None:
    from spark_lsp.engine.custom_actions import fill

    values = {"diagnostic": "say {selection} and {language}", "selection": "CODE",
              "language": "{diagnostic}"}
    filled = fill("{diagnostic} / {selection} / {language} / {other}", values)
    assert filled == "say {selection} and {language} / CODE / {diagnostic} / {other}"


def test_a_huge_template_is_refused_without_a_negative_limit() -> None:
    """Issue 21: "the limit is about -312335" for a template that repeats {selection}."""
    d = doc("x = 1  # a line of code to edit\n" * 3000)
    spec = ActionSpec("custom", "u", 3, 0, 0, 2999, 0, instruction="{selection} " * 300)
    try:
        prompt = edit_prompt(d, "a.py", "python", spec, region_for(d, spec), 8192)
    except ConfigError as exc:
        assert not re.search(r"-\d", str(exc)), str(exc)
    else:
        assert prompt.volatile.count("a line of code to edit") < 3000 * 3


def test_custom_actions_are_capped_with_a_warning() -> None:
    from spark_lsp.engine.custom_actions import (
        MAX_CUSTOM_ACTIONS,
        MAX_INSTRUCTION_CHARS,
        custom_actions,
    )

    entries = [{"title": f"A{i}", "instruction": "x" * 100_000} for i in range(300)]
    actions, warnings = custom_actions(entries)
    assert len(actions) == MAX_CUSTOM_ACTIONS
    assert all(len(a.instruction) == MAX_INSTRUCTION_CHARS for a in actions)
    assert any("300 actions" in w for w in warnings)
    assert any("'A0'" in w and "100000 characters" in w for w in warnings)
