"""Fixtures for the editor-client tests: a scripted model server and the client environment.

The model server is started once per session on a loopback port (``--port 0``) with a script
whose replies the Neovim tests expect; every language server the tests start is pointed at it
with ``SPARK_LSP_ENDPOINT`` and its token as ``OPENAI_API_KEY``, so nothing leaves the machine
and every answer is known in advance.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
START_TIMEOUT_S = 20.0

#: What the scripted model answers. Completions get the default; edit prompts name their task.
COMPLETION = "a * b"
#: The next-edit reply for a history that shows ``w`` renamed to ``width`` (fenced, as chat
#: models answer): the window with the parameter's use renamed too.
NEXT_EDIT_RENAME = (
    "```python\ndef area(width, h):\n    return width * h\n\n\nprint(area(2, 3))\n```"
)
#: Alternatives: the extra calls of an explicit request are told which suggestion they are.
ALTERNATIVES = (COMPLETION, "b * a", "mul_two(a, b)")
#: A slow stand-in: this header makes the model wait before its first token.
SLOW_TRIGGER = "def slow_pick("
SLOW_COMPLETION = "a - b"
SLOW_STALL_S = 1.5
MODEL_SCRIPT = {
    "ttft_ms": 0,
    "tokens_per_second": 0,
    "replies": [
        {"when": "this is suggestion 2", "text": ALTERNATIVES[1]},
        {"when": "this is suggestion 3", "text": ALTERNATIVES[2]},
        {
            "when": SLOW_TRIGGER,
            "text": SLOW_COMPLETION,
            "fault": {"stall_after_deltas": 0, "stall_s": SLOW_STALL_S},
        },
        {"when": "+def area(width, h):", "text": NEXT_EDIT_RENAME},
        {"when": "Task: Simplify", "text": "def double(x):\n    return x * 2\n"},
        {
            "when": "Task: Apply this instruction: rename to twice",
            "text": "def twice(x):\n    return x * 2\n",
        },
        {
            "when": "Task: Apply this instruction: add type hints",
            "text": "def twice(x: int) -> int:\n    return x * 2\n",
        },
    ],
    "default": {"text": COMPLETION},
}


@dataclass(frozen=True)
class ModelServer:
    """A running scripted model server."""

    url: str
    token: str


def _read_line(stream: IO[str] | None, timeout_s: float) -> str:
    """One line from ``stream``, or "" when none comes within ``timeout_s``."""
    if stream is None:
        return ""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout_s)
    except queue.Empty:
        return ""


@contextlib.contextmanager
def scripted_model_server(script: dict[str, Any], directory: Path) -> Iterator[ModelServer]:
    """``python -m spark_lsp.modelserver --engine scripted`` on a free loopback port, stopped
    on exit. Editor tests whose checks need replies of their own start one with their script."""
    path = directory / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    token = "spark-test-token"
    env = {**os.environ, "SPARK_MODEL_SERVER_TOKEN": token}
    command = [sys.executable, "-m", "spark_lsp.modelserver", "--engine", "scripted",
               "--script", str(path), "--port", "0"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        first = _read_line(proc.stdout, START_TIMEOUT_S).strip()
        if not first.startswith("LISTENING "):
            proc.kill()
            _, err = proc.communicate(timeout=5)
            pytest.fail(f"the scripted model server did not start: {first!r} {err[-2000:]!r}")
        yield ModelServer(url=first.split(" ", 1)[1], token=token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """The scripted model server of :data:`MODEL_SCRIPT`, shared by the session's tests."""
    with scripted_model_server(MODEL_SCRIPT, tmp_path_factory.mktemp("model")) as server:
        yield server


@pytest.fixture
def client_env(model_server: ModelServer, tmp_path: Path) -> dict[str, str]:
    """Environment for an editor (and the server it starts): scripted model, private dirs."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SPARK_", "OPENAI_", "NVIM", "VIM"))}
    env.update(
        PATH=f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}",
        SPARK_LSP_ENDPOINT=model_server.url,
        OPENAI_API_KEY=model_server.token,
        XDG_CONFIG_HOME=str(tmp_path / "xdg" / "config"),
        XDG_DATA_HOME=str(tmp_path / "xdg" / "data"),
        XDG_STATE_HOME=str(tmp_path / "xdg" / "state"),
        XDG_CACHE_HOME=str(tmp_path / "xdg" / "cache"),
    )
    return env


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty project folder (with a ``.git`` root marker)."""
    root = tmp_path / "workspace"
    (root / ".git").mkdir(parents=True)
    return root
