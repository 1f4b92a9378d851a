"""Latency and footprint as an editor sees them, in one run: the figures of issues 13 and 25.

A real LSP client drives the real server (stdio), typing as an editor does (incremental
didChange, an automatic inline request after each key); the model is the scripted model server
in its own process, 150 ms to first token and 1,000 tokens/s. The file being edited is ~128k
tokens of standard-library modules with a run of empty function bodies in its middle, also on
disk in the workspace (so the project index reads it as a real project would). Measured:

* the context stage (spark/stats "context" p50) on 2k-, 32k- and 128k-token files, each on a
  server of its own, one key after a pause at places spread over the file;
* one key after a pause -> suggestion (the leading edge asks at once);
* a 60-key burst at 40 ms/key, last key -> suggestion, and model calls, on a warm server
  (WARM_BURSTS bursts, a pause between them) and on fresh ones (FRESH_SERVERS servers, each
  spawned, initialized, a small document opened, burst started at once): the median time and
  the most calls any one burst made;
* accepting a suggestion (whole, first word, then the rest) -> the suggestion at the new cursor,
  and accepting one after which the model has nothing to add (the prefetch's reply filters to
  nothing): the request after it must be answered empty at once, with no model call;
* what being ready costs: model calls, input bytes and tokens per accepted suggestion, and bytes
  per prefetch (chained from the shown suggestion's response over WebSocket mode);
* spawn -> initialize result, spark-lsp vs a bare pygls server (benchmarks/bare_pygls_server.py),
  alternating, same Python;
* peak and steady RSS of the server that served all of the above on the 128k-token file;
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
import sysconfig
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

from benchmarks.bench_completion import (
    Driver,
    burst,
    model_stats,
    model_time,
    replay_of,
    rss_peak_mb,
    start_server,
)
from benchmarks.common import loaded_counter, scripted_server, summary, table, to_plain
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.shared.prompt_format import CURSOR

TTFT_MS = 150
FIRST = "subtotal = price"
#: What the model says once FIRST was accepted: the prefetch's prompt has FIRST before the cursor.
AFTER_FIRST = " * quantity + shipping(price)"
#: Where the model has nothing to add once its suggestion is accepted (an empty reply).
DONE_MARK = "done = True\n    "
DONE = "return price"
SPAWNS = 7
WARM_BURSTS = 5
FRESH_SERVERS = 5
PAUSED_KEYS = 10
ACCEPTS = 6
EMPTY_ACCEPTS = 4
#: Function bodies in the edited file: bursts (3 apart), paused keys, accepts.
BODIES = 3 * WARM_BURSTS + PAUSED_KEYS + ACCEPTS + 2
#: The file sizes whose context stage is measured, in tokens.
CONTEXT_SIZES = (2_000, 32_000, 128_000)
CONTEXT_KEYS = 16
#: Standard-library modules concatenated into the edited file, in this order, up to its size.
STDLIB_MODULES = (
    "argparse", "typing", "inspect", "subprocess", "tarfile", "logging/__init__",
    "email/message", "http/client", "urllib/request", "unittest/case", "collections/__init__",
    "dataclasses", "enum", "functools", "shutil", "tempfile", "configparser", "pydoc",
    "pickle", "threading", "asyncio/base_events", "difflib", "_pydecimal", "statistics",
    "calendar", "datetime", "ipaddress", "mailbox", "doctest", "smtplib", "ftplib",
)  # fmt: skip


def script() -> dict[str, Any]:
    return {
        "replies": [
            {"when": FIRST + CURSOR, "text": AFTER_FIRST},
            {"when": DONE + CURSOR, "text": ""},  # nothing follows: the filters drop it
            {"when": DONE_MARK + CURSOR, "text": DONE},
        ],
        "default": {"text": FIRST},
        "ttft_ms": TTFT_MS,
        "tokens_per_second": 1000,
    }


def body(functions: int, name: str = "total", first: str = "") -> str:
    """Python with ``functions`` empty function bodies to complete in (one per 3 lines, or 4
    with a ``first`` line before the empty one)."""
    head = f"    {first}\n" if first else ""
    return "".join(f"def {name}_{i}(price, quantity):\n{head}    \n\n" for i in range(functions))


def stdlib_code(tokens: int) -> str:
    """Standard-library modules, whole, concatenated up to about ``tokens``; a file smaller
    than any module is the first one's head."""
    counter = loaded_counter()
    assert counter.wait_ready(60)
    folder = Path(sysconfig.get_paths()["stdlib"])
    parts: list[str] = []
    total = 0
    for name in STDLIB_MODULES:
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        size = counter.count(text)
        if total + size > tokens * 1.1:
            continue
        parts.append(text if text.endswith("\n") else text + "\n")
        total += size
        if total >= tokens * 0.9:
            break
    if not parts:
        head = (folder / f"{STDLIB_MODULES[0]}.py").read_text(encoding="utf-8")
        lines = head.splitlines(keepends=True)
        while lines and counter.count("".join(lines)) > tokens:
            lines = lines[: len(lines) * 3 // 4]
        parts = lines
    return "".join(parts)


def edited_file(tokens: int) -> tuple[str, int]:
    """The stdlib code with the bodies to complete in its middle; (text, first body line)."""
    lines = stdlib_code(tokens).splitlines(keepends=True)
    middle = len(lines) // 2
    while middle < len(lines) and not lines[middle].startswith(("def ", "class ")):
        middle += 1
    bodies = body(BODIES) + body(EMPTY_ACCEPTS, "finish", "done = True") + "\n"
    return "".join(lines[:middle]) + bodies + "".join(lines[middle:]), middle


def count_tokens(text: str) -> int:
    counter = loaded_counter()
    assert counter.wait_ready(60)
    return sum(counter.count_line(line) for line in text.splitlines(keepends=True))


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


async def empty_accepts(driver: Driver, first_line: int) -> tuple[list[float], int]:
    """Accepts after which the model has nothing to add: (ms to the empty answer, the model
    calls those requests started)."""
    times, calls = [], 0
    for i in range(EMPTY_ACCEPTS):
        line = first_line + 4 * i + 2
        await asyncio.sleep(0.3)
        _, shown = await driver.inline(line, 4, invoked=True)
        assert shown == DONE, shown
        await asyncio.sleep(0.4)  # the user reads the ghost text; the prefetch finishes
        elapsed, found, n = await accept(driver, line, 4, shown)
        assert found == "", found
        times.append(elapsed)
        calls += n
    return times, calls


async def context_stage(url: str, token: str, root: Path, tokens: int) -> tuple[int, float]:
    """A server of its own editing a ``tokens``-token file: (exact tokens, context p50 ms).

    One key after a pause at each of CONTEXT_KEYS indented lines spread over the file (a new
    place each time: nothing the previous request computed fits it).
    """
    text, _ = edited_file(tokens)
    name = f"context_{tokens}.py"
    (root / name).write_text(text)
    lines = text.splitlines()
    places = [n for n, line in enumerate(lines) if line.startswith("        ") and len(line) > 20]
    client, _, _ = await start_server(url, token, root)
    try:
        await asyncio.sleep(1.0)
        driver = Driver(client, (root / name).as_uri())
        await open_doc(driver, text)
        for k in range(CONTEXT_KEYS):
            await asyncio.sleep(0.8)  # one key after a pause, as the idle figure types
            line = places[len(places) * (k + 1) // (CONTEXT_KEYS + 1)]
            driver.type(line, 8, "s")
            await driver.inline(line, 9, invoked=False)
        stats = to_plain(await client.protocol.send_request_async("spark/stats", {}))
        context: float = stats["pipeline"]["stages"]["context"]["p50"]
    finally:
        await client.shutdown_session()
    return count_tokens(text), context


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


async def footprint(client: Any) -> tuple[float, float]:
    """(peak MB, steady MB) of the server that served everything on the 128k-token file."""
    pid = client._server.pid
    await asyncio.sleep(2.0)
    return rss_peak_mb(pid), rss_mb(pid)


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
    most = max(calls for _, calls in runs)
    return [
        [
            f"60-key burst, {name}: last key -> suggestion, ms (p50 of {len(runs)})",
            median,
            f"model + {median - model_ms:.1f}",
            f"<= model + 40 ({model_ms + 40:.0f})",
            met(median <= model_ms + 40),
        ],
        [
            f"60-key burst, {name}: model calls (most in one burst)",
            most,
            "each: " + " ".join(str(calls) for _, calls in runs),
            "<= 2",
            met(most <= 2),
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
        contexts = [await context_stage(url, token, root, size) for size in CONTEXT_SIZES]
        text, first = edited_file(CONTEXT_SIZES[-1])
        tokens = count_tokens(text)
        (root / "edited.py").write_text(text)
        client, _, _ = await start_server(url, token, root)
        await asyncio.sleep(1.0)
        driver = Driver(client, (root / "edited.py").as_uri())
        await open_doc(driver, text)
        warm = []
        for i in range(WARM_BURSTS):
            await asyncio.sleep(0.8)
            before = request_calls(await server_counters(driver))
            warm.append(await counted_burst(driver, first + 1 + 9 * i, before))
        paused = await paused_keys(driver, first + 1 + 3 * 3 * WARM_BURSTS)
        accepted = await accepts(driver, first + 1 + 3 * (3 * WARM_BURSTS + PAUSED_KEYS))
        empty, empty_calls = await empty_accepts(driver, first + 3 * BODIES)
        stats = to_plain(await client.protocol.send_request_async("spark/stats", {}))
        peak, steady = await footprint(client)
        await client.shutdown_session()
        # The model's own time for the prompts sent here (a large prompt costs the model server
        # time too: that is model time, not the language server's).
        prompt_model_ms = await model_time(url, token, request=full_prompt(url, token))
    finally:
        await server.stop()

    print(
        table(
            f"Latency and footprint on a {tokens:,}-token file, model: {TTFT_MS} ms to first "
            f"token + 1,000 tok/s (model alone: {prompt_model_ms:.1f} ms per suggestion with "
            f"this file's prompt, {model_ms:.1f} ms with a one-word one); "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            ["measure", "value", "vs", "goal", "met"],
            goal_rows(
                prompt_model_ms,
                contexts,
                paused,
                warm,
                fresh,
                {**accepted, "empty": empty, "calls": accepted["calls"] + empty_calls},
                stats["pipeline"],
                (ours_ms, bare_ms),
                (tokens, peak, steady),
            ),
        )
    )


def full_prompt(url: str, token: str) -> CreateRequest:
    """The last whole-prompt completion request the model server received, to replay."""
    received = model_stats(url, token)["received"]
    return replay_of(
        [
            m
            for m in received
            if m.get("generate") is not False
            and "previous_response_id" not in m
            and len(m.get("input", ())) > 1
        ][-1]
    )


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def goal_rows(
    model_ms: float,
    contexts: list[tuple[int, float]],
    paused: list[float],
    warm: list[tuple[float, int]],
    fresh: list[tuple[float, int]],
    accepted: dict[str, Any],
    pipeline: dict[str, Any],
    startup_ms: tuple[float, float],
    memory: tuple[int, float, float],
) -> list[list[object]]:
    """One row per figure, with its goal and whether it was met."""
    rows: list[list[object]] = [
        [f"context stage p50, ms ({size:,}-token file)", ms, "", "<= 2", met(ms <= 2)]
        for size, ms in contexts
    ]
    paused_med = statistics.median(paused)
    rows.append(
        [
            "one key after a pause -> suggestion, ms (p50)",
            paused_med,
            f"model + {paused_med - model_ms:.1f}",
            f"<= model + 10 ({model_ms + 10:.0f})",
            met(paused_med <= model_ms + 10),
        ]
    )
    rows += bursts_row("warm", warm, model_ms) + bursts_row("fresh server", fresh, model_ms)
    for name in ("whole", "word", "rest", "empty"):
        med, p99 = summary(accepted[name])
        label = "nothing to add" if name == "empty" else name
        rows.append(
            [
                f"accept ({label}) -> next suggestion, ms p50 / p99",
                f"{med:.2f} / {p99:.2f}",
                "",
                "p50 <= 10",
                met(med <= 10),
            ]
        )
    calls = accepted["calls"]
    rows.append(["model calls started by those requests", calls, "", "0", met(calls == 0)])
    per = pipeline.get("perAccepted") or {}
    prefetch_bytes = per.get("prefetch_input_bytes", 0) / max(1, per.get("prefetch_calls", 1))
    rows += [
        [
            "per accepted suggestion: model calls / input bytes / input tokens",
            f"{per.get('model_calls')} / {per.get('input_bytes')} / {per.get('input_tokens')}",
            f"prefetches: {per.get('prefetch_calls')} / {per.get('prefetch_input_bytes')} / "
            f"{per.get('prefetch_input_tokens')}",
            "",
            "",
        ],
        [
            "bytes sent per prefetch (chained from the shown suggestion)",
            prefetch_bytes,
            "",
            "<= 1024",
            met(0 < prefetch_bytes <= 1024),
        ],
    ]
    ours_ms, bare_ms = startup_ms
    tokens, peak, steady = memory
    overhead = pipeline["stages"]["overhead"]
    rows += [
        [
            "spawn -> initialize result, ms: spark-lsp vs bare pygls",
            f"{ours_ms:.0f} vs {bare_ms:.0f}",
            f"{ours_ms / bare_ms:.2f}x",
            "<= 1.25x",
            met(ours_ms <= 1.25 * bare_ms),
        ],
        [
            f"peak RSS, MiB (served all of the above, {tokens:,}-token file)",
            peak,
            "",
            "<= 75",
            met(peak <= 75),
        ],
        ["steady RSS, MiB (same)", steady, "", "", ""],
        [
            "added latency in the server p50, ms",
            overhead["p50"],
            "",
            "<= 3",
            met(overhead["p50"] <= 3),
        ],
        [
            "added latency in the server p99, ms",
            overhead["p99"],
            "",
            "<= 15",
            met(overhead["p99"] <= 15),
        ],
    ]
    return rows


if __name__ == "__main__":
    asyncio.run(main())
