"""Time to first token and request bytes per completion: WebSocket vs HTTP Responses vs HTTP Chat.

One bundled model server process (scripted engine, 0 ms to first token) serves WebSocket mode
on one port and both HTTP APIs on another, all over TLS on loopback (wss://, https://), trusted
through ``caFile`` as a corporate CA would be. Each transport runs the same completions: a
12 kB stable part (a file's context) plus a short volatile part. WebSocket mode runs twice:
full prompts, and chained from a warmed anchor (only the volatile part on the wire); HTTP has
no connection-local state, so it always sends the full prompt. Bytes are what the request puts
on the wire before compression: the JSON frame (WebSocket) or the HTTP head plus body. The
transports take turns request by request, so a busy machine slows them alike.

Run: python -m benchmarks.bench_transports [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.common import scripted_server, self_signed_cert, summary, table
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.model.session import ModelSession, SessionOptions

STABLE = "".join(f"def helper_{i}(value):\n    return value * {i} + 1\n\n" for i in range(300))
VOLATILE = "def mul(a, b):\n    return <|cursor|>\n"
REQUEST = CreateRequest(
    input_texts=(STABLE[:12_000], VOLATILE), model="bench", instructions="Complete the code.",
    max_output_tokens=16,
)  # fmt: skip


@dataclass
class Case:
    """One transport under test: its open session and what it measured."""

    label: str
    session: ModelSession
    request: CreateRequest
    full: tuple[str, ...] | None = None
    ttft: list[float] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)

    async def once(self) -> None:
        """One completion: time to its first delta, and its request's bytes."""
        started = time.perf_counter()
        async with self.session.stream(self.request, full_input=self.full) as response:
            async for _ in response:
                self.ttft.append((time.perf_counter() - started) * 1000)
                break
        self.sent.append(response.bytes_sent)


async def open_case(label: str, options: ConnectOptions, *, chained: bool) -> Case:
    """Connect (and, for the chained case, warm the stable part once)."""
    session = ModelSession(SessionOptions(connect=options, model="bench"))
    session.start()
    assert await session.wait_ready(10), session.status
    if not chained:
        return Case(label, session, REQUEST)
    anchor = await session.warm(replace(REQUEST, input_texts=REQUEST.input_texts[:1]))
    request = replace(REQUEST, input_texts=(VOLATILE,), previous_response_id=anchor)
    return Case(label, session, request, REQUEST.input_texts)


async def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="spark-bench-transports-"))
    cert, key = self_signed_cert(folder)
    tls = ("--tls-cert", cert, "--tls-key", key, "--http-port", "0")
    server = await scripted_server({"default": {"text": "a * b"}, "ttft_ms": 0}, *tls)
    ws_url, token = await server.start(None)
    http_url = server.http_url
    assert http_url is not None
    base = ConnectOptions(url=ws_url, api_key=token, ca_file=cert)
    specs = [
        ("WebSocket, Responses (full prompt)", replace(base, transport="websocket"), False),
        ("WebSocket, Responses (chained)", replace(base, transport="websocket"), True),
        ("HTTP/1.1 SSE, Responses", replace(base, url=http_url, transport="http"), False),
        ("HTTP/1.1 SSE, Chat Completions",
         replace(base, url=http_url, transport="http", api="chat"), False),
    ]  # fmt: skip
    cases = [await open_case(label, options, chained=chained) for label, options, chained in specs]
    try:
        for round_ in range(20 + n):  # interleaved, so load changes hit every transport alike
            for case in cases:
                await case.once()
            if round_ == 19:  # the first 20 rounds warm imports and server caches
                for case in cases:
                    case.ttft.clear()
                    case.sent.clear()
    finally:
        for case in cases:
            await case.session.close()
        await server.stop()
    reference = summary(cases[0].ttft)[0]
    rows = []
    for case in cases:
        median, p99 = summary(case.ttft)
        bytes_sent = int(statistics.median(case.sent))
        rows.append([case.label, median, p99, bytes_sent, f"{median / reference:.2f}x"])
    print(
        table(
            f"Time to first token and request bytes per completion, bundled server over TLS "
            f"on loopback, scripted engine at 0 ms ({n} requests each, interleaved)",
            ["transport", "TTFT median ms", "TTFT p99 ms", "bytes/request", "median vs WS"],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
