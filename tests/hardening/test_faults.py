"""Model faults seen through the real language server: it stays up, says what happened once,
and completions come back by themselves when the model does.

Every test drives the real ``spark-lsp --stdio`` process with pytest-lsp's client; the model is
the bundled model server (scripted engine) in the test's event loop, so faults are chosen, and
what the model received shows the server's view of the document.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from benchmarks.common import set_default_reply
from spark_lsp.modelserver.engines.scripted import ErrorSpec, FaultSpec, ScriptedEngine

from . import (
    TOKEN,
    Editor,
    answers,
    eventually,
    expected_view,
    last_prompt,
    launch,
    popups,
    restart_model,
    stop_editor,
)

REPLY = "return a * b"
DOC = "def mul(a, b):\n    \n"
FAST_STALL = {"spark": {"model": {"stallTimeoutMs": 1000}}}


async def ready_editor(tmp_path: Path, engine: ScriptedEngine, **kwargs: object) -> Editor:
    editor = await launch(tmp_path, engine, **kwargs)  # type: ignore[arg-type]
    await editor.wait_state("ready")
    return editor


async def assert_alive(editor: Editor) -> None:
    """The server answers requests and still holds the document as the client does."""
    stats = await editor.stats()
    assert stats["documents"] >= 1


def assert_no_secret(editor: Editor) -> None:
    said = [m.message for m in editor.client.messages + editor.client.log_messages]
    said += [str(s) for s in editor.statuses]
    assert not any(TOKEN in text for text in said)


MID_STREAM = {
    "drop": (FaultSpec(drop_after_deltas=2, times=1), "dropped"),
    "stall": (FaultSpec(stall_after_deltas=2, stall_s=4.0, times=1), "sent nothing"),
    "garbage": (FaultSpec(garbage_after_deltas=2, times=1), "not valid JSON"),
    "500": (FaultSpec(error=ErrorSpec(status=500, code="server_error"), times=1), "server_error"),
    "failed": (
        FaultSpec(error=ErrorSpec(status=500, code="server_error", after_deltas=2), times=1),
        "server_error",
    ),
}


@pytest.mark.parametrize("kind", list(MID_STREAM))
async def test_a_faulty_response_fails_alone_and_completions_resume(
    tmp_path: Path, kind: str
) -> None:
    fault, said = MID_STREAM[kind]
    engine = ScriptedEngine.reply(REPLY)
    editor = await ready_editor(tmp_path, engine, configuration=FAST_STALL)
    try:
        uri = editor.open("calc.py", DOC)
        set_default_reply(engine, REPLY, fault)
        assert await editor.inline(uri, 1, 4, invoked=True) == []
        assert last_prompt(editor).endswith(expected_view(DOC, 1, 4))
        await assert_alive(editor)
        await eventually(lambda: answers(editor, uri, 1, 4, REPLY), what="completions to resume")
        assert last_prompt(editor).endswith(expected_view(DOC, 1, 4))
        await editor.wait_state("ready")
        # A transient fault is logged (with a reason a person can read), never a popup.
        assert popups(editor) == []
        logged = [m.message for m in editor.client.log_messages]
        assert any(said in m for m in logged), logged
        assert_no_secret(editor)
    finally:
        await stop_editor(editor)


class CountingEngine(ScriptedEngine):
    """Counts the upgrade attempts (a refused upgrade never becomes a connection)."""

    upgrades = 0

    def handshake_status(self) -> int | None:
        self.upgrades += 1
        return super().handshake_status()


async def test_401_on_upgrade_is_one_error_no_retry_loop_and_a_fixed_key_recovers(
    tmp_path: Path,
) -> None:
    engine = CountingEngine(ScriptedEngine.reply(REPLY, fault=FaultSpec(reject_upgrade=401)).script)
    config_home = tmp_path / "user-config"
    env = {"SPARK_GOOD_KEY": TOKEN, "XDG_CONFIG_HOME": str(config_home)}
    editor = await launch(tmp_path, engine, env=env)
    try:
        await editor.wait_state("error")
        uri = editor.open("calc.py", DOC)
        for _ in range(5):
            assert await editor.inline(uri, 1, 4, invoked=True) == []
        await asyncio.sleep(2.5)  # long enough for a retry loop to show
        assert engine.upgrades == 1
        assert editor.model.stats.connections_total == 0
        auth = popups(editor, "API key")
        assert len(auth) == 1 and len(popups(editor)) == 1, popups(editor)
        assert "401" in auth[0]
        stats = await editor.stats()
        assert stats["status"]["state"] == "error" and "401" in stats["status"]["detail"]
        assert editor.statuses[-1]["state"] == "error"
        # The user points spark.model.apiKeyEnv at the right variable (a machine-scoped
        # setting: in their config file, not the workspace's): the model side restarts.
        set_default_reply(engine, REPLY)
        (config_home / "spark-lsp").mkdir(parents=True)
        (config_home / "spark-lsp" / "config.json").write_text(
            '{"spark": {"model": {"apiKeyEnv": "SPARK_GOOD_KEY"}}}'
        )
        editor.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None)
        )
        await editor.wait_state("ready")
        assert await answers(editor, uri, 1, 4, REPLY)
        assert last_prompt(editor).endswith(expected_view(DOC, 1, 4))
    finally:
        await stop_editor(editor)


async def test_401_error_event_stops_sending(tmp_path: Path) -> None:
    fault = FaultSpec(error=ErrorSpec(status=401, code="invalid_api_key", message="bad key"))
    engine = ScriptedEngine.reply(REPLY, fault=fault)
    editor = await ready_editor(tmp_path, engine)
    try:
        uri = editor.open("calc.py", DOC)
        for _ in range(6):
            assert await editor.inline(uri, 1, 4, invoked=True) == []
        await asyncio.sleep(1.5)
        assert editor.model_calls() == 1  # the first 401 stops every later request locally
        assert editor.model.stats.connections_total <= 2
        assert len(popups(editor)) == 1, popups(editor)
        await editor.wait_state("error")
        await assert_alive(editor)
        assert_no_secret(editor)
    finally:
        await stop_editor(editor)


async def test_429_cools_down_for_the_hint_then_resumes(tmp_path: Path) -> None:
    error = ErrorSpec(status=429, code="rate_limit_exceeded", retry_after_s=2.0)
    engine = ScriptedEngine.reply(REPLY, fault=FaultSpec(error=error, times=1))
    editor = await ready_editor(tmp_path, engine)
    try:
        uri = editor.open("calc.py", DOC)
        assert await editor.inline(uri, 1, 4, invoked=True) == []
        calls = editor.model_calls()
        for _ in range(4):  # inside the cool-down: answered at once, nothing sent
            assert await editor.inline(uri, 1, 4, invoked=True) == []
        assert editor.model_calls() == calls
        await eventually(lambda: answers(editor, uri, 1, 4, REPLY), what="the cool-down to end")
        assert editor.model_calls() == calls + 1
        assert popups(editor) == []
        assert any("Rate limited" in m.message for m in editor.client.log_messages)
        await editor.wait_state("ready")
    finally:
        await stop_editor(editor)


async def test_connection_age_limit_is_routine(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply(REPLY)
    editor = await ready_editor(tmp_path, engine, model_config={"max_age_s": 1.0})
    try:
        uri = editor.open("calc.py", DOC)
        answered = 0
        for _ in range(12):
            answered += await answers(editor, uri, 1, 4, REPLY)
            await asyncio.sleep(0.3)
        assert editor.model.stats.connections_total >= 3  # it did age out, more than once
        assert answered >= 11  # at most one request may straddle the cut
        await eventually(lambda: answers(editor, uri, 1, 4, REPLY))
        assert popups(editor) == []
        # The scripted age-limit fault mid-session: the request is retried on a fresh socket.
        set_default_reply(engine, REPLY, FaultSpec(age_limit=True, times=1))
        await eventually(lambda: answers(editor, uri, 1, 4, REPLY))
        assert popups(editor) == []
    finally:
        await stop_editor(editor)


async def test_model_server_killed_mid_stream_and_restarted(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply(REPLY, tokens_per_second=4)  # slow: the kill lands mid-stream
    editor = await ready_editor(tmp_path, engine)
    try:
        uri = editor.open("calc.py", DOC)
        editor.insert(uri, 1, 4, "x = 1\n    ")
        text = "def mul(a, b):\n    x = 1\n    \n"
        pending = asyncio.create_task(editor.inline(uri, 2, 4, invoked=True))
        await eventually(lambda: _streaming(editor), what="the stream to start")
        port = editor.model.port
        await editor.model.close()
        assert await asyncio.wait_for(pending, 15) == []
        await editor.wait_state("offline", timeout=20)
        for _ in range(3):
            assert await editor.inline(uri, 2, 4, invoked=True) == []
        assert len(popups(editor, "unreachable")) == 1 and len(popups(editor)) == 1
        engine.script = ScriptedEngine.reply(REPLY).script
        await restart_model(editor, port, engine)
        await editor.wait_state("ready", timeout=30)
        await eventually(lambda: answers(editor, uri, 2, 4, REPLY))
        assert last_prompt(editor).endswith(expected_view(text, 2, 4))
        # A second outage after recovery is reported again (once).
        await editor.model.close()
        await editor.wait_state("offline", timeout=20)
        assert len(popups(editor, "unreachable")) == 2
        await restart_model(editor, port, engine)
        await eventually(lambda: answers(editor, uri, 2, 4, REPLY), timeout=30)
        assert_no_secret(editor)
    finally:
        await stop_editor(editor)


async def _streaming(editor: Editor) -> bool:
    return editor.model_calls() >= 1


@pytest.mark.parametrize(
    "endpoint", ["ws://127.0.0.1:9/v1/responses", "ws://no-such-host.invalid/v1/responses"]
)
async def test_an_endpoint_that_cannot_be_reached(tmp_path: Path, endpoint: str) -> None:
    engine = ScriptedEngine.reply(REPLY)
    editor = await launch(tmp_path, engine, env={"SPARK_LSP_ENDPOINT": endpoint})
    try:
        await editor.wait_state("offline", timeout=30)
        uri = editor.open("calc.py", DOC)
        for _ in range(5):
            items = await asyncio.wait_for(editor.inline(uri, 1, 4, invoked=True), 15)
            assert items == []
        stats = await editor.stats()
        assert stats["status"]["state"] == "offline"
        host = endpoint.split("/")[2].split(":")[0]
        assert host in stats["status"]["detail"]
        assert len(popups(editor)) == 1 and "unreachable" in popups(editor)[0]
        assert_no_secret(editor)
    finally:
        await stop_editor(editor)
