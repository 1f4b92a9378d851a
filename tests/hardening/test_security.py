"""Security: the API key never leaves the process in anything it writes; the bundled model
server is loopback-only, authenticated and bounded; the embedded child never outlives us.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from benchmarks.common import set_default_reply
from spark_lsp.modelserver.engines.local import workspace_files
from spark_lsp.modelserver.engines.scripted import ErrorSpec, FaultSpec, ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig
from tests.clients.lsp_stdio import LspProcess

from . import TOKEN, launch, shown_to_the_user, stop_editor

KEY = TOKEN  # "e2e-secret-token-…": the key the language server sends as its bearer token


async def test_the_key_never_appears_in_anything_the_server_writes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "server.log"
    engine = ScriptedEngine.reply("return a * b")
    editor = await launch(
        tmp_path, engine, server_args=("--log-level", "DEBUG", "--log-file", str(log))
    )
    try:
        await editor.wait_state("ready")
        uri = editor.open("calc.py", "def mul(a, b):\n    \n")
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == "return a * b"
        rejected = FaultSpec(error=ErrorSpec(status=401, code="invalid_api_key"))
        set_default_reply(engine, "x", rejected)
        editor.insert(uri, 0, 0, "# c\n")  # a new context: not served from the cache
        assert await editor.inline(uri, 2, 4, invoked=True) == []
        await editor.wait_state("error")
        stats = await editor.stats()
    finally:
        await stop_editor(editor)
    written = shown_to_the_user(
        editor, stats, log.read_text(encoding="utf-8"), capfd.readouterr().err
    )
    assert "Authorization: [redacted]" in written[1]  # the DEBUG log did try to print the header
    for text in written:
        assert KEY not in text


async def run_doctor(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spark_lsp",
        "doctor",
        env={**os.environ, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


@pytest.mark.parametrize("server_token", [KEY, "another-token"], ids=["ok", "401"])
async def test_doctor_never_prints_the_key(tmp_path: Path, server_token: str) -> None:
    async with ModelServer(
        ServerConfig(token=server_token), ScriptedEngine.reply("a * b")
    ) as model:
        code, out = await run_doctor(
            {"SPARK_LSP_ENDPOINT": model.url, "OPENAI_API_KEY": KEY}, tmp_path
        )
    assert KEY not in out
    assert "key:      present" in out
    if server_token == KEY:
        assert code == 0 and "ok: the model answers" in out
    else:
        assert code == 1
        assert "401" in out.splitlines()[-1] and out.splitlines()[-1].startswith("error:")


# -- the bundled model server ------------------------------------------------------------------


async def test_model_server_refuses_a_non_loopback_bind_without_allow_remote() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spark_lsp.modelserver",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2 and out == b""
    assert b"--allow-remote" in err


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": ""}])
async def test_model_server_needs_the_token(headers: dict[str, str]) -> None:
    async with ModelServer(ServerConfig(token=KEY), ScriptedEngine.reply("x")) as model:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(model.url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401
        assert KEY.encode() not in refused.value.response.body
        assert model.stats.connections_total == 0


async def test_model_server_limits_message_size_and_connections() -> None:
    config = ServerConfig(token=KEY, max_message_bytes=4096, max_connections=2)
    auth = {"Authorization": f"Bearer {KEY}"}
    async with ModelServer(config, ScriptedEngine.reply("x")) as model:
        async with connect(model.url, additional_headers=auth) as first:
            await first.send('{"type":"response.create","input":"' + "x" * 10_000 + '"}')
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(first.recv(), 5)
            assert first.close_code == 1009
        async with (
            connect(model.url, additional_headers=auth),
            connect(model.url, additional_headers=auth),
        ):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(model.url, additional_headers=auth):
                    pass
            assert refused.value.response.status_code == 503


def test_local_engine_reads_only_under_its_workspace(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("TOP_SECRET = 1\n")
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "link.py").symlink_to(outside / "secret.py")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    (root / "pkg" / "up.py").symlink_to(root / "pkg" / "mod.py")  # inside: allowed
    found = list(workspace_files(root))
    assert all(path.is_relative_to(root.resolve()) for path in found)
    assert not any("secret" in path.name for path in found)
    assert (root / "pkg" / "mod.py").resolve() in found


# -- the embedded model server never outlives the language server -----------------------------


def children_running(parent: int, marker: str = "spark_lsp.modelserver") -> list[int]:
    """Live (not zombie) processes whose parent is ``parent`` and whose command line has
    ``marker`` (psutil is not installed: read /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == parent and marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_embedded(tmp_path: Path) -> tuple[LspProcess, int]:
    """``spark-lsp --stdio`` with no endpoint and no key: it starts the bundled model server."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SPARK_LSP_ENDPOINT", "OPENAI_API_KEY", "SPARK_LSP_MODEL")
    }
    server = LspProcess([sys.executable, "-m", "spark_lsp", "--stdio"], env, tmp_path)
    server.request(
        "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}
    )
    server.notify("initialized", {})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = server.request("spark/stats", {})["status"]
        if status["state"] == "ready":
            assert status["endpoint"] == "bundled"
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the embedded model never became ready: {server.stderr_tail()}")
    children = children_running(server.proc.pid)
    assert len(children) == 1, children
    return server, children[0]


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_shutdown_and_exit_stop_the_embedded_model_server(tmp_path: Path) -> None:
    server, child = start_embedded(tmp_path)
    try:
        assert server.close() == 0
        assert wait_gone(child), "the bundled model server outlived shutdown + exit"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_killed_language_server_leaves_no_model_server_behind(tmp_path: Path) -> None:
    server, child = start_embedded(tmp_path)
    try:
        server.proc.kill()  # SIGKILL: no shutdown, no cleanup; the child sees stdin EOF
        server.proc.wait(10)
        assert wait_gone(child), "the bundled model server outlived a killed language server"
    finally:
        server.close()
        if alive(child):
            os.kill(child, signal.SIGKILL)
