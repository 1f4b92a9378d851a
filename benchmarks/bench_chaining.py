"""Bytes on the wire per completion with 64k tokens of context: chained vs full prompts.

A 60-key typing session (an explicitly invoked completion after every key, so every key costs
one model call) against the real language server, twice: once on a model server with lanes
(spark-lsp warms the stable part once and chains from it) and once on a lane-less server (the
full prompt every time). Also prints the prompt-build (context stage) time.

Run: python benchmarks/bench_chaining.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types

from benchmarks.bench_completion import Driver, start_server
from benchmarks.bench_context import synthetic_python
from benchmarks.common import loaded_counter, scripted_server, table

CONTEXT_TOKENS = 64_000


async def session(lanes: bool, text: str) -> dict[str, Any]:
    extra = () if lanes else ("--no-lanes",)
    server = await scripted_server({"default": {"text": "pass"}}, *extra)
    url, token = await server.start(None)
    root = Path(tempfile.mkdtemp(prefix="spark-bench-chain-"))
    try:
        client, _, _ = await start_server(url, token, root)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"spark": {"completion": {"contextTokens": CONTEXT_TOKENS}}}
            )
        )
        await asyncio.sleep(1.5)  # connect; let the exact tokenizer load
        uri = (root / "big.py").as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text + "\ndef tail():\n    \n"
                )
            )
        )
        driver = Driver(client, uri)
        line = text.count("\n") + 2
        await driver.inline(line, 4, invoked=True)  # the first request also starts the warm-up
        await asyncio.sleep(0.5)
        before = await client.protocol.send_request_async("spark/stats", {})
        for column, char in enumerate("value_" * 10):
            driver.type(line, 4 + column, char)
            await driver.inline(line, 5 + column, invoked=True)
            await asyncio.sleep(0.04)
        after = await client.protocol.send_request_async("spark/stats", {})
        await client.shutdown_session()
    finally:
        await server.stop()
    calls = after.model.requests - before.model.requests
    context = after.pipeline.stages.context
    return {
        "calls": calls,
        "bytes": (after.model.bytesSent - before.model.bytesSent) / max(1, calls),
        "chained": after.model.chained - before.model.chained,
        "p50": context.p50,
        "p99": context.p99,
    }


async def main() -> None:
    counter = loaded_counter()
    counter.start_loading()
    counter.wait_ready(30)
    text = synthetic_python(CONTEXT_TOKENS + 8000, counter)
    chained = await session(True, text)
    full = await session(False, text)
    rows = [
        [
            "chained (lanes: warm once, chain)",
            chained["calls"],
            chained["chained"],
            round(chained["bytes"]),
            chained["p50"],
            chained["p99"],
        ],
        [
            "full prompt (lane-less server)",
            full["calls"],
            full["chained"],
            round(full["bytes"]),
            full["p50"],
            full["p99"],
        ],
    ]
    print(
        table(
            f"60 keys, a completion per key, {CONTEXT_TOKENS:,} tokens of context",
            ["mode", "model calls", "chained", "bytes/completion", "build p50 ms", "build p99 ms"],
            rows,
        )
    )
    print(f"\nbytes ratio (full / chained): {full['bytes'] / max(1.0, chained['bytes']):.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
