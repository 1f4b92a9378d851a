"""Chat-model reply shapes end to end: the scripted model answers the way real chat models do
(fences, prose, echoes, relative indentation, whole-function rewrites) and a real LSP client must
get the right ghost text and the right edit from the language server process."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from benchmarks.common import set_default_reply
from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine

from .conftest import Editor, start_editor, stop_editor
from .test_code_actions import actions, diagnostic, single_edit

# (file name, language, document, cursor line, cursor column, reply, expected ghost text)
SHAPES = [
    ("calc.py", "python", "def total(items):\n    result = compute_\n", 1, 21,
     "compute_total(items)", "total(items)"),
    ("loop.py", "python", "def process(items):\n    for item in items:\n        \n", 2, 8,
     "Sure! Here's the loop body:\n\n```python\nif item.valid:\n    handle(item)\n```\n"
     "This handles only valid items.",
     "if item.valid:\n            handle(item)"),
    ("again.py", "python", "def process(items):\n    for item in items:\n        \n", 2, 8,
     "def process(items):\n    for item in items:\n        if item.valid:\n"
     "            handle(item)",
     "if item.valid:\n            handle(item)"),
    ("sum.go", "go", "func f(xs []int) {\n\tfor _, x := range xs {\n\t\t\n\t}\n}\n", 2, 2,
     "if x > 0 {\n    log(x)\n}", "if x > 0 {\n\t\t\tlog(x)\n\t\t}"),
    ("sign.rb", "ruby", "def sign(x)\n  if x < 0\n    \n  end\nend\n", 2, 4,
     "-1\n  elsif x > 0\n    1\n  else\n    0", "-1\n  elsif x > 0\n    1\n  else\n    0"),
    ("page.html", "html", "<div>\n  \n</div>\n", 1, 2, "<p>Hello</p>\n</div>", "<p>Hello</p>"),
    ("add.ts", "typescript", "function add(a: number, b: number) {\n  return a + \n}\n", 1, 13,
     "```ts\nfunction add(a: number, b: number) {\n  return a + b;\n}\n```", "b;"),
]


@pytest.fixture
async def engine() -> ScriptedEngine:
    return ScriptedEngine.reply("")


async def test_reply_shapes_become_the_right_ghost_text(editor: Editor) -> None:
    for name, language, text, line, column, reply, expected in SHAPES:
        set_default_reply(editor.engine, reply)
        uri = editor.open(name, text, language)
        items = await editor.inline(uri, line, column, invoked=True)
        assert [item.insert_text for item in items] == [expected], name


BROKEN = "import re\n\n\ndef area(width, height)\n    return width * height\n"
FIXED = "import re\n\n\ndef area(width, height):\n    return width * height\n"


def applied(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        return starts[position.line] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def test_whole_function_answer_to_a_quick_fix_is_not_duplicated(tmp_path: Path) -> None:
    reply = (
        "Here is the fixed code:\n```python\ndef area(width, height):\n"
        "    return width * height\n```\nI added the missing colon."
    )
    engine = ScriptedEngine(Script(replies=(Reply(when="Task: Fix", text=reply),)))
    editor = await start_editor(tmp_path, engine)
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        listed = await actions(editor, uri, (3, 0), (3, 0), [diagnostic(3, "expected ':'")])
        fix = next(a for a in listed if a.title.startswith("Spark: Fix: expected ':'"))
        _, edits = single_edit(await editor.client.code_action_resolve_async(fix))
        assert len(edits) == 1
        assert applied(BROKEN, edits) == FIXED
    finally:
        await stop_editor(editor)
