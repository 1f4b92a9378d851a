"""Per-request overhead: one persistent session vs a new WebSocket connection per request.

The scripted engine answers at once (0 ms to first token, no pacing), so time to first token is
all overhead: handshake (per-request mode only), framing, the server's turn, our reader.

Run: python benchmarks/bench_session.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import scripted_server, self_signed_cert, summary, table
from spark_lsp.model.connection import ConnectOptions, dial
from spark_lsp.model.protocol import CreateRequest, TextDelta
from spark_lsp.model.session import ModelSession, SessionOptions

REQUEST = CreateRequest(
    input_texts=("def add(a, b):\n    return <|cursor|>\n",), model="bench", max_output_tokens=16
)


async def persistent(options: ConnectOptions, n: int) -> list[float]:
    """TTFT of ``n`` sequential requests over one warm session."""
    session = ModelSession(SessionOptions(connect=options, model="bench"))
    session.start()
    assert await session.wait_ready(10)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.stream(REQUEST) as response:
            async for _ in response:
                samples.append((time.perf_counter() - started) * 1000)
                break
    await session.close()
    return samples


async def per_request(options: ConnectOptions, n: int) -> list[float]:
    """TTFT when every request dials its own connection (what a naive client does)."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        conn = await dial(options)
        inflight = await conn.send(REQUEST, "")
        while not isinstance(await inflight.queue.get(), TextDelta):
            pass
        samples.append((time.perf_counter() - started) * 1000)
        await conn.close()
    return samples


async def measure(n: int, *tls: str) -> tuple[list[float], list[float]]:
    """Both modes against one server process (``tls``: ``--tls-cert C --tls-key K``)."""
    server = await scripted_server({"default": {"text": "a + b"}, "ttft_ms": 0}, *tls)
    url, token = await server.start(None)
    options = ConnectOptions(url=url, api_key=token)
    try:
        await persistent(options, 20)  # warm both paths (imports, server caches)
        await per_request(options, 20)
        return await persistent(options, n), await per_request(options, n)
    finally:
        await server.stop()


async def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="spark-bench-tls-"))
    cert, key = self_signed_cert(folder)
    rows = []
    for label, tls in (
        ("ws:// (loopback, no TLS)", ()),
        ("wss:// (loopback, TLS 1.3)", ("--tls-cert", cert, "--tls-key", key)),
    ):
        os.environ["SSL_CERT_FILE"] = cert  # trust the throw-away certificate
        warm, cold = await measure(n, *tls)
        (warm_med, warm_p99), (cold_med, cold_p99) = summary(warm), summary(cold)
        rows += [
            [label, "persistent session", warm_med, warm_p99, ""],
            [
                label,
                "connection per request",
                cold_med,
                cold_p99,
                f"{cold_med / warm_med:.1f}x median, {cold_p99 / warm_p99:.1f}x p99",
            ],
        ]
    print(
        table(
            f"Time to first token, bundled server, scripted engine at 0 ms ({n} requests each)",
            ["transport", "mode", "median ms", "p99 ms", "per-request / persistent"],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
