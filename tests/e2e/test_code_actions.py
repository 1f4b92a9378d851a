"""Code actions end to end: free to list, computed on resolve, minimal, never stale."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from spark_lsp.modelserver.engines.scripted import (
    ErrorSpec,
    FaultSpec,
    Reply,
    Script,
    ScriptedEngine,
)

from .conftest import Editor, start_editor, stop_editor

BROKEN = "import re\n\n\ndef area(w, h)\n    return w * h\n\n\nprnt(area(2, 3))\n"


def script() -> Script:
    """Replies keyed on the task line of the edit prompt (the file text is in every prompt)."""
    return Script(replies=(
        Reply(when="Task: Fix this problem reported by pyright: expected ':'",
              text="def area(w, h):\n"),
        Reply(when="Task: Fix this problem reported by pyright: \"prnt\"",
              text="print(area(2, 3))\n"),
        Reply(when="Task: Write the regular expression",
              text='EMAIL = re.compile(r"[^@\\s]+@[^@\\s]+")\n'),
        Reply(when="Task: Apply this instruction: make the name uppercase",
              text="def AREA(w, h)\n    return w * h\n"),
        Reply(when="Task: Add a docstring",
              text="```python\ndef area(w, h)\n    \"\"\"Area.\"\"\"\n    return w * h\n```\n"),
    ), default=Reply(text=""))


def diagnostic(line: int, message: str, source: str = "pyright") -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=line, character=0),
            end=types.Position(line=line, character=10),
        ),
        message=message,
        source=source,
    )


async def actions(
    editor: Editor,
    uri: str,
    start: tuple[int, int],
    end: tuple[int, int],
    diagnostics: list[types.Diagnostic] | None = None,
) -> list[types.CodeAction]:
    result = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=start[0], character=start[1]),
                end=types.Position(line=end[0], character=end[1]),
            ),
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    assert all(isinstance(a, types.CodeAction) for a in result or [])
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def single_edit(action: types.CodeAction) -> tuple[types.TextDocumentEdit, list[types.TextEdit]]:
    assert action.edit is not None and action.edit.document_changes
    change = action.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    return change, [e for e in change.edits if isinstance(e, types.TextEdit)]


@pytest.fixture
async def engine() -> ScriptedEngine:
    return ScriptedEngine(script())


async def test_listing_is_free_and_resolve_fixes_the_colon(editor: Editor) -> None:
    uri = editor.open("geo.py", BROKEN)
    diag = diagnostic(3, "expected ':'")
    listed = await actions(editor, uri, (3, 0), (3, 0), [diag])
    assert editor.model_calls() == 0
    fix = next(a for a in listed if a.title.startswith("Spark: Fix: expected ':'"))
    assert fix.kind == types.CodeActionKind.QuickFix and fix.edit is None
    resolved = await editor.client.code_action_resolve_async(fix)
    change, edits = single_edit(resolved)
    assert change.text_document.version == 1
    assert len(edits) == 1 and edits[0].new_text == "def area(w, h):\n"
    assert edits[0].range.start == types.Position(line=3, character=0)
    assert edits[0].range.end == types.Position(line=4, character=0)


async def test_misspelled_name_from_a_diagnostic(editor: Editor) -> None:
    uri = editor.open("geo.py", BROKEN)
    listed = await actions(editor, uri, (7, 0), (7, 0), [diagnostic(7, '"prnt" is not defined')])
    fix = next(a for a in listed if "prnt" in a.title)
    _, edits = single_edit(await editor.client.code_action_resolve_async(fix))
    assert [e.new_text for e in edits] == ["print(area(2, 3))\n"]


async def test_regex_from_a_comment(editor: Editor) -> None:
    uri = editor.open("mail.py", "import re\n# regular expression for an email address\n")
    listed = await actions(editor, uri, (1, 5), (1, 5))
    regex = next(a for a in listed if a.title == "Spark: Write regex")
    _, edits = single_edit(await editor.client.code_action_resolve_async(regex))
    assert "re.compile" in edits[0].new_text and edits[0].range.start.line == 1


async def test_selection_rewrites_keep_unchanged_lines(editor: Editor) -> None:
    uri = editor.open("geo.py", BROKEN)
    listed = await actions(editor, uri, (3, 0), (5, 0))
    titles = {a.title for a in listed}
    assert {"Spark: Add docstring/comments", "Spark: Simplify"} <= titles
    assert "Spark: Edit selection…" not in titles  # this client announced no spark.promptEdit
    doc = next(a for a in listed if a.title == "Spark: Add docstring/comments")
    _, edits = single_edit(await editor.client.code_action_resolve_async(doc))
    assert len(edits) == 1 and edits[0].new_text == '    """Area."""\n'
    assert edits[0].range.start == edits[0].range.end == types.Position(line=4, character=0)


async def edit_by_instruction(editor: Editor, uri: str) -> object:
    """Run ``spark.editSelection`` on lines 3-4 of BROKEN; its result."""
    argument = {
        "uri": uri,
        "range": {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}},
        "instruction": "make the name uppercase",
    }
    return await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="spark.editSelection", arguments=[argument])
    )


async def test_edit_by_instruction_applies_through_the_editor(editor: Editor) -> None:
    uri = editor.open("geo.py", BROKEN)
    assert await edit_by_instruction(editor, uri) is True
    change = editor.applied[-1].document_changes[0]  # type: ignore[index]
    assert isinstance(change, types.TextDocumentEdit)
    assert [e.new_text for e in change.edits] == ["def AREA(w, h)\n"]


async def test_stale_version_is_refused(editor: Editor) -> None:
    uri = editor.open("geo.py", BROKEN)
    listed = await actions(editor, uri, (3, 0), (3, 0), [diagnostic(3, "expected ':'")])
    fix = next(a for a in listed if a.title.startswith("Spark: Fix"))
    editor.insert(uri, 0, 0, "# edited\n")
    with pytest.raises(JsonRpcException, match="changed"):
        await editor.client.code_action_resolve_async(fix)
    assert editor.model_calls() == 0


async def test_client_without_resolve_gets_the_command_path(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine(script()), profile="no-resolve")
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        listed = await actions(editor, uri, (3, 0), (3, 0), [diagnostic(3, "expected ':'")])
        fix = next(a for a in listed if a.title.startswith("Spark: Fix"))
        assert fix.command is not None and fix.command.command == "spark.applyAction"
        done = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=fix.command.command, arguments=fix.command.arguments)
        )
        assert done is True
        change = editor.applied[-1].document_changes[0]  # type: ignore[index]
        assert isinstance(change, types.TextDocumentEdit)
        assert [e.new_text for e in change.edits] == ["def area(w, h):\n"]
    finally:
        await stop_editor(editor)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(
                text="x",
                fault=FaultSpec(
                    error=ErrorSpec(
                        status=400, code="unsupported_task", message="local model: no edits"
                    )
                ),
            ),
            "no edits",
        ),
        (Reply(text="```\n```"), "no usable code"),
        (Reply(text="x", fault=FaultSpec(error=ErrorSpec(status=500))), "error"),
    ],
    ids=["declined", "unparseable", "server-error"],
)
async def test_failures_give_a_message_and_no_edit(
    tmp_path: Path, reply: Reply, expected: str
) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine(Script(default=reply)))
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        listed = await actions(editor, uri, (3, 0), (3, 0), [diagnostic(3, "expected ':'")])
        fix = next(a for a in listed if a.title.startswith("Spark: Fix"))
        with pytest.raises(JsonRpcException, match=expected):
            await editor.client.code_action_resolve_async(fix)
        assert editor.applied == []
    finally:
        await stop_editor(editor)


async def test_optional_syntax_diagnostics(tmp_path: Path) -> None:
    editor = await start_editor(tmp_path, ScriptedEngine(script()), configuration={
        "spark": {"actions": {"syntaxDiagnostics": True}}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", BROKEN)
        for _ in range(60):
            if editor.client.diagnostics.get(uri):
                break
            await asyncio.sleep(0.05)
        published = editor.client.diagnostics[uri]
        assert [(d.source, d.range.start.line) for d in published] == [("spark", 3)]
        editor.insert(uri, 3, 14, ":")  # def area(w, h): parses now
        for _ in range(60):
            if not editor.client.diagnostics.get(uri):
                break
            await asyncio.sleep(0.05)
        assert list(editor.client.diagnostics[uri]) == []
    finally:
        await stop_editor(editor)
