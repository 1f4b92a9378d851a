"""Run an editor in batch for one scripted check, never longer than a deadline.

The Neovim and Emacs tests start the editor in a session of its own, so the language server
it starts (and that server's bundled model server) can be killed with it when a check hangs.
A check script prints ``ok: ...`` lines and ends with ``PASS`` (or ``FAIL: why``).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest


def run_batch_editor(
    name: str, command: list[str], env: dict[str, str], cwd: Path, timeout_s: float
) -> str:
    """Run ``command``; returns its output, fails the test on anything but a final PASS."""
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the editor and the language server it started
        output, _ = proc.communicate()
        pytest.fail(f"{name} took longer than {timeout_s} s:\n{output}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers of our own process group
        except ProcessLookupError:
            pass
    print(output)  # shown by pytest -rA or on failure
    lines = output.strip().splitlines()
    last = lines[-1] if lines else ""
    assert proc.returncode == 0 and last == "PASS", f"{name} failed:\n{output}"
    return output
