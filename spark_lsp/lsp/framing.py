"""LSP base-protocol framing (``Content-Length`` headers) that a broken frame cannot wedge.

pygls' reader trusts every header: a ``Content-Length`` of 10^20 ends the process with a
traceback, and a too-short, too-long or lowercase one desynchronises the stream so that every
later request goes unanswered while the process stays up. Here the parser is sans-I/O (bytes
in, bodies and problems out): it bounds the length, reads header names case-insensitively and,
after a broken frame, resynchronises on the next ``Content-Length`` header. The only fatal
case is a length over the limit, where the body cannot be skipped: the server says so in one
line and exits with status 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any

log = logging.getLogger(__name__)

#: Larger than any sane LSP message (a 100 MB file opened in full is ~100 MB of JSON).
MAX_CONTENT_LENGTH = 256 * 1024 * 1024
#: A header block longer than this is junk: keep only its tail while resynchronising.
MAX_HEADER_BYTES = 64 * 1024
_HEADER_END = b"\r\n\r\n"
_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([0-9]*)[ \t]*(?:\r\n|$)", re.IGNORECASE)


class FrameTooLarge(Exception):
    """A ``Content-Length`` over :data:`MAX_CONTENT_LENGTH`: the stream cannot be recovered."""

    def __init__(self, declared: str) -> None:
        shown = declared if len(declared) <= 24 else declared[:20] + "..."
        super().__init__(
            f"a message declared Content-Length {shown}, over the limit of "
            f"{MAX_CONTENT_LENGTH} bytes; the stream cannot be resynchronised, exiting"
        )


@dataclass(frozen=True, slots=True)
class BrokenFrame:
    """A header block without a usable length, skipped (the reason is logged)."""

    reason: str


class FrameParser:
    """Bytes in, message bodies (or :class:`BrokenFrame` notes) out."""

    def __init__(self, max_length: int = MAX_CONTENT_LENGTH) -> None:
        self._buffer = bytearray()
        self._body_length: int | None = None
        self._max_length = max_length

    def feed(self, data: bytes) -> list[bytes | BrokenFrame]:
        """Add bytes; return every complete body (and skipped frame) they finish."""
        self._buffer += data
        out: list[bytes | BrokenFrame] = []
        while (item := self._next()) is not None:
            out.append(item)
        return out

    def _next(self) -> bytes | BrokenFrame | None:
        if self._body_length is None:
            return self._header()
        if len(self._buffer) < self._body_length:
            return None
        body = bytes(self._buffer[: self._body_length])
        del self._buffer[: self._body_length]
        self._body_length = None
        return body

    def _header(self) -> bytes | BrokenFrame | None:
        end = self._buffer.find(_HEADER_END)
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                del self._buffer[: -len(_HEADER_END)]
                return BrokenFrame(f"a header over {MAX_HEADER_BYTES} bytes")
            return None
        block = bytes(self._buffer[:end])
        del self._buffer[: end + len(_HEADER_END)]
        # The last Content-Length in the block: after a frame whose length was wrong, the
        # header of the next good frame follows the left-over bytes on the same line.
        found = list(_LENGTH.finditer(block))
        if not found:
            return BrokenFrame("a header without Content-Length")
        digits = found[-1].group(1).decode("ascii")
        if not digits or int(digits) == 0:
            return BrokenFrame(f"Content-Length {digits or '(empty)'!r}")
        if len(digits) > 12 or int(digits) > self._max_length:
            raise FrameTooLarge(digits)
        self._body_length = int(digits)
        return self._next()


async def serve_frames(
    read: Callable[[], Awaitable[bytes]],
    protocol: Any,
    on_error: Callable[[Exception], None],
) -> None:
    """Feed ``protocol`` every message read until EOF; FrameTooLarge propagates."""
    parser = FrameParser()
    while chunk := await read():
        for item in parser.feed(chunk):
            if isinstance(item, BrokenFrame):
                log.error("skipped a broken LSP frame (%s); resynchronising", item.reason)
            else:
                dispatch(item, protocol, on_error)


def dispatch(body: bytes, protocol: Any, on_error: Callable[[Exception], None]) -> None:
    """Parse one body and hand it to the protocol; unparsable JSON gets a ParseError reply."""
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        log.error("skipped an LSP message that is not JSON (%s)", exc)
        protocol.send_parse_error(f"the message is not valid JSON: {exc}")
        return
    except Exception as exc:  # already answered or logged by structure_message
        on_error(exc)
        return
    try:
        protocol.handle_message(message)
    except Exception as exc:
        log.exception("Unable to handle message")
        on_error(exc)


class StdinChunks:
    """Read stdin on a daemon thread, one chunk at a time, with back-pressure.

    A daemon thread (not pygls' thread pool) so that a read blocked on an idle pipe never
    delays the exit: the pool's shutdown waits for its threads.
    """

    def __init__(self, stream: IO[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=4)
        threading.Thread(target=self._pump, name="spark-lsp-stdin", daemon=True).start()

    def _reader(self) -> Callable[[int], bytes]:
        """``os.read`` on the descriptor: a daemon thread blocked inside a buffered stream's
        lock aborts the interpreter at exit ("could not acquire lock ... at shutdown")."""
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError, AttributeError):
            return getattr(self._stream, "read1", self._stream.read)
        return lambda size: os.read(fd, size)

    def _pump(self) -> None:
        read = self._reader()
        while True:
            try:
                chunk = read(65536)
            except (OSError, ValueError):
                chunk = b""
            future = asyncio.run_coroutine_threadsafe(self._queue.put(chunk), self._loop)
            try:
                future.result()
            except (RuntimeError, asyncio.CancelledError):  # the loop is gone
                return
            if not chunk:
                return

    async def read(self) -> bytes:
        """The next chunk; ``b""`` at EOF."""
        return await self._queue.get()
