"""Requests that cost more than they should (issue 21, LSP-level items): a template expanded
twice, a limit shown as a negative number, a request before ``initialize``, identical requests
that each made a model call, and an action list that carried every instruction's text."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcException

from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine
from spark_lsp.shared.prompt_format import TASK_NEXT_EDIT
from tests.clients.lsp_stdio import LspProcess
from tests.e2e.conftest import start_editor, stop_editor
from tests.e2e.test_code_actions import actions, diagnostic
from tests.e2e.test_context import everything_sent

SELECTED = "x = 1  # the selected line\n"
TEMPLATE = "Fix {diagnostic} in this {language} code: {selection}"


async def test_a_placeholder_inside_a_diagnostic_is_not_expanded(tmp_path: Path) -> None:
    engine = ScriptedEngine(Script(default=Reply(text="x = 2  # the selected line\n")))
    custom = [{"title": "Fix it", "instruction": TEMPLATE}]
    editor = await start_editor(tmp_path, engine,
                                configuration={"spark": {"actions": {"custom": custom}}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("a.py", SELECTED + "y = 2\n")
        hostile = "bad value {selection} " * 300
        listed = await actions(editor, uri, (0, 0), (1, 0), [diagnostic(0, hostile)])
        action = next(a for a in listed if a.title == "Spark: Fix it")
        await editor.client.code_action_resolve_async(action)
        sent = everything_sent(editor)
        task = sent[sent.index("Task: "):].split("\n")[0]
        assert task.count("the selected line") == 1, task[:400]
        assert "bad value {selection}" in task
    finally:
        await stop_editor(editor)


async def test_the_listing_never_carries_instruction_text(tmp_path: Path) -> None:
    long = "Rewrite {selection} carefully. " + "Keep the style. " * 6000  # ~100 kB
    custom = [{"title": f"Action {i}", "instruction": long} for i in range(300)]
    editor = await start_editor(tmp_path, ScriptedEngine.reply(""),
                                configuration={"spark": {"actions": {"custom": custom}}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("a.py", SELECTED + "y = 2\n")
        listed = await actions(editor, uri, (0, 0), (1, 0))
        size = len(json.dumps([editor.client.protocol._converter.unstructure(a)
                               for a in listed]))
        assert size < 200_000, size
        assert "Keep the style." not in json.dumps(
            [editor.client.protocol._converter.unstructure(a) for a in listed])
        logged = " ".join(m.message for m in editor.client.log_messages)
        assert "spark.actions.custom" in logged, logged
    finally:
        await stop_editor(editor)


async def test_a_custom_action_resolves_from_its_configured_template(tmp_path: Path) -> None:
    engine = ScriptedEngine(Script(replies=(
        Reply(when="Task: Fix no diagnostic in this python code: x = 1", text="x = 2\n"),
    ), default=Reply(text="")))
    custom = [{"title": "Fix it", "instruction": TEMPLATE.replace("{diagnostic}", "no diagnostic")}]
    editor = await start_editor(tmp_path, engine,
                                configuration={"spark": {"actions": {"custom": custom}}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("a.py", "x = 1\ny = 2\n")
        listed = await actions(editor, uri, (0, 0), (1, 0))
        action = next(a for a in listed if a.title == "Spark: Fix it")
        resolved = await editor.client.code_action_resolve_async(action)
        assert resolved.edit is not None
    finally:
        await stop_editor(editor)


def _answer(server: LspProcess, message: dict[str, Any]) -> dict[str, Any]:
    """Send a raw request; the server's reply to it (notifications are skipped)."""
    server.send(message)
    while True:
        reply = server.receive(10)
        if reply.get("id") == message["id"] and "method" not in reply:
            return reply


def test_a_request_before_initialize_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SPARK_LSP_ENDPOINT"}
    server = LspProcess([sys.executable, "-m", "spark_lsp", "--stdio"], env, tmp_path)
    try:
        for method, params in [("spark/stats", None), ("textDocument/hover", {
                "textDocument": {"uri": "file:///a.py"},
                "position": {"line": 0, "character": 0}})]:
            reply = _answer(server, {"id": method, "method": method, "params": params})
            assert reply.get("error", {}).get("code") == -32002, reply
        result = server.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                               "capabilities": {}})
        assert "capabilities" in result
    finally:
        server.close()


async def test_identical_next_edit_requests_share_one_model_call(tmp_path: Path) -> None:
    fenced = Reply(text="```python\ndef area(width, h):\n    return width * h\n```",
                   when=TASK_NEXT_EDIT)
    engine = ScriptedEngine(Script(replies=(fenced,), default=Reply(text="pass"), ttft_ms=300))
    editor = await start_editor(tmp_path, engine, init_options={
        "experimental": {"nextEdit": True}, "nextEdit": {"debounceMs": 60_000}})
    try:
        await editor.wait_state("ready")
        uri = editor.open("geo.py", "def area(w, h):\n    return w * h\n")
        params = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 10}}
        answers = await asyncio.gather(
            *(editor.client.protocol.send_request_async("spark/nextEdit", params)
              for _ in range(50)),
            return_exceptions=True,
        )
        assert not [a for a in answers if isinstance(a, JsonRpcException)], answers[:3]
        assert editor.model_calls() == 1
        assert len({json.dumps(a, default=str) for a in answers}) == 1
    finally:
        await stop_editor(editor)
