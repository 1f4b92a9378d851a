"""Code actions: listing cost with 50 diagnostics, and what resolve adds to the model's time.

Listing runs on every cursor move and never calls the model; resolve runs the model once. The
model (scripted, own process) answers after 150 ms at 1,000 tokens/s; "model alone" is measured
straight on the model server, so "added" is what the language server and LSP cost on top.

Run: python benchmarks/bench_actions.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from lsprotocol import types

from benchmarks.bench_completion import last_request, model_stats, model_time, start_server
from benchmarks.common import scripted_server, summary, table
from spark_lsp.config import Settings
from spark_lsp.engine.messages import DiagnosticInfo
from spark_lsp.host import QuietEvents, SparkHost

SOURCE = "".join(f"def handler_{i}(event)\n    return event.value + {i}\n\n" for i in range(400))
FIX = "def handler_7(event):\n"


def diagnostics(n: int) -> list[types.Diagnostic]:
    return [
        types.Diagnostic(
            range=types.Range(
                start=types.Position(line=3 * i, character=0),
                end=types.Position(line=3 * i, character=20),
            ),
            message="expected ':'",
            source="pyright",
        )
        for i in range(n)
    ]


def in_process_listing(n: int, rounds: int) -> list[float]:
    """Listing through the engine's service, as the handler calls it (no LSP, no model)."""
    host = SparkHost(QuietEvents(), {}, settings=Settings())  # opened as every entry point
    host.counter.start_loading()
    service = host.service
    service.open("file:///x.py", "python", SOURCE, 1)
    infos = [DiagnosticInfo(3 * i, 0, 3 * i, 20, "expected ':'", "pyright") for i in range(n)]
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        service.list_actions("file:///x.py", (21, 0, 21, 0), infos)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def main() -> None:
    script = {"default": {"text": FIX}, "ttft_ms": 150, "tokens_per_second": 1000}
    server = await scripted_server(script)
    url, token = await server.start(None)
    root = Path(tempfile.mkdtemp(prefix="spark-bench-actions-"))
    try:
        alone = await model_time(url, token)
        client, _, _ = await start_server(url, token, root)
        await asyncio.sleep(1.0)
        uri = (root / "handlers.py").as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=SOURCE
                )
            )
        )
        context = types.CodeActionContext(diagnostics=diagnostics(50))
        calls_before = model_stats(url, token)["generate_requests"]
        listing, actions = [], []
        for i in range(200):
            started = time.perf_counter()
            actions = (
                await client.text_document_code_action_async(
                    types.CodeActionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        range=types.Range(
                            start=types.Position(line=i % 400, character=0),
                            end=types.Position(line=i % 400, character=0),
                        ),
                        context=context,
                    )
                )
                or []
            )
            listing.append((time.perf_counter() - started) * 1000)
        listing_calls = model_stats(url, token)["generate_requests"] - calls_before
        fix = next(a for a in actions if isinstance(a, types.CodeAction))
        resolve = []
        for _ in range(15):
            started = time.perf_counter()
            resolved = await client.code_action_resolve_async(fix)
            resolve.append((time.perf_counter() - started) * 1000)
            assert resolved.edit is not None
        await client.shutdown_session()
        replayed = await model_time(url, token, 15, last_request(url, token))
    finally:
        await server.stop()
    engine = in_process_listing(50, 2000)
    rows = [
        ["listing, 50 diagnostics, LSP round trip", *summary(listing), "p99 <= 5"],
        ["listing, 50 diagnostics, in the server", *summary(engine), ""],
        ["model calls made by 200 listings", listing_calls, "", "0"],
        ["resolve, round trip", *summary(resolve), ""],
        [
            "resolve, added over the model alone (same prompt replayed)",
            *(t - replayed for t in summary(resolve)),
            "p50 <= 5",
        ],
    ]
    print(
        table(
            f"Code actions (model alone: {alone:.1f} ms for a tiny prompt, "
            f"{replayed:.1f} ms for the resolve prompt)",
            ["measure", "p50 ms", "p99 ms", "goal"],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
