"""Hardening tests: faults, fuzzing, security. Shared helpers live here.

``launch`` is ``tests.e2e.conftest.start_editor`` with two more knobs the hardening tests need:
extra command-line arguments for the language server (``--log-file``, ``--log-level``) and an
environment that may leave the endpoint out entirely.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig

from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig
from spark_lsp.prompt_format import CURSOR
from tests.e2e.conftest import (
    TOKEN,
    Editor,
    capabilities,
    fix_code_action_parsing,
    stop_editor,
    to_plain,
)

__all__ = ["TOKEN", "Editor", "launch", "stop_editor", "to_plain"]


async def launch(
    tmp_path: Path,
    engine: ScriptedEngine,
    *,
    configuration: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    server_args: tuple[str, ...] = ("--log-level", "WARNING"),
) -> Editor:
    """A real server process + pytest-lsp client + in-process scripted model server."""
    model = ModelServer(ServerConfig(token=TOKEN, **(model_config or {})), engine)
    await model.start()
    server_env = {**os.environ, "SPARK_LSP_ENDPOINT": model.url, "OPENAI_API_KEY": TOKEN}
    server_env.update(env or {})
    server_env = {k: v for k, v in server_env.items() if v != ""}  # "" = leave the variable out
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "spark_lsp", "--stdio", *server_args],
        server_env=server_env,
    )
    client = await config.start()
    fix_code_action_parsing(client)
    statuses: list[dict[str, Any]] = []

    @client.feature("spark/status")
    def status(params: Any) -> None:
        statuses.append(to_plain(params))

    if configuration is not None:
        client.set_configuration(configuration)
    root = tmp_path.as_uri()
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities("vscode"),
            root_uri=root,
            workspace_folders=[types.WorkspaceFolder(uri=root, name="ws")],
        )
    )
    editor = Editor(client, model, engine, tmp_path, result)
    editor.statuses = statuses
    return editor


def last_prompt(editor: Editor) -> str:
    """The last (volatile) input message of the last generating request the model received."""
    received = [m for m in editor.model.stats.received if m.get("generate") is not False]
    return str(received[-1]["input"][-1]["content"][0]["text"])


def expected_view(text: str, line: int, column: int) -> str:
    """``text`` with the cursor marker at ``(line, column)`` (a str index within the line)."""
    lines = text.split("\n")
    offset = sum(len(x) + 1 for x in lines[:line]) + column
    return text[:offset] + CURSOR + text[offset:]


def popups(editor: Editor, word: str = "") -> list[str]:
    """The showMessage texts (optionally only those containing ``word``)."""
    return [m.message for m in editor.client.messages if word in m.message]


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition"
) -> None:
    """Poll ``check`` until it holds (generous timeouts: assert outcomes, not timings)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def answers(editor: Editor, uri: str, line: int, column: int, text: str) -> bool:
    """True when an invoked completion at the position returns exactly ``text``."""
    items = await editor.inline(uri, line, column, invoked=True)
    return bool(items) and items[0].insert_text == text


async def restart_model(editor: Editor, port: int, engine: ScriptedEngine) -> None:
    """Start a fresh in-process model server on the same port (after ``editor.model.close()``)."""
    editor.model = ModelServer(ServerConfig(token=TOKEN, port=port), engine)
    for _ in range(50):  # the old socket may linger a moment in the kernel
        try:
            await editor.model.start()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"could not rebind port {port}")
