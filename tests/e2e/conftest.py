"""End-to-end harness: a real spark-lsp process, a real LSP client, the real model server.

The bundled model server runs in the test's event loop (scripted engine, port 0) so each test
chooses the model's behaviour and counts what the model received; the language server is a
subprocess talking stdio to pytest-lsp's client, with capabilities of VS Code or Neovim 0.12.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from benchmarks.common import to_plain
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig

TOKEN = "e2e-secret-token-0123456789"
PROFILES = {
    "vscode": "visual-studio-code",
    "neovim": "neovim@v0.11.0",
    "no-resolve": "visual-studio-code",
    "eglot": "visual-studio-code",
}


def capabilities(profile: str) -> types.ClientCapabilities:
    """A real editor's capabilities plus inline completion (which 0.12 / VS Code have).

    ``no-resolve`` is VS Code's set without code-action resolve, like older clients;
    ``eglot`` has no inline completion (Emacs' Eglot, Helix and Kakoune show suggestions as
    completion items, filtered by the word before the cursor).
    """
    caps = pytest_lsp.client_capabilities(PROFILES[profile])
    assert caps.text_document is not None
    if profile != "eglot":
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(
            dynamic_registration=False
        )
    if profile == "no-resolve" and caps.text_document.code_action is not None:
        caps.text_document.code_action.resolve_support = None
        caps.text_document.code_action.data_support = False
    return caps


@dataclass
class Editor:
    """A client session plus helpers that act like a person typing."""

    client: LanguageClient
    model: ModelServer
    engine: ScriptedEngine
    root: Path
    result: types.InitializeResult
    versions: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    applied: list[types.WorkspaceEdit] = field(default_factory=list)

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str, text: str, language: str = "python") -> str:
        uri = self.uri(name)
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_text(text)
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )
        return uri

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        self.replace(uri, (line, character, line, character), text)

    def replace(self, uri: str, rng: tuple[int, int, int, int], text: str) -> None:
        """One didChange replacing ``(start line, start char, end line, end char)``."""
        self.versions[uri] += 1
        start = types.Position(line=rng[0], character=rng[1])
        end = types.Position(line=rng[2], character=rng[3])
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=start, end=end), text=text
                    )
                ],
            )
        )

    async def inline(
        self, uri: str, line: int, character: int, *, invoked: bool = False
    ) -> list[types.InlineCompletionItem]:
        kind = (
            types.InlineCompletionTriggerKind.Invoked
            if invoked
            else types.InlineCompletionTriggerKind.Automatic
        )
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=kind),
            )
        )
        if result is None:
            return []
        return list(result.items if isinstance(result, types.InlineCompletionList) else result)

    async def stats(self) -> dict[str, Any]:
        result = await self.client.protocol.send_request_async("spark/stats", {})
        plain: dict[str, Any] = to_plain(result)
        return plain

    async def wait_state(self, state: str, timeout: float = 15.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if (await self.stats())["status"]["state"] == state:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"server never reached state {state!r}: {await self.stats()}")

    def model_calls(self) -> int:
        return self.model.stats.generate_requests


def fix_code_action_parsing(client: LanguageClient) -> None:
    """lsprotocol reads any object with a ``command`` key as a ``Command``, so a CodeAction that
    carries a command would come back mangled; editors test ``typeof command == "string"``."""
    converter = client.protocol._converter

    def command_or_action(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 (the runtime type cattrs keys on)
        command_or_action,
    )


#: initializationOptions that turn the ready-on-accept prefetch off (tested on its own in
#: tests/e2e/test_prefetch.py).
NO_PREFETCH = {"completion": {"prefetchOnAccept": False}}


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, group by group: a test's ``{"completion": {...}}`` keeps
    the harness's other ``completion`` defaults (the prefetch off, one alternative)."""
    out = dict(base)
    for key, value in over.items():
        inner = out.get(key)
        both = isinstance(inner, dict) and isinstance(value, dict)
        out[key] = merged(inner, value) if both else value
    return out


async def start_editor(
    tmp_path: Path,
    engine: ScriptedEngine,
    *,
    profile: str = "vscode",
    init_options: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    server_args: tuple[str, ...] = ("--log-level", "WARNING"),
    on_client: Callable[[LanguageClient], None] | None = None,
    prefetch: bool = False,
    folders: list[Path] | None = None,
    alternatives: bool = False,
) -> Editor:
    """A real server process + pytest-lsp client + in-process scripted model server.

    ``env`` overrides the server's environment; a value of "" leaves that variable out.
    ``on_client`` may add client handlers before ``initialize`` (e.g. a slow configuration).
    ``prefetch`` leaves the ready-on-accept prefetch on: most tests count the model calls and
    read the prompts of their own requests, which the prefetch's extra calls would blur.
    ``folders`` makes a multi-root workspace (``tmp_path`` stays the root URI).
    ``alternatives`` leaves ``spark.completion.alternatives`` at its default, for the same
    reason (unless ``init_options`` sets it): an explicit request then makes one call, not three.
    """
    if not prefetch:
        init_options = merged(NO_PREFETCH, init_options or {})
    if not alternatives:
        init_options = merged({"completion": {"alternatives": 1}}, init_options or {})
    model = ModelServer(ServerConfig(token=TOKEN, **(model_config or {})), engine)
    await model.start()
    # With an HTTP port, the editor is pointed at the HTTP base URL (a self-hosted server).
    endpoint = model.http_url if (model_config or {}).get("http_port") is not None else model.url
    server_env = {**os.environ, "SPARK_LSP_ENDPOINT": endpoint, "OPENAI_API_KEY": TOKEN}
    # The developer's own ~/.config/spark-lsp/config.json must not steer the tests.
    server_env["XDG_CONFIG_HOME"] = str(tmp_path.parent / f"{tmp_path.name}-no-user-config")
    server_env.update(env or {})
    server_env = {k: v for k, v in server_env.items() if v != ""}
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "spark_lsp", "--stdio", *server_args],
        server_env=server_env,
    )
    client = await config.start()
    fix_code_action_parsing(client)
    applied: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    statuses: list[dict[str, Any]] = []

    @client.feature("spark/status")
    def status(params: Any) -> None:
        statuses.append(to_plain(params))

    if configuration is not None:
        client.set_configuration(configuration)
    if on_client is not None:
        on_client(client)
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(profile),
            root_uri=tmp_path.as_uri(),
            workspace_folders=[
                types.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")
            ] if folders is None else [
                types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders
            ],
            initialization_options=init_options,
        )
    )
    editor = Editor(client, model, engine, tmp_path, result)
    editor.applied = applied
    editor.statuses = statuses
    return editor


async def stop_editor(editor: Editor) -> None:
    try:
        await asyncio.wait_for(editor.client.shutdown_session(), 10)
    finally:
        await editor.model.close()


@pytest.fixture
async def engine() -> ScriptedEngine:
    return ScriptedEngine.reply("return a * b")


@pytest.fixture(params=["vscode", "neovim"])
async def editor(
    request: pytest.FixtureRequest, tmp_path: Path, engine: ScriptedEngine
) -> AsyncIterator[Editor]:
    editor = await start_editor(tmp_path, engine, profile=request.param)
    await editor.wait_state("ready")
    yield editor
    await stop_editor(editor)
