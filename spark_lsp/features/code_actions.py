"""textDocument/codeAction, codeAction/resolve and the edit commands.

Listing is free (no model call). Resolve, ``spark.applyAction`` (clients without resolve) and
``spark.editSelection`` share one path: compute minimal edits for the listed document version
and hand them back as a versioned ``WorkspaceEdit``, so the editor refuses them if the text moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from spark_lsp.config import CLIENT_OPTIONS_KEY
from spark_lsp.engine.breaker import CircuitOpen
from spark_lsp.engine.messages import ActionSpec, DiagnosticInfo, EditResult, LineEdit
from spark_lsp.engine.resolutions import Remembered
from spark_lsp.errors import SparkError
from spark_lsp.lsp.protocol import RequestFailed
from spark_lsp.lsp.server import Command, Method, Row, SparkServer

log = logging.getLogger(__name__)

APPLY_COMMAND = "spark.applyAction"
EDIT_COMMAND = "spark.editSelection"
#: Implemented by the editor clients: ask for an instruction, then run ``spark.editSelection``.
#: Offered only to clients that announce it (``initializationOptions.experimental
#: .clientCommands``): Eglot, Helix and others have no such command.
PROMPT_EDIT_COMMAND = "spark.promptEdit"
#: Where a client lists the client-side commands it implements.
CLIENT_COMMANDS = "clientCommands"
PROGRESS_AFTER_S = 0.15
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
_progress_tokens = itertools.count(1)


def _resolve_supported(ls: SparkServer) -> bool:
    document = ls.client_capabilities.text_document
    action = document.code_action if document is not None else None
    support = action.resolve_support if action is not None else None
    return support is not None and "edit" in support.properties


def client_commands(ls: SparkServer) -> frozenset[str]:
    """The client-side commands the client announced it implements."""
    options = ls.init_options
    announced = options.get(CLIENT_OPTIONS_KEY) if isinstance(options, Mapping) else None
    names = announced.get(CLIENT_COMMANDS) if isinstance(announced, Mapping) else None
    if not isinstance(names, list):
        return frozenset()
    return frozenset(name for name in names if isinstance(name, str))


def _diagnostic(d: types.Diagnostic) -> DiagnosticInfo:
    r = d.range
    return DiagnosticInfo(
        r.start.line, r.start.character, r.end.line, r.end.character, d.message, d.source or ""
    )


def _range(edit: LineEdit) -> types.Range:
    return types.Range(
        start=types.Position(line=edit.start_line, character=edit.start_character),
        end=types.Position(line=edit.end_line, character=edit.end_character),
    )


def workspace_edit(result: EditResult) -> types.WorkspaceEdit:
    """A versioned edit: the client applies it only to the version it was computed for."""
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        types.TextEdit(range=_range(e), new_text=e.text) for e in result.edits
    ]
    identifier = types.OptionalVersionedTextDocumentIdentifier(
        uri=result.uri, version=result.version
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


async def compute(ls: SparkServer, spec: ActionSpec) -> EditResult:
    """Run the model for an action; errors are SparkErrors with a user-facing message."""
    async with _progress_if_slow(ls, "Spark: computing edit"):
        return await ls.service.resolve_action(spec)


def _fail(ls: SparkServer, exc: SparkError) -> None:
    """Say why an action failed: one popup per distinct reason, every time in the log."""
    ls.reporter.problem(f"action:{type(exc).__name__}:{exc}", f"Spark: {exc}", popup=True)


def code_action(ls: SparkServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """List the actions at a range: free, the model runs only on resolve."""
    diagnostics = list(params.context.diagnostics)
    offered = ls.service.list_actions(
        params.text_document.uri,
        _selection(params.range),
        [_diagnostic(d) for d in diagnostics],
    )
    with_command = not _resolve_supported(ls)
    can_prompt = PROMPT_EDIT_COMMAND in client_commands(ls)
    return [
        _to_lsp(o.title, o.lsp_kind, o.spec, diagnostics, o.diagnostic_index, with_command)
        for o in offered
        if o.spec.kind != "edit" or can_prompt
    ]


async def resolve(ls: SparkServer, action: types.CodeAction) -> types.CodeAction:
    """Compute a listed action's edit; a failure is an error reply saying why.

    Never the action unchanged: a client that gets back an action with ``data`` and no edit
    may resolve it again, and again (Eglot 30 did, 1,578 times in 5 s). The editor shows the
    error's message; our log has it once per failure (not per repeated ask).
    """
    if action.data is None:
        return action  # a command-only action (Edit selection…): nothing to compute here
    try:
        result = await compute(ls, ActionSpec.from_data(action.data))
    except SparkError as exc:
        if not isinstance(exc, Remembered | CircuitOpen):  # those were said once already
            ls.reporter.problem(f"action:{type(exc).__name__}:{exc}", f"Spark: {exc}", popup=False)
        raise RequestFailed(f"Spark: {exc}") from None
    action.edit = workspace_edit(result)
    return action


async def apply_action(ls: SparkServer, *args: Any) -> bool:
    """``spark.applyAction``: compute and apply, for clients without resolve."""
    try:
        return await _apply(ls, await compute(ls, ActionSpec.from_data(_first(args))))
    except SparkError as exc:
        _fail(ls, exc)
        return False


async def edit_selection(ls: SparkServer, *args: Any) -> bool:
    """``spark.editSelection``: rewrite a selection by the user's instruction and apply it."""
    try:
        uri, selection, instruction = _edit_arguments(_first(args))
        async with _progress_if_slow(ls, "Spark: computing edit"):
            result = await ls.service.edit(uri, selection, instruction)
        return await _apply(ls, result)
    except SparkError as exc:
        _fail(ls, exc)
        return False


def _first(args: tuple[Any, ...]) -> Any:
    value = args[0] if args else None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # some clients wrap the arguments once more
    return value


def _selection(r: types.Range) -> tuple[int, int, int, int]:
    return r.start.line, r.start.character, r.end.line, r.end.character


def _edit_arguments(arg: Any) -> tuple[str, tuple[int, int, int, int], str]:
    """``{uri, range, instruction}`` of ``spark.editSelection``, checked."""
    try:
        uri = str(arg["uri"])
        start, end = arg["range"]["start"], arg["range"]["end"]
        selection = (
            _integer(start, "line"),
            _integer(start, "character"),
            _integer(end, "line"),
            _integer(end, "character"),
        )
        instruction = str(arg["instruction"])
    except (KeyError, TypeError) as exc:
        raise JsonRpcInvalidParams(
            f"{EDIT_COMMAND} needs {{uri, range, instruction}} (missing {exc})"
        ) from None
    return uri, selection, instruction


def _integer(position: Any, key: str) -> int:
    """The spec's answer to a malformed argument is InvalidParams (-32602), not a popup."""
    value = position[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JsonRpcInvalidParams(
            f"{EDIT_COMMAND}: range {key} must be a non-negative integer, got {value!r:.40}"
        )
    return value


async def _apply(ls: SparkServer, result: EditResult) -> bool:
    """Ask the editor to apply the edit; False when it (or the user) declined.

    Declining is a normal outcome (Emacs asks first; "n" answers with an error reply): an
    info line in the log, no popup, no traceback.
    """
    params = types.ApplyWorkspaceEditParams(edit=workspace_edit(result), label="Spark edit")
    try:
        applied = await ls.workspace_apply_edit_async(params)
    except JsonRpcException as exc:
        return _declined(ls, exc.message or type(exc).__name__)
    if not applied.applied:
        return _declined(ls, applied.failure_reason or "refused")
    return True


def _declined(ls: SparkServer, reason: str) -> bool:
    message = f"Spark: the editor did not apply the edit ({reason[:200]})"
    log.info("%s", message)
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))
    return False


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


OPTIONS = types.CodeActionOptions(resolve_provider=True, code_action_kinds=KINDS)
HANDLERS: tuple[Row, ...] = (
    Method(types.TEXT_DOCUMENT_CODE_ACTION, code_action, OPTIONS),
    Method(types.CODE_ACTION_RESOLVE, resolve),
    Command(APPLY_COMMAND, apply_action),
    Command(EDIT_COMMAND, edit_selection),
)
