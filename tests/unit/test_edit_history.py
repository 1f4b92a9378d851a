"""Edit history: keystrokes coalesce into bursts, bursts follow the text, rendering is bounded."""

from __future__ import annotations

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edit_history import EditHistory
from tests.counter import loaded_counter

SOURCE = "def area(w, h):\n    return w * h\n\n\nprint(area(2, 3))\n"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def setup(text: str = SOURCE) -> tuple[DocumentIndex, EditHistory, Clock]:
    clock = Clock()
    return DocumentIndex(text, loaded_counter()), EditHistory(timer=clock), clock


def edit(
    doc: DocumentIndex, history: EditHistory, rng: tuple[int, int, int, int], text: str
) -> None:
    capture = history.capture(doc, rng, text)
    doc.apply_change(rng, text)
    history.commit(capture, doc)


def type_text(
    doc: DocumentIndex, history: EditHistory, clock: Clock, line: int, col: int, text: str
) -> None:
    """One change per character, 50 ms apart, like a person typing."""
    for i, char in enumerate(text):
        clock.now += 0.05
        edit(doc, history, (line, col + i, line, col + i), char)


def test_keystrokes_of_one_word_are_one_burst() -> None:
    doc, history, clock = setup()
    edit(doc, history, (0, 9, 0, 10), "")  # delete "w"
    type_text(doc, history, clock, 0, 9, "width")
    assert len(history.bursts) == 1
    burst = history.bursts[0]
    assert burst.first == 0
    assert burst.old_text == "def area(w, h):\n"
    assert burst.new_text == "def area(width, h):\n"


def test_a_pause_starts_a_new_burst() -> None:
    doc, history, clock = setup()
    type_text(doc, history, clock, 0, 10, "x")
    clock.now += 5
    type_text(doc, history, clock, 0, 11, "y")
    assert [b.new_text for b in history.bursts] == ["def area(wx, h):\n", "def area(wxy, h):\n"]
    assert history.bursts[1].old_text == "def area(wx, h):\n"


def test_an_edit_far_away_starts_a_new_burst_and_neighbours_join() -> None:
    doc, history, clock = setup()
    type_text(doc, history, clock, 0, 10, "x")
    type_text(doc, history, clock, 1, 12, "x")  # the next line: same burst
    assert len(history.bursts) == 1
    assert history.bursts[0].old_text == "def area(w, h):\n    return w * h\n"
    type_text(doc, history, clock, 4, 0, "#")  # three lines further: a new burst
    assert len(history.bursts) == 2
    assert history.bursts[1].first == 4


def test_typing_newlines_grows_the_burst_and_counts_lines() -> None:
    doc, history, clock = setup()
    type_text(doc, history, clock, 1, 16, "\n")
    type_text(doc, history, clock, 2, 0, "    y = 1")
    burst = history.bursts[-1]
    assert burst.old_text == "    return w * h\n"
    assert burst.new_text == "    return w * h\n    y = 1\n"
    assert burst.new_count == 2


def test_bursts_below_an_edit_move_with_it() -> None:
    doc, history, clock = setup()
    type_text(doc, history, clock, 4, 0, "#")
    clock.now += 5
    edit(doc, history, (0, 0, 0, 0), "import math\n\n")  # two lines above it
    assert history.bursts[0].first == 6
    assert doc.line(6).startswith("#print")


def test_a_burst_that_undoes_itself_disappears() -> None:
    doc, history, clock = setup()
    type_text(doc, history, clock, 0, 10, "xy")
    clock.now += 0.05
    edit(doc, history, (0, 10, 0, 12), "")
    assert list(history.bursts) == []


def test_history_is_bounded_in_entries() -> None:
    doc, history, clock = setup("\n".join(f"line {i}" for i in range(100)))
    for i in range(40):
        clock.now += 5
        edit(doc, history, (i * 2, 0, i * 2, 0), "x")
    assert len(history.bursts) == 16
    assert history.bursts[-1].first == 78


def test_render_is_a_diff_within_a_token_budget_newest_kept() -> None:
    doc, history, clock = setup()
    edit(doc, history, (0, 9, 0, 10), "width")
    clock.now += 5
    edit(doc, history, (4, 0, 4, 0), "# done\n")
    full = history.render(loaded_counter().count, 10_000)
    assert full.index("-def area(w, h):") < full.index("+def area(width, h):")
    assert full.index("+def area(width, h):") < full.index("+# done")
    assert "@@ line 1 " in full and "@@ line 5 " in full
    newest_only = history.render(loaded_counter().count, loaded_counter().count(full) - 5)
    assert "+# done" in newest_only and "width" not in newest_only


def test_long_hunks_are_cut() -> None:
    doc, history, clock = setup("x\n")
    edit(doc, history, (0, 0, 0, 0), "".join(f"new {i}\n" for i in range(100)))
    rendered = history.render(loaded_counter().count, 100_000)
    assert rendered.count("\n+new ") == 40
    assert "60 more lines" in rendered


def test_a_huge_paste_is_kept_partially_and_starts_its_own_burst() -> None:
    doc, history, clock = setup("x\n")
    paste = "".join(f"pasted line {i}\n" for i in range(5000))
    edit(doc, history, (0, 0, 0, 0), paste)
    burst = history.bursts[-1]
    assert burst.partial and len(burst.new_text) == 16_000
    clock.now += 0.05
    edit(doc, history, (0, 0, 0, 0), "y")
    assert len(history.bursts) == 2
