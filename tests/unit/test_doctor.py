"""`spark-lsp doctor` names the transport in use, and the setting to change for a refused model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spark_lsp import errors
from spark_lsp.commands.doctor import run_doctor
from spark_lsp.modelserver.engines.scripted import FaultSpec, ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig

TOKEN = "doctor-token"


async def doctor(env: dict[str, str]) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = await run_doctor(lines.append, env={"OPENAI_API_KEY": TOKEN, **env})
    return code, lines


@pytest.mark.parametrize(
    ("endpoint", "api", "expected"),
    [
        ("ws", "responses", "transport: websocket (Responses API, WebSocket mode)"),
        ("http", "responses", "transport: http (Responses API over server-sent events"),
        ("http", "chat", "transport: http (Chat Completions over server-sent events"),
    ],
)
async def test_doctor_prints_the_transport_and_api_in_use(
    endpoint: str, api: str, expected: str
) -> None:
    config = ServerConfig(token=TOKEN, http_port=0)
    async with ModelServer(config, ScriptedEngine.reply("a * b")) as server:
        url = server.url if endpoint == "ws" else server.http_url  # auto: a base URL is HTTP
        code, lines = await doctor({"SPARK_LSP_ENDPOINT": url, "SPARK_LSP_API": api})
    assert code == 0, lines
    assert any(line.strip().startswith(expected) for line in lines), lines
    assert lines[-1] == "ok: the model answers"


async def test_doctor_names_the_model_and_the_setting_when_the_key_cannot_use_it() -> None:
    config = ServerConfig(token=TOKEN, models=frozenset({"gpt-other"}))
    async with ModelServer(config, ScriptedEngine.reply("a * b")) as server:
        code, lines = await doctor({"SPARK_LSP_ENDPOINT": server.url, "SPARK_LSP_MODEL": "gpt-x"})
    assert code == 1
    assert lines[-1].startswith(
        "error: model 'gpt-x' is not available to this key: set spark.model.name"
    )
    assert TOKEN not in "\n".join(lines)


@pytest.mark.parametrize(("endpoint", "api"), [("ws", "responses"), ("http", "chat")])
async def test_doctor_fails_naming_the_settings_when_reasoning_spends_the_whole_budget(
    endpoint: str, api: str
) -> None:
    """The sample stops at the output limit before any text: every completion would be empty."""
    engine = ScriptedEngine.reply("a * b", fault=FaultSpec(reasoning_tokens=100_000))
    async with ModelServer(ServerConfig(token=TOKEN, http_port=0), engine) as server:
        url = server.url if endpoint == "ws" else server.http_url
        code, lines = await doctor({"SPARK_LSP_ENDPOINT": url, "SPARK_LSP_API": api})
    assert code == 1, lines
    verdict = lines[-1]
    assert verdict.startswith("error: the sample completion is empty"), lines
    assert "spark.model.reasoningTokens (now 512)" in verdict
    assert "spark.model.reasoningEffort (now 'low')" in verdict
    assert not any(line.startswith("ok:") for line in lines)


async def test_doctor_is_ok_when_the_model_reasons_within_its_budget() -> None:
    engine = ScriptedEngine.reply("a * b", fault=FaultSpec(reasoning_tokens=100))
    async with ModelServer(ServerConfig(token=TOKEN), engine) as server:
        code, lines = await doctor({"SPARK_LSP_ENDPOINT": server.url})
    assert code == 0, lines
    assert "sample completion:   'a * b'" in "\n".join(lines)
    assert lines[-1] == "ok: the model answers"


@pytest.mark.skipif(
    not hasattr(errors, "ModelRefused"),
    reason="needs the model client's refusal signal (issue 23 item 4, being added alongside)",
)
@pytest.mark.parametrize(("endpoint", "api"), [("ws", "responses"), ("http", "chat")])
async def test_doctor_says_the_model_refused_in_its_own_words(endpoint: str, api: str) -> None:
    engine = ScriptedEngine.reply("a * b", fault=FaultSpec(refusal="I can't help with that."))
    async with ModelServer(ServerConfig(token=TOKEN, http_port=0), engine) as server:
        url = server.url if endpoint == "ws" else server.http_url
        code, lines = await doctor({"SPARK_LSP_ENDPOINT": url, "SPARK_LSP_API": api})
    assert code == 1, lines
    assert lines[-1].startswith("error: ") and "refused" in lines[-1], lines
    assert "I can't help with that." in lines[-1]


async def test_doctor_says_where_each_machine_scoped_setting_comes_from(tmp_path: Path) -> None:
    config = tmp_path / "spark-lsp" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"spark": {"model": {"apiKeyCommand": f"echo {TOKEN}"}}}))
    async with ModelServer(ServerConfig(token=TOKEN), ScriptedEngine.reply("a * b")) as server:
        url = server.url
        code, lines = await doctor({"SPARK_LSP_ENDPOINT": url, "XDG_CONFIG_HOME": str(tmp_path)})
    assert code == 0, lines
    shown = "\n".join(lines)
    assert f"user config: {config} (in use)" in shown
    assert f'spark.model.apiKeyCommand = "(set; hidden)"  (from {config})' in shown
    assert f"spark.model.endpoint = {json.dumps(url)}  (from $SPARK_LSP_ENDPOINT)" in shown
    assert 'spark.model.apiKeyEnv = "OPENAI_API_KEY"  (from default)' in shown
    assert "(from spark.model.apiKeyCommand)" in shown  # the key line names its source
    assert TOKEN not in shown
