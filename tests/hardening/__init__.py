"""Hardening tests: faults, fuzzing, security. Shared helpers live here.

``launch`` is ``tests.e2e.conftest.start_editor`` with two more knobs the hardening tests need:
extra command-line arguments for the language server (``--log-file``, ``--log-level``) and an
environment that may leave the endpoint out entirely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig
from spark_lsp.shared.prompt_format import CURSOR
from tests.e2e.conftest import TOKEN, Editor, start_editor, stop_editor, to_plain

#: ``start_editor`` already takes every knob the hardening tests need (server arguments such as
#: ``--log-file``, an environment that leaves the endpoint out).
launch = start_editor

__all__ = ["TOKEN", "Editor", "launch", "stop_editor", "to_plain"]


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


def shown_to_the_user(editor: Editor, stats: object, log_text: str, stderr: str) -> list[str]:
    """Everything a person could read after a session: stats, the log file, stderr, popups,
    log messages and statuses (where a secret must never appear)."""
    written = [str(stats), log_text, stderr]
    written += [m.message for m in editor.client.messages + editor.client.log_messages]
    return written + [str(s) for s in editor.statuses]
