"""The "embedded default": the language server runs the bundled model server as a child.

A child process (not an in-process task) keeps the engine's CPU work and memory off the
language server's event loop and lets the same WebSocket client code path serve every setup.
The child gets a fresh bearer token through its environment (argv is visible to other users),
exits when our stdin pipe closes (so it never outlives us), and its stderr is captured: the
language server's stdout is the LSP channel and must never see a stray byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from spark_lsp.errors import ModelUnavailable
from spark_lsp.modelserver.contract import EXCLUDE_OPTION, LISTENING_PREFIX, TOKEN_ENV

STDERR_TAIL_LINES = 20


class EmbeddedModelServer:
    """Starts, watches and stops one bundled model server child process."""

    def __init__(
        self,
        *,
        start_timeout_s: float = 20.0,
        stop_timeout_s: float = 2.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.extra_args = tuple(extra_args)
        self.url: str | None = None
        self.http_url: str | None = None
        self.token: str | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._creating: asyncio.Future[asyncio.subprocess.Process] | None = None
        self._stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        """The child's process id (for diagnostics)."""
        return self._process.pid if self._process is not None else None

    def stderr_tail(self) -> str:
        """The child's last stderr lines, for error messages and logs."""
        return "\n".join(self._stderr)

    async def start(
        self, workspace: Path | Sequence[Path] | None, exclude: Sequence[str] = ()
    ) -> tuple[str, str]:
        """Launch the child and return ``(url, token)``; raises ``ModelUnavailable``.

        ``workspace``: the folders the child learns from (every workspace folder).

        ``exclude`` (the ``spark.context.exclude`` patterns) joins the ignore files and the
        built-in secret patterns in keeping files out of the child's workspace index.
        """
        if self.running and self.url and self.token:
            return self.url, self.token
        await self.stop()
        token = secrets.token_urlsafe(32)
        self._process = await self._spawn(workspace, exclude, token)
        stdout = self._process.stdout
        assert stdout is not None  # created with PIPE
        try:
            line = await asyncio.wait_for(stdout.readline(), self.start_timeout_s)
        except TimeoutError:
            timeout = f"did not report its address within {self.start_timeout_s:g} s"
            raise await self._failure(timeout) from None
        if not line.startswith(LISTENING_PREFIX.encode()):
            raise await self._failure("exited before it was listening")
        # "LISTENING <ws-url> [<http-url>]": the HTTP base URL when started with --http-port.
        urls = line.decode("utf-8", "replace").strip().removeprefix(LISTENING_PREFIX).split()
        url, self.http_url = urls[0], (urls[1] if len(urls) > 1 else None)
        self._readers.append(asyncio.create_task(_drain(stdout, None)))
        self.url, self.token = url, token
        return url, token

    async def _spawn(
        self, workspace: Path | Sequence[Path] | None, exclude: Sequence[str], token: str
    ) -> asyncio.subprocess.Process:
        args = [sys.executable, "-m", "spark_lsp.modelserver", "--port", "0"]
        args += ["--exit-on-stdin-eof", *self.extra_args]
        folders = [workspace] if isinstance(workspace, Path) else list(workspace or ())
        for folder in folders:
            args += ["--workspace", str(folder)]
        if folders:
            args += [f"{EXCLUDE_OPTION}={pattern}" for pattern in exclude]
        env = {**os.environ, TOKEN_ENV: token}
        # Cancelling a creation in flight hangs Python 3.11's event loop for good (it kills the
        # child, then waits for pipes that never connected), so ``stop`` waits for it instead,
        # and a cancelled start lets it finish and ends the child like any other.
        creating = self._creating = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        )
        try:
            process = await asyncio.shield(creating)
        except OSError as exc:
            raise ModelUnavailable(f"Cannot start the bundled model server: {exc}") from None
        except asyncio.CancelledError:
            await self._end_created(creating)
            raise
        finally:
            if self._creating is creating:
                self._creating = None
        assert process.stderr is not None  # created with PIPE
        self._readers.append(asyncio.create_task(_drain(process.stderr, self._stderr)))
        return process

    async def _failure(self, what: str) -> ModelUnavailable:
        """Stop the half-started child; return the error that explains why it failed."""
        process = self._process
        await self.stop()
        code = process.returncode if process is not None else None
        detail = self.stderr_tail() or "(no output)"
        return ModelUnavailable(
            f"The bundled model server {what} (exit code {code}). Its last output: {detail}"
        )

    async def stop(self) -> None:
        """Stop the child: close its stdin, terminate, kill if it lingers. Idempotent."""
        creating, self._creating = self._creating, None
        if creating is not None:
            await self._end_created(creating)
        process, self._process = self._process, None
        self.url = self.token = None
        if process is not None:
            await self._end(process)
        readers, self._readers = self._readers, []
        for reader in readers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 1.0)
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    async def _end_created(self, creating: asyncio.Future[asyncio.subprocess.Process]) -> None:
        """Let a creation in flight finish (milliseconds), then end the child it made."""
        try:
            process = await asyncio.shield(creating)
        except asyncio.CancelledError:
            if creating.cancelled():  # by the loop's own shutdown: nothing was made
                return
            raise
        except Exception:  # it failed: nothing to end
            return
        await self._end(process)

    async def _end(self, process: asyncio.subprocess.Process) -> None:
        if process.stdin is not None:
            process.stdin.close()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        try:
            await asyncio.wait_for(process.wait(), self.stop_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _drain(stream: asyncio.StreamReader, keep: deque[str] | None) -> None:
    """Read a child's pipe to its end (so the child never blocks), keeping lines if asked."""
    while line := await stream.readline():
        if keep is not None:
            keep.append(line.decode("utf-8", "replace").rstrip())
