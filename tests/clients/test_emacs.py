"""spark-lsp in real Emacs with Eglot (``emacs -Q --batch``), configured as the README says.

Each test runs ``emacs/eglot_test.el`` for one check against the real language server and a
scripted model server of this module (its script adds the replies these checks need to the
shared one). The script prints ``ok: ...`` per check and ends with ``PASS`` or ``FAIL: why``;
the assertions here also require the checks that matter, so a script that stopped early cannot
pass. Emacs 28 needs Debian's ``elpa-eglot`` (Eglot is built in from Emacs 29); CI installs
both (``.ci/run``), a machine without ``emacs`` skips these tests.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import (
    COMPLETION,
    MODEL_SCRIPT,
    ModelServer,
    scripted_model_server,
)
from tests.clients.editor_process import run_batch_editor

SCRIPT = Path(__file__).parent / "emacs" / "eglot_test.el"
TIMEOUT_S = 45
#: The model's reply to the mid-word request: the rest of the word the user is typing.
MID_WORD_TEXT = "def sub(a, b):\n    ret"
MID_WORD_REPLY = "urn a - b"
#: The failing action: the model drops the connection before a token (as in issue 22).
FAILING_TASK = "Task: Add a docstring"
EMACS_SCRIPT = {
    **MODEL_SCRIPT,
    "replies": [
        {"when": "def sub(a, b):", "text": MID_WORD_REPLY},
        {"when": FAILING_TASK, "text": "", "fault": {"drop_after_deltas": 0}},
        *MODEL_SCRIPT["replies"],
    ],
}


@functools.cache
def _missing() -> str | None:
    """Why Emacs with Eglot cannot run here, or None when it can."""
    if shutil.which("emacs") is None:
        return "emacs not found: apt-get install emacs-nox elpa-eglot (.ci/run installs them)"
    env = {**os.environ, "SPARK_TEST_DIR": str(SCRIPT.parent), "SPARK_EMACS_CHECK": "load"}
    probe = subprocess.run(["emacs", "-Q", "--batch", "-l", str(SCRIPT)], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=TIMEOUT_S, check=False)
    lines = probe.stdout.strip().splitlines()
    return None if lines[-1:] == ["PASS"] else (lines or [probe.stderr.strip()])[-1]


@pytest.fixture(scope="module", autouse=True)
def _emacs() -> None:
    """Skip without Emacs and Eglot, but fail where they are required (CI sets
    SPARK_REQUIRE_EMACS)."""
    why = _missing()
    if why is None:
        return
    if os.environ.get("SPARK_REQUIRE_EMACS"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """This module's scripted model server (``client_env`` points the editor at it)."""
    with scripted_model_server(EMACS_SCRIPT, tmp_path_factory.mktemp("emacs-model")) as server:
        yield server


def run_emacs(check: str, env: dict[str, str], workspace: Path, **extra: str) -> str:
    """Run one check of ``eglot_test.el``; returns its output, fails on anything but PASS."""
    env = {**env, "HOME": str(workspace.parent / "home"), "SPARK_TEST_DIR": str(workspace),
           "SPARK_EMACS_CHECK": check, "SPARK_TEST_TIMEOUT_S": str(TIMEOUT_S - 5), **extra}
    Path(env["HOME"]).mkdir(exist_ok=True)
    command = ["emacs", "-Q", "--batch", "-l", str(SCRIPT)]
    return run_batch_editor(f"eglot_test.el ({check})", command, env, workspace, TIMEOUT_S)


def model_stats(server: ModelServer) -> dict[str, Any]:
    """``GET /v1/spark/stats`` of the scripted model server: what it was asked."""
    url = server.url.replace("ws://", "http://", 1).split("/v1/", 1)[0] + "/v1/spark/stats"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {server.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        stats: dict[str, Any] = json.load(response)
    return stats


def test_completion_at_a_word_start(client_env: dict[str, str], workspace: Path) -> None:
    output = run_emacs("completion", client_env, workspace,
                       SPARK_TEST_TEXT="def mul(a, b):\n    return ",
                       SPARK_EXPECT_LINE=f"    return {COMPLETION}")
    assert f"ok: completed:     return {COMPLETION}" in output
    assert "ok: after eglot-shutdown no process is left" in output


def test_completion_mid_word(client_env: dict[str, str], workspace: Path) -> None:
    output = run_emacs("completion", client_env, workspace, SPARK_TEST_TEXT=MID_WORD_TEXT,
                       SPARK_EXPECT_LINE="    return a - b")
    assert "ok: completed:     return a - b" in output


def test_code_action_is_applied(client_env: dict[str, str], workspace: Path) -> None:
    output = run_emacs("code-action", client_env, workspace)
    assert "ok: Spark: Simplify applied" in output
    assert "ok: Edit selection is not offered" in output
    assert "ok: after eglot-shutdown no process is left" in output


def test_declined_edit_is_not_an_error(client_env: dict[str, str], workspace: Path) -> None:
    output = run_emacs("declined-edit", client_env, workspace)
    assert "ok: declined: the buffer is unchanged" in output
    assert "ok: the server showed no message for the declined edit" in output


def test_failing_action_is_picked_once(client_env: dict[str, str], workspace: Path) -> None:
    """The model drops the connection: the pick fails without a resolve loop."""
    output = run_emacs("failing-action", client_env, workspace)
    assert "ok: one pick sent one request" in output
    assert "ok: the buffer is unchanged" in output
    assert "ok: after eglot-shutdown no process is left" in output


def test_failing_action_makes_at_most_one_model_call(
    client_env: dict[str, str], workspace: Path, model_server: ModelServer
) -> None:
    def failing_calls() -> int:
        return sum(FAILING_TASK in json.dumps(message)
                   for message in model_stats(model_server)["received"])

    before = failing_calls()
    output = run_emacs("failing-action", client_env, workspace)
    calls = failing_calls() - before
    assert calls <= 1, f"one pick of a failing action made {calls} model calls\n{output}"


def test_bundled_model_declines_and_shutdown_leaves_no_process(
    client_env: dict[str, str], workspace: Path
) -> None:
    """No endpoint: spark-lsp starts its bundled model server, which cannot follow edit
    instructions; the pick fails with one model call and ``eglot-shutdown`` ends both
    processes."""
    env = {k: v for k, v in client_env.items()
           if k not in ("SPARK_LSP_ENDPOINT", "OPENAI_API_KEY")}
    output = run_emacs("failing-action", env, workspace)
    assert "ok: one pick sent one request" in output
    assert "ok: the buffer is unchanged" in output
    calls = re.search(r"^info: spark-lsp counted (\d+) model request", output, re.MULTILINE)
    assert calls is not None and int(calls[1]) <= 1, output
    assert "ok: after eglot-shutdown no process is left (2 checked)" in output
