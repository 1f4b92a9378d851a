"""``--tcp`` and ``--ws``: loopback only unless asked, a per-launch token, no browser Origin.

Before, any web page could open ``ws://127.0.0.1:PORT``, initialize with any ``rootUri`` and
read workspace text through completions.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

TOKEN = "launch-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def initialize(msg_id: int, token: str | None, root: Path) -> dict[str, Any]:
    options = {"authToken": token} if token is not None else {}
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize",
            "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {},
                       "initializationOptions": options}}


def start(mode: str, host: str, port: int, tmp_path: Path, token: str | None = TOKEN,
          extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_LSP_TOKEN",)}
    if token is not None:
        env["SPARK_LSP_TOKEN"] = token
    return subprocess.Popen([sys.executable, "-m", "spark_lsp", f"--{mode}", f"{host}:{port}",
                             *extra], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the server never listened")


@pytest.fixture
def ws_server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    proc = start("ws", "127.0.0.1", port, tmp_path)
    wait_listening(port, proc)
    yield port
    proc.kill()
    proc.wait(10)


async def ws_call(port: int, message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    async with connect(f"ws://127.0.0.1:{port}", **kwargs) as ws:
        await ws.send(json.dumps(message))
        while True:  # skip notifications
            reply = dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            if "id" in reply:
                return reply


async def test_ws_refuses_initialize_without_the_token(ws_server: int, tmp_path: Path) -> None:
    for token in (None, "wrong-token-0123456789abcdef"):
        try:
            reply = await ws_call(ws_server, initialize(1, token, tmp_path))
        except ConnectionClosed:
            continue
        assert "error" in reply and "token" in reply["error"]["message"], reply
    # The refused attempts neither answered nor ended the server: the owner still gets in.
    reply = await ws_call(ws_server, initialize(2, TOKEN, tmp_path))
    assert reply["result"]["serverInfo"]["name"] == "spark-lsp"


async def test_ws_refuses_a_browser_origin(ws_server: int, tmp_path: Path) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await ws_call(ws_server, initialize(1, TOKEN, tmp_path),
                      origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


def test_tcp_needs_the_token(tmp_path: Path) -> None:
    port = free_port()
    proc = start("tcp", "127.0.0.1", port, tmp_path)
    try:
        wait_listening(port, proc)

        def call(token: str | None) -> bytes:
            body = json.dumps(initialize(1, token, tmp_path)).encode()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                data = b""
                while b'"id": 1' not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                return data

        assert b"token" in call(None) and b"serverInfo" not in call(None)
        assert b"serverInfo" in call(TOKEN)
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("mode", ["tcp", "ws"])
def test_a_listener_needs_a_launch_token_and_loopback(tmp_path: Path, mode: str) -> None:
    no_token = start(mode, "127.0.0.1", free_port(), tmp_path, token=None)
    _, err = no_token.communicate(timeout=20)
    assert no_token.returncode == 2 and b"SPARK_LSP_TOKEN" in err and b"Traceback" not in err
    remote = start(mode, "0.0.0.0", free_port(), tmp_path)
    _, err = remote.communicate(timeout=20)
    assert remote.returncode == 2 and b"--allow-remote" in err
