"""A minimal LSP client over a child process's stdio, for checking editor command lines.

Editors start ``spark-lsp`` from a command line they own (LSP4IJ's ``programArgs``, Helix's
``command``...). These tests start exactly that command and speak raw JSON-RPC, so what is
tested is the command line, not a test harness's idea of it.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

Message = dict[str, Any]


class LspProcess:
    """A language server child process; messages are read on a thread into a queue."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.stderr_path = cwd / "server-stderr.log"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        self._inbox: queue.Queue[Message | None] = queue.Queue()
        self._next_id = 0
        self.notifications: list[Message] = []
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self._inbox.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            self._inbox.put(json.loads(stream.read(length)))

    def send(self, message: Message) -> None:
        """Write one message with its Content-Length header."""
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.send({"method": method, "params": params})

    def request(
        self,
        method: str,
        params: Any,
        timeout_s: float = 10.0,
        on_request: Callable[[Message], Any] | None = None,
    ) -> Any:
        """Send a request and return its result; server requests are answered by ``on_request``
        (``None`` answers null) and notifications are kept in ``self.notifications``."""
        self._next_id += 1
        request_id = self._next_id
        self.send({"id": request_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout_s
        while True:
            message = self.receive(deadline - time.monotonic())
            if "method" in message and "id" in message:
                result = on_request(message) if on_request else None
                self.send({"id": message["id"], "result": result})
            elif "method" in message:
                self.notifications.append(message)
            elif message.get("id") == request_id:
                if "error" in message:
                    raise AssertionError(f"{method} failed: {message['error']}")
                return message.get("result")

    def receive(self, timeout_s: float) -> Message:
        """The next message from the server."""
        try:
            message = self._inbox.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            raise AssertionError("no message from the server in time") from None
        if message is None:
            raise AssertionError(f"the server exited: {self.stderr_tail()}")
        return message

    def stderr_tail(self) -> str:
        """The end of the server's stderr so far."""
        self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]

    def close(self) -> int | None:
        """shutdown + exit when still running; kill if it does not stop. Returns the exit code."""
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None, timeout_s=5)
                self.notify("exit", None)
            except (AssertionError, OSError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()
        return self.proc.returncode
