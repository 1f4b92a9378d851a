"""A cloned repository's settings can neither run a program nor send the key elsewhere.

Eglot forwards a repository's ``.dir-locals.el`` as the ``workspace/configuration`` answer
without asking, and other clients forward project-local settings too. Here the client's answer
carries what a hostile repository would put there: an ``apiKeyCommand`` that writes a marker
file and an ``endpoint`` on a loopback server that records ``Authorization`` headers.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

from lsprotocol import types

from spark_lsp.modelserver.engines.scripted import ScriptedEngine

from . import launch, popups, stop_editor

REPLY = "return a * b"
DOC = "def mul(a, b):\n    \n"


class Recorder:
    """A loopback HTTP server that records each request's ``Authorization`` header."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.authorizations: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        self.requests.append(lines[0])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "authorization":
                self.authorizations.append(value.strip())
        writer.write(b"HTTP/1.1 500 Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def workspace(tmp_path: Path) -> Path:
    """The workspace folder, apart from the test's other files (the marker, the config)."""
    root = tmp_path / "ws"
    root.mkdir()
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hostile_settings(marker: Path, url: str) -> dict[str, Any]:
    """What a repository's ``.dir-locals.el`` would make Eglot answer."""
    return {
        "spark": {
            "model": {
                "apiKeyCommand": f"touch {marker}; echo sk-from-the-repository-0123456789",
                "endpoint": url,
            }
        }
    }


async def test_workspace_settings_cannot_run_a_program_or_redirect_the_key(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran-the-repository-command"
    hostile = Recorder()
    hostile_url = await hostile.start()
    port = free_port()
    editor = await launch(
        workspace(tmp_path),
        ScriptedEngine.reply(REPLY),
        # The user's own endpoint comes the safe way; the environment names none.
        init_options={"model": {"endpoint": f"ws://127.0.0.1:{port}/v1/responses"}},
        configuration=hostile_settings(marker, hostile_url),
        env={"SPARK_LSP_ENDPOINT": ""},
        model_config={"port": port},
    )
    try:
        uri = editor.open("calc.py", DOC)
        first = await editor.inline(uri, 1, 4, invoked=True)
        # A settings change re-reads the answer: still ignored, and not warned about again.
        editor.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None)
        )
        editor.insert(uri, 0, 0, "# c\n")
        second = await editor.inline(uri, 2, 4, invoked=True)
        await asyncio.sleep(0.5)
        assert not marker.exists(), "the repository's apiKeyCommand ran"
        assert hostile.requests == [], f"the repository's endpoint was called: {hostile.requests}"
        assert hostile.authorizations == []
        assert [i.insert_text for i in first + second] == [REPLY, REPLY]
        assert editor.model.stats.connections_total >= 1  # the user's endpoint got the work
        warned = popups(editor, "apiKeyCommand")
        assert len(warned) == 1, popups(editor)
        assert "spark.model.endpoint" in warned[0] and hostile_url not in warned[0]
        assert "touch" not in warned[0] and str(marker) not in warned[0]
    finally:
        await stop_editor(editor)
        await hostile.close()


async def test_the_same_value_from_the_workspace_is_no_warning(tmp_path: Path) -> None:
    """Clients that send every setting repeat the user's machine values: nothing to warn."""
    port = free_port()
    endpoint = f"ws://127.0.0.1:{port}/v1/responses"
    editor = await launch(
        workspace(tmp_path),
        ScriptedEngine.reply(REPLY),
        init_options={"model": {"endpoint": endpoint}},
        configuration={"spark": {"model": {"endpoint": endpoint, "apiKeyCommand": None}}},
        env={"SPARK_LSP_ENDPOINT": ""},
        model_config={"port": port},
    )
    try:
        await editor.wait_state("ready")
        assert popups(editor) == []
    finally:
        await stop_editor(editor)


async def test_the_user_config_file_sets_machine_settings(tmp_path: Path) -> None:
    """``$XDG_CONFIG_HOME/spark-lsp/config.json`` is a machine source (doctor names it)."""
    port = free_port()
    config_home = tmp_path / "config"
    (config_home / "spark-lsp").mkdir(parents=True)
    (config_home / "spark-lsp" / "config.json").write_text(
        json.dumps({"spark.model.endpoint": f"ws://127.0.0.1:{port}/v1/responses"})
    )
    editor = await launch(
        workspace(tmp_path),
        ScriptedEngine.reply(REPLY),
        env={"SPARK_LSP_ENDPOINT": "", "XDG_CONFIG_HOME": str(config_home)},
        model_config={"port": port},
    )
    try:
        await editor.wait_state("ready")
        uri = editor.open("calc.py", DOC)
        assert (await editor.inline(uri, 1, 4, invoked=True))[0].insert_text == REPLY
        assert editor.model.stats.generate_requests >= 1
    finally:
        await stop_editor(editor)

