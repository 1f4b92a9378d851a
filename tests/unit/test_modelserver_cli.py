"""The model server as a process: the CLI contract and the embedded launcher."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from spark_lsp.errors import ModelUnavailable
from spark_lsp.modelserver.embedded import EmbeddedModelServer
from spark_lsp.shared.prompt_format import CURSOR, TASK_COMPLETE
from tests.modelserver_helpers import collect, create, text_of

PIPE = asyncio.subprocess.PIPE


async def spawn(*args: str, token: str | None = "cli-token") -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "SPARK_MODEL_SERVER_TOKEN"}
    if token is not None:
        env["SPARK_MODEL_SERVER_TOKEN"] = token
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "spark_lsp.modelserver", *args,
        stdin=PIPE, stdout=PIPE, stderr=PIPE, env=env,
    )  # fmt: skip


Served = tuple[str, asyncio.subprocess.Process]


@asynccontextmanager
async def serving(*args: str, token: str | None = "cli-token") -> AsyncIterator[Served]:
    process = await spawn(*args, token=token)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("LISTENING ws://127.0.0.1:"), line
        assert line.endswith("/v1/responses\n")
        yield line.split()[1], process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def ask_over(url: str, token: str, text: str, **fields: object) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers) as ws:
        await ws.send(create(text, **fields))
        return text_of(await collect(ws))


async def test_cli_prints_listening_first_serves_and_exits_cleanly_on_sigterm() -> None:
    async with serving() as (url, process):
        text = "def f(a):\n    return a\n\ndef f(a):\n" + CURSOR
        assert await ask_over(url, "cli-token", text, instructions=TASK_COMPLETE) == "    return a"
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0
    assert b"Traceback" not in stderr and b"cli-token" not in stderr


async def test_cli_generates_a_token_and_prints_it_on_stderr_only(tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"default": {"text": "scripted!"}}))
    args = ("--engine", "scripted", "--script", str(script))
    async with serving(*args, token=None) as (url, process):
        assert process.stderr is not None
        line = (await asyncio.wait_for(process.stderr.readline(), 5)).decode()
        token = line.split()[-1]
        assert await ask_over(url, token, "hi") == "scripted!"
        process.send_signal(signal.SIGINT)
        stdout, _ = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0 and stdout == b""


async def test_cli_exits_when_stdin_closes() -> None:
    async with serving("--exit-on-stdin-eof") as (_, process):
        assert process.stdin is not None
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 10)
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--host", "0.0.0.0"), "--allow-remote"),
        (("--engine", "scripted", "--script", "/nonexistent.json"), "nonexistent.json"),
        (("--workspace", "/nonexistent-dir"), "not a directory"),
    ],
)
async def test_cli_errors_are_one_line_on_stderr(args: tuple[str, ...], message: str) -> None:
    process = await spawn(*args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2 and stdout == b""
    lines = stderr.decode().splitlines()
    assert len(lines) == 1 and message in lines[0]


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_embedded_server_starts_serves_and_stops_without_leftovers(tmp_path: Path) -> None:
    (tmp_path / "lib.py").write_text("value = embedded_helper_function(1, 2)\n")
    embedded = EmbeddedModelServer()
    url, token = await embedded.start(tmp_path)
    pid = embedded.pid
    try:
        assert embedded.running and pid is not None
        assert await embedded.start(tmp_path) == (url, token)
        prompt = "x = embedded_helper_fu" + CURSOR
        for _ in range(20):  # the child indexes the workspace in the background
            answer = await ask_over(url, token, prompt, instructions=TASK_COMPLETE)
            if answer:
                break
            await asyncio.sleep(0.05)
        assert answer == "nction(1, 2)"
    finally:
        await embedded.stop()
    await embedded.stop()
    assert not embedded.running and not process_exists(pid)


async def test_embedded_start_failure_explains_with_the_child_stderr() -> None:
    embedded = EmbeddedModelServer(extra_args=("--host", "192.0.2.1"))
    with pytest.raises(ModelUnavailable) as caught:
        await embedded.start(None)
    assert "refusing to bind" in str(caught.value)
    assert not embedded.running


async def test_embedded_start_times_out_with_a_clear_error() -> None:
    embedded = EmbeddedModelServer(start_timeout_s=0.01)
    with pytest.raises(ModelUnavailable, match="did not report its address"):
        await embedded.start(None)
    assert not embedded.running
