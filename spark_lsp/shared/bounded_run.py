"""Run a helper program with a deadline and an output cap, and leave nothing running behind.

``subprocess.run(..., timeout=...)`` kills only the process it started: a shell's children (the
``sleep`` in ``sh -c 'sleep 60; echo key'``, a program ``git`` started) live on as orphans, and
``capture_output`` holds the whole output in memory before any cap can apply. Here the program
gets its own process group, which is killed as a whole when the deadline passes or the output
grows past the cap; output is read as it comes, so memory stays within the cap.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: How often a silent pipe is checked for a program that has ended.
_POLL_S = 0.1


class RunTimeout(Exception):
    """The program did not finish within its deadline (its process group was killed)."""


@dataclass(frozen=True)
class Finished:
    """A program that ran to its end, or was stopped at the output cap (``truncated``)."""

    returncode: int
    stdout: bytes
    truncated: bool = False


def run_bounded(
    args: Sequence[str] | str,
    *,
    timeout: float,
    max_output: int,
    shell: bool = False,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Finished:
    """Run ``args``; stdout is kept up to ``max_output`` bytes, stderr is discarded.

    Past the cap the process group is killed and the result is ``truncated``; past ``timeout``
    seconds it is killed and :class:`RunTimeout` is raised. OSError when it cannot start.
    """
    process = subprocess.Popen(  # noqa: S603 (callers pass fixed argv or the user's command)
        args,
        shell=shell,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=None if env is None else dict(env),
        start_new_session=True,  # its own process group, killed as a whole
    )
    deadline = time.monotonic() + timeout
    try:
        if stdin is not None:
            _feed(process, stdin)
        output, truncated = _read_capped(process, deadline, max_output)
        if truncated:
            _kill_group(process)
        remaining = max(0.0, deadline - time.monotonic())
        try:
            code = process.wait(remaining)
        except subprocess.TimeoutExpired:
            raise RunTimeout from None
        return Finished(code, output, truncated)
    finally:
        if process.poll() is None:
            _kill_group(process)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    """Write stdin from a thread: a program may answer before it has read everything."""
    pipe = process.stdin
    assert pipe is not None

    def write() -> None:
        try:
            pipe.write(data)
        except (BrokenPipeError, ValueError, OSError):
            pass  # it stopped reading (or was killed): its output says what it did
        finally:
            try:
                pipe.close()
            except OSError:
                pass

    threading.Thread(target=write, name="bounded-run-stdin", daemon=True).start()


def _read_capped(
    process: subprocess.Popen[bytes], deadline: float, max_output: int
) -> tuple[bytes, bool]:
    """Read stdout until EOF, the cap or the deadline (RunTimeout)."""
    pipe = process.stdout
    assert pipe is not None
    fd = pipe.fileno()
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunTimeout
            if not selector.select(min(remaining, _POLL_S)):
                if process.poll() is not None:
                    # It ended, but something it started still holds the pipe open (an agent
                    # it launched): what it printed is all there is.
                    return b"".join(chunks), False
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
            if size > max_output:
                return b"".join(chunks)[:max_output], True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
