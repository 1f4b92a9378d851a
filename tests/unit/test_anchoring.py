"""Edit anchoring on plain lines: echoes widen, partial replies narrow, nothing duplicates."""

from __future__ import annotations

from spark_lsp.engine.edits import Anchor, anchor_reply, apply_edits, clean_reply, reply_edits

BEFORE = ["import re", "", ""]
REGION = ["def area(w, h)"]
AFTER = ["    return w * h", ""]


def test_echo_below_widens_the_old_side() -> None:
    reply = ["def area(w, h):", "    return w * h"]
    assert anchor_reply(reply, BEFORE, REGION, AFTER) == Anchor(0, 2)


def test_echo_above_and_below() -> None:
    reply = ["import re", "", "", "def area(w, h):", "    return w * h"]
    assert anchor_reply(reply, BEFORE, REGION, AFTER) == Anchor(-3, 2)


def test_a_reply_for_part_of_the_region_keeps_the_rest_when_asked_or_plain() -> None:
    region = ["", "def area(w, h)", "    return w * h"]
    assert anchor_reply(["def area(w, h):"], [], region, [], keep_unmentioned=True) == Anchor(
        1, 2
    )
    # a corrected copy of one region line stands for that line (issue 24, family 8) ...
    assert anchor_reply(["def area(w, h):"], [], region, []) == Anchor(1, 2)
    # ... but a line equal to one of them is what is left after a deletion, and a different
    # line is a rewrite of the whole region
    assert anchor_reply(["def area(w, h)"], [], region, []) == Anchor(0, 3)
    assert anchor_reply(["return sum(xs)"], [], region, []) == Anchor(0, 3)


def test_reply_edits_touch_only_the_changed_line() -> None:
    before, region, after = "import re\n\n\n", "def area(w, h)\n", "    return w * h\n"
    edits = reply_edits("def area(w, h):\n    return w * h", before, region, after)
    assert len(edits) == 1
    assert apply_edits(region + after, edits) == "def area(w, h):\n    return w * h\n"


def test_clean_reply_drops_fences_prose_and_markers() -> None:
    raw = "Sure, here it is:\n```python\nx = 1\ny = 2\n```\nDone."
    assert clean_reply(raw, "python") == ["x = 1", "y = 2"]
    assert clean_reply("<region>\nx = 1\n</region>", "python") == ["", "x = 1", ""]
