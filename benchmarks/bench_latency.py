"""Latency and footprint as an editor sees them, in one run: the figures of issue 13.

A real LSP client drives the real server (stdio), typing as an editor does (incremental
didChange, an automatic inline request after each key); the model is the scripted model server
in its own process, 150 ms to first token and 1,000 tokens/s. Measured:

* one key after a pause -> suggestion (the leading edge asks at once);
* a 60-key burst at 40 ms/key, last key -> suggestion, and model calls, on a warm server
  (WARM_BURSTS bursts, a pause between them) and on fresh ones (FRESH_SERVERS servers, each
  spawned, initialized, document opened, burst started at once): the median time and the most
  calls any one burst made;
* accepting a suggestion (whole, first word, then the rest) -> the suggestion at the new cursor,
  with the model calls that request started (from spark/stats: calls minus prefetches);
* spawn -> initialize result, spark-lsp vs a bare pygls server (benchmarks/bare_pygls_server.py),
  alternating, same Python;
* peak and steady RSS while serving completions on a 128k-token document;
* the server's own added latency per model request (spark/stats "overhead").

Our package is byte-compiled first, as ``pip install`` does for a wheel (an editable install
under ``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module on every start, which
pygls and lsprotocol, installed from wheels, never do): start-up compares like with like.

Run: python -m benchmarks.bench_latency
"""

from __future__ import annotations

import asyncio
import compileall
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

from benchmarks.bench_completion import (
    Driver,
    burst,
    model_time,
    rss_peak_mb,
    start_server,
)
from benchmarks.common import loaded_counter, scripted_server, summary, table, to_plain
from spark_lsp.shared.prompt_format import CURSOR

TTFT_MS = 150
FIRST = "subtotal = price"
#: What the model says once FIRST was accepted: the prefetch's prompt has FIRST before the cursor.
AFTER_FIRST = " * quantity + shipping(price)"
SPAWNS = 7
WARM_BURSTS = 5
FRESH_SERVERS = 5
PAUSED_KEYS = 10
ACCEPTS = 6


def script() -> dict[str, Any]:
    return {
        "replies": [{"when": FIRST + CURSOR, "text": AFTER_FIRST}],
        "default": {"text": FIRST},
        "ttft_ms": TTFT_MS,
        "tokens_per_second": 1000,
    }


def body(functions: int) -> str:
    """Python with ``functions`` empty function bodies to complete in (one per 3 lines)."""
    return "".join(f"def total_{i}(price, quantity):\n    \n\n" for i in range(functions))


def big_document() -> str:
    """~128k tokens of varied code (exact count printed by the benchmark)."""
    parts = []
    for i in range(3050):
        parts.append(
            f"def step_{i}(items, rate={i % 17}):\n"
            f"    total = sum(item.price * rate for item in items if item.id != {i})\n"
            f"    return total  # step {i}\n\n"
        )
    return "".join(parts)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def spawn_to_initialize(command: list[str]) -> float:
    started = time.perf_counter()
    client = await ClientServerConfig(command).start()
    await client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
    )
    elapsed = (time.perf_counter() - started) * 1000
    await client.shutdown_session()
    return elapsed


async def startup() -> tuple[float, float]:
    """Median spawn -> initialize result of (bare pygls, spark-lsp), alternating."""
    bare_cmd = [sys.executable, "-m", "benchmarks.bare_pygls_server"]
    ours_cmd = [sys.executable, "-m", "spark_lsp", "--stdio", "--log-level", "WARNING"]
    bare, ours = [], []
    for _ in range(SPAWNS):
        bare.append(await spawn_to_initialize(bare_cmd))
        ours.append(await spawn_to_initialize(ours_cmd))
    return statistics.median(bare), statistics.median(ours)


async def server_counters(driver: Driver) -> dict[str, int]:
    stats = to_plain(await driver.client.protocol.send_request_async("spark/stats", {}))
    counters: dict[str, int] = stats["pipeline"]["counters"]
    return counters


def request_calls(counters: dict[str, int]) -> int:
    """Model calls started by requests (prefetches excluded)."""
    return counters.get("model_calls", 0) - counters.get("prefetch_calls", 0)


async def paused_keys(driver: Driver, first_line: int) -> list[float]:
    """One key after a pause (0.8 s), automatic request: ms to the suggestion."""
    times = []
    for i in range(PAUSED_KEYS):
        await asyncio.sleep(0.8)
        line = first_line + 3 * i
        driver.type(line, 4, "s")
        elapsed, text = await driver.inline(line, 5, invoked=False)
        assert text, "no suggestion after a pause"
        times.append(elapsed)
    return times


async def accept(driver: Driver, line: int, column: int, text: str) -> tuple[float, str, int]:
    """Insert ``text`` as an accept does, ask at the new cursor: (ms, suggestion, calls)."""
    before = request_calls(await server_counters(driver))
    driver.type(line, column, text)
    elapsed, found = await driver.inline(line, column + len(text), invoked=False)
    calls = request_calls(await server_counters(driver)) - before
    return elapsed, found, calls


async def accepts(driver: Driver, first_line: int) -> dict[str, Any]:
    """Whole and word-then-rest accepts of FIRST, on fresh function bodies."""
    whole, word, rest, calls = [], [], [], 0
    before = await server_counters(driver)
    for i in range(ACCEPTS):
        line = first_line + 3 * i
        await asyncio.sleep(0.3)
        _, shown = await driver.inline(line, 4, invoked=True)
        assert shown == FIRST, shown
        await asyncio.sleep(0.4)  # the user reads the ghost text; the prefetch finishes
        if i % 2 == 0:
            elapsed, found, n = await accept(driver, line, 4, shown)
            assert found == AFTER_FIRST, found
            whole.append(elapsed)
        else:
            head = shown.split(" ")[0]
            elapsed, found, n = await accept(driver, line, 4, head)
            assert found == shown[len(head) :], found
            word.append(elapsed)
            calls += n
            elapsed, found, n = await accept(driver, line, 4 + len(head), found)
            assert found == AFTER_FIRST, found
            rest.append(elapsed)
        calls += n
    after = await server_counters(driver)
    prefetches = after.get("prefetch_calls", 0) - before.get("prefetch_calls", 0)
    served = after.get("prefetch_hits", 0) - before.get("prefetch_hits", 0)
    return {
        "whole": whole,
        "word": word,
        "rest": rest,
        "calls": calls,
        "prefetches": prefetches,
        "served": served,
    }


async def open_doc(driver: Driver, text: str) -> None:
    driver.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=driver.uri, language_id="python", version=1, text=text
            )
        )
    )


async def footprint(client: Any, root: Path) -> tuple[int, float, float]:
    """Serve completions on the 128k-token document: (tokens, peak MB, steady MB)."""
    text = big_document()
    counter = loaded_counter()
    assert counter.wait_ready(60)
    tokens = sum(counter.count_line(line) for line in text.splitlines(keepends=True))
    driver = Driver(client, (root / "big.py").as_uri())
    await open_doc(driver, text)
    lines = text.count("\n")
    for k in range(8):
        line = (lines * (k + 1)) // 9 // 4 * 4 + 1
        driver.type(line, 4, "s")
        await driver.inline(line, 5, invoked=True)
    pid = client._server.pid
    await asyncio.sleep(2.0)
    return tokens, rss_peak_mb(pid), rss_mb(pid)


async def counted_burst(driver: Driver, line: int, calls_before: int = 0) -> tuple[float, int]:
    """One 60-key burst: (last key -> suggestion in ms, model calls its requests started)."""
    _, last_ms, last_text = await burst(driver, line)
    assert last_text, "the burst ended without a suggestion"
    return last_ms, request_calls(await server_counters(driver)) - calls_before


async def fresh_burst(url: str, token: str, root: Path) -> tuple[float, int]:
    """A burst on a server that was just spawned (the session still connecting)."""
    client, _, _ = await start_server(url, token, root)
    driver = Driver(client, (root / "fresh.py").as_uri())
    await open_doc(driver, "def total(price, quantity):\n    \n" + "\n" * 70)
    measured = await counted_burst(driver, 3)
    await client.shutdown_session()
    return measured


def bursts_row(name: str, runs: list[tuple[float, int]], model_ms: float) -> list[list[object]]:
    """The table rows of a set of bursts: median time, and the most calls of any one."""
    median = statistics.median(ms for ms, _ in runs)
    return [
        [
            f"60-key burst, {name}: last key -> suggestion, ms (p50 of {len(runs)})",
            median,
            f"model + {median - model_ms:.1f}",
            f"<= model + 50 ({model_ms + 50:.0f})",
        ],
        [
            f"60-key burst, {name}: model calls (most in one burst)",
            max(calls for _, calls in runs),
            "each: " + " ".join(str(calls) for _, calls in runs),
            "<= 3",
        ],
    ]


async def main() -> None:
    server = await scripted_server(script())
    url, token = await server.start(None)
    root = Path(os.environ.get("TMPDIR", "/tmp")) / "spark-bench-latency"
    root.mkdir(exist_ok=True)
    compileall.compile_dir(Path(__file__).parents[1] / "spark_lsp", quiet=1)
    try:
        bare_ms, ours_ms = await startup()
        model_ms = await model_time(url, token)
        fresh = [await fresh_burst(url, token, root) for _ in range(FRESH_SERVERS)]
        client, _, _ = await start_server(url, token, root)
        await asyncio.sleep(1.0)
        driver = Driver(client, (root / "shop.py").as_uri())
        await open_doc(driver, "def total(price, quantity):\n    \n" + body(40) + "\n" * 70)
        warm = []
        for i in range(WARM_BURSTS):
            await asyncio.sleep(0.8)
            before = request_calls(await server_counters(driver))
            warm.append(await counted_burst(driver, 125 + 3 * i, before))
        paused = await paused_keys(driver, 3)
        accepted = await accepts(driver, 3 + 3 * PAUSED_KEYS)
        stats = to_plain(await client.protocol.send_request_async("spark/stats", {}))
        tokens, peak, steady = await footprint(client, root)
        await client.shutdown_session()
    finally:
        await server.stop()

    overhead = stats["pipeline"]["stages"]["overhead"]
    paused_med = statistics.median(paused)
    rows: list[list[object]] = [
        [
            "one key after a pause -> suggestion, ms (p50)",
            paused_med,
            f"model + {paused_med - model_ms:.1f}",
            f"<= model + 15 ({model_ms + 15:.0f})",
        ],
        *bursts_row("warm", warm, model_ms),
        *bursts_row("fresh server", fresh, model_ms),
    ]
    for name in ("whole", "word", "rest"):
        med, p99 = summary(accepted[name])
        rows.append(
            [
                f"accept ({name}) -> next suggestion, ms p50 / p99",
                f"{med:.2f} / {p99:.2f}",
                "",
                "p50 <= 10",
            ]
        )
    rows += [
        ["model calls started by those requests", accepted["calls"], "", "0"],
        [
            "prefetch calls per accepted suggestion",
            f"{accepted['prefetches']} / {accepted['served']}",
            f"{accepted['prefetches'] / max(1, accepted['served']):.2f}",
            "",
        ],
        [
            "spawn -> initialize result, ms: spark-lsp vs bare pygls",
            f"{ours_ms:.0f} vs {bare_ms:.0f}",
            f"{ours_ms / bare_ms:.2f}x",
            "<= 1.25x",
        ],
        [f"peak RSS, MiB ({tokens:,}-token document served)", peak, "", "<= 100"],
        ["steady RSS, MiB (same)", steady, "", ""],
        ["added latency in the server p50, ms", overhead["p50"], "", "<= 3"],
        ["added latency in the server p99, ms", overhead["p99"], "", "<= 15"],
    ]
    print(
        table(
            f"Latency and footprint, model: {TTFT_MS} ms to first token + 1,000 tok/s "
            f"(model alone: {model_ms:.1f} ms per suggestion)",
            ["measure", "value", "vs", "goal"],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
