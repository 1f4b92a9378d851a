"""textDocument/codeAction, codeAction/resolve and the edit commands.

Listing is free (no model call). Resolve, ``spark.applyAction`` (clients without resolve) and
``spark.editSelection`` share one path: compute minimal edits for the listed document version
and hand them back as a versioned ``WorkspaceEdit``, so the editor refuses them if the text moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

from lsprotocol import types

from spark_lsp.engine.actions import ActionSpec, ComputedEdit, DiagnosticInfo, list_actions
from spark_lsp.engine.store import OpenDocument
from spark_lsp.errors import ConfigError, SparkError
from spark_lsp.server import SparkServer

APPLY_COMMAND = "spark.applyAction"
EDIT_COMMAND = "spark.editSelection"
#: Implemented by the editor clients: ask for an instruction, then run ``spark.editSelection``.
PROMPT_EDIT_COMMAND = "spark.promptEdit"
PROGRESS_AFTER_S = 0.15
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
_progress_tokens = itertools.count(1)


def _resolve_supported(ls: SparkServer) -> bool:
    document = ls.client_capabilities.text_document
    action = document.code_action if document is not None else None
    support = action.resolve_support if action is not None else None
    return support is not None and "edit" in support.properties


def _diagnostic(d: types.Diagnostic) -> DiagnosticInfo:
    r = d.range
    return DiagnosticInfo(
        r.start.line, r.start.character, r.end.line, r.end.character, d.message, d.source or ""
    )


def _position(doc: OpenDocument, offset: int) -> types.Position:
    line, character = doc.index.position_at(offset)
    return types.Position(line=line, character=character)


def workspace_edit(doc: OpenDocument, computed: ComputedEdit) -> types.WorkspaceEdit:
    """A versioned edit: the client applies it only to the version it was computed for."""
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        types.TextEdit(
            range=types.Range(start=_position(doc, e.start), end=_position(doc, e.end)),
            new_text=e.text,
        )
        for e in computed.edits
    ]
    identifier = types.OptionalVersionedTextDocumentIdentifier(
        uri=doc.uri, version=computed.version
    )
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=identifier, edits=edits)]
    )


@contextlib.asynccontextmanager
async def _progress_if_slow(ls: SparkServer, title: str) -> AsyncIterator[None]:
    """Show cancellable ``$/progress`` once the work takes longer than ~150 ms.

    Once the ``create`` request is on its way it is awaited, never cancelled: pygls cannot
    take a reply for a request whose future was cancelled.
    """
    token = f"spark-edit-{next(_progress_tokens)}"
    creating = False

    async def begin() -> None:
        nonlocal creating
        await asyncio.sleep(PROGRESS_AFTER_S)
        creating = True
        await ls.work_done_progress.create_async(token)
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, cancellable=True)
        )

    task = asyncio.get_running_loop().create_task(begin())
    try:
        yield
    finally:
        if not creating:
            task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task
        if creating and task.done() and not task.cancelled() and task.exception() is None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())


async def compute(ls: SparkServer, spec: ActionSpec) -> tuple[OpenDocument, ComputedEdit]:
    """Run the model for an action; errors are SparkErrors with a user-facing message."""
    doc = ls.store.get(spec.uri)
    if doc is None:
        raise ConfigError("the document of this action is no longer open")
    excluded = ls.context_builder.excluded(spec.uri)
    if excluded is not None:
        raise ConfigError(f"this file is not sent to the model: {excluded}")
    async with _progress_if_slow(ls, "Spark: computing edit"):
        computed = await ls.actions.compute(spec, doc.index, doc.path, doc.language_id)
    if not computed.edits:
        raise SparkError("the model suggested no change here")
    return doc, computed


def _fail(ls: SparkServer, exc: SparkError) -> None:
    ls.reporter.problem("action:" + type(exc).__name__, f"Spark: {exc}", popup=True)


def register(server: SparkServer) -> None:
    """Attach code actions, resolve and the commands."""

    options = types.CodeActionOptions(resolve_provider=True, code_action_kinds=KINDS)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(ls: SparkServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = ls.store.get(params.text_document.uri)
        if doc is None or not ls.settings.actions.enabled:
            return []
        r = params.range
        selection = (r.start.line, r.start.character, r.end.line, r.end.character)
        diagnostics = list(params.context.diagnostics)
        offered = list_actions(
            doc.index,
            doc.uri,
            doc.language_id,
            selection,
            [_diagnostic(d) for d in diagnostics],
            ls.custom_actions,
        )
        with_command = not _resolve_supported(ls)
        return [
            _to_lsp(o.title, o.lsp_kind, o.spec, diagnostics, o.diagnostic_index, with_command)
            for o in offered
        ]

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: SparkServer, action: types.CodeAction) -> types.CodeAction:
        if action.data is None:
            return action  # a command-only action (Edit selection…): nothing to compute here
        try:
            spec = ActionSpec.from_data(action.data)
            doc, computed = await compute(ls, spec)
        except SparkError as exc:
            _fail(ls, exc)
            return action
        action.edit = workspace_edit(doc, computed)
        return action

    @server.command(APPLY_COMMAND)
    async def apply_action(ls: SparkServer, *args: Any) -> bool:
        try:
            spec = ActionSpec.from_data(_first(args))
            return await _apply(ls, spec)
        except SparkError as exc:
            _fail(ls, exc)
            return False

    @server.command(EDIT_COMMAND)
    async def edit_selection(ls: SparkServer, *args: Any) -> bool:
        try:
            return await _apply(ls, _edit_spec(ls, _first(args)))
        except SparkError as exc:
            _fail(ls, exc)
            return False


def _first(args: tuple[Any, ...]) -> Any:
    value = args[0] if args else None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # some clients wrap the arguments once more
    return value


def _edit_spec(ls: SparkServer, arg: Any) -> ActionSpec:
    try:
        uri = arg["uri"]
        start, end = arg["range"]["start"], arg["range"]["end"]
        instruction = str(arg["instruction"]).strip()
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{EDIT_COMMAND} needs {{uri, range, instruction}} ({exc})") from None
    if not instruction:
        raise ConfigError("the edit instruction is empty")
    doc = ls.store.get(uri)
    if doc is None:
        raise ConfigError("the document to edit is not open")
    return ActionSpec(
        "edit",
        uri,
        doc.index.version,
        int(start["line"]),
        int(start["character"]),
        int(end["line"]),
        int(end["character"]),
        instruction=instruction,
    )


async def _apply(ls: SparkServer, spec: ActionSpec) -> bool:
    doc, computed = await compute(ls, spec)
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=workspace_edit(doc, computed), label="Spark edit")
    )
    if not result.applied:
        raise SparkError(
            f"the editor did not apply the edit ({result.failure_reason or 'refused'})"
        )
    return True


def _to_lsp(
    title: str,
    kind: str,
    spec: ActionSpec,
    diagnostics: list[types.Diagnostic],
    index: int | None,
    with_command: bool,
) -> types.CodeAction:
    action = types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=[diagnostics[index]] if index is not None else None,
        data=spec.to_data(),
    )
    if spec.kind == "edit":
        # The instruction comes from the user: editors run the command, which prompts for it.
        action.data = None
        action.command = types.Command(
            title=title, command=PROMPT_EDIT_COMMAND, arguments=[_selection_argument(spec)]
        )
    elif with_command:
        action.command = types.Command(
            title=title, command=APPLY_COMMAND, arguments=[spec.to_data()]
        )
    return action


def _selection_argument(spec: ActionSpec) -> dict[str, Any]:
    start = {"line": spec.start_line, "character": spec.start_character}
    end = {"line": spec.end_line, "character": spec.end_character}
    return {"uri": spec.uri, "range": {"start": start, "end": end}}
