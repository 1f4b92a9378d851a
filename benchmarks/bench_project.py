"""Project context on a real code base: a copy of a few hundred standard-library modules.

Prints four tables:
1. the workspace index: build time, files, symbols, memory retained (tracemalloc) and RSS growth;
2. context assembly per completion (the whole context stage, project sources included): a
   cursor moved to a new place (the stable part is recomputed) vs typing at one place;
3. how many of the names referenced near the cursor resolve to a workspace definition (all
   names, and without Python's builtins, which live in no workspace file);
4. bytes sent per completion through the real language server, chained (lanes) vs full prompts.

Run: python -m benchmarks.bench_project [--modules 400]
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import logging
import random
import resource
import shutil
import statistics
import sysconfig
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from lsprotocol import types

from benchmarks.bench_completion import Driver, start_server
from benchmarks.common import loaded_counter, scripted_server, table, to_plain
from spark_lsp.engine.context import ContextBuilder, ContextOptions
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.sources import definitions
from spark_lsp.engine.sources.index import WorkspaceIndex
from spark_lsp.engine.sources.near import names_near
from spark_lsp.engine.sources.project import ProjectContext
from spark_lsp.engine.store import DocumentStore
from spark_lsp.engine.symbols import outline
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.shared.privacy import ExclusionPolicy

PACKAGES = ("json", "email", "http", "asyncio", "importlib", "concurrent", "logging", "urllib",
            "xml", "unittest", "collections", "sqlite3", "wsgiref", "dbm", "html")
SAMPLES = 200
KEYS = 30


def copy_stdlib(target: Path, limit: int) -> int:
    """Top-level modules, then whole packages, until ``limit`` files are copied."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = sorted(stdlib.glob("*.py"))
    for package in PACKAGES:
        sources += sorted(p for p in (stdlib / package).rglob("*.py") if "test" not in p.parts)
    copied = 0
    for source in sources[:limit]:
        destination = target / source.relative_to(stdlib)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        copied += 1
    return copied


def rss_mb() -> float:
    """Current resident set size (Linux), else the peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_index(root: Path) -> tuple[WorkspaceIndex, list[Any]]:
    policy = ExclusionPolicy(root)
    outline("python", "def warm_up():\n    pass\n")  # load the grammar outside the timing
    rss_before = rss_mb()
    tracemalloc.start()
    began = time.perf_counter()
    index = WorkspaceIndex(root.resolve(), policy.reason)
    files = index.build()
    elapsed = (time.perf_counter() - began) * 1000
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    symbols = sum(len(f.outline.symbols) for f in index.files())
    return index, [files, symbols, round(elapsed), round(elapsed / max(1, files), 2),
                   round(retained / 2**20, 1), round(peak / 2**20, 1),
                   round(rss_mb() - rss_before, 1)]


def positions(root: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random(14)
    files = sorted(root.rglob("*.py"))
    chosen: list[tuple[Path, int]] = []
    while len(chosen) < count:
        path = rng.choice(files)
        lines = path.read_text(encoding="utf-8", errors="replace").count("\n")
        if lines > 20:
            chosen.append((path, rng.randrange(10, lines)))
    return chosen


def query(store: DocumentStore, path: Path, line: int) -> CompletionQuery:
    uri = path.as_uri()
    doc = store.get(uri)
    if doc is None:
        doc = store.open(uri, "python", path.read_text(encoding="utf-8", errors="replace"), 1)
    return CompletionQuery(uri, doc.path, "python", doc.index, line, 0, True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def assembly(root: Path, counter: TokenCounter) -> tuple[list[list[Any]], list[Any]]:
    store = DocumentStore(counter)
    store.root = root
    policy = ExclusionPolicy(root)
    project = ProjectContext(store, policy.reason)
    await project.build(root)
    builder = ContextBuilder(store, lambda: policy, ContextOptions, project)
    moved: list[float] = []
    typing: list[float] = []
    referenced = resolved = resolved_no_builtins = referenced_no_builtins = 0
    defined = resolved_defined = 0
    builtin_names = set(dir(builtins))
    for path, line in positions(root, SAMPLES):
        q = query(store, path, line)
        began = time.perf_counter()
        builder.completion_prompt(q, 2048)
        moved.append((time.perf_counter() - began) * 1000)
        for key in range(5):  # typing at the same place: the stable part is reused
            await asyncio.sleep(0.002)  # keys arrive apart; background refreshes get to run
            store.change(q.uri, 2 + key, [((line, 0, line, 0), "x")])
            began = time.perf_counter()
            builder.completion_prompt(q, 2048)
            typing.append((time.perf_counter() - began) * 1000)
        assert project.index is not None
        near = names_near(q.doc, line)
        current = project._current_file(q)  # noqa: SLF001 (the benchmark reads the inputs)
        found = definitions.resolve(project.index, near, current.imported,
                                    {s.name for s in current.outline.top_level()}, None)
        referenced += len(found)
        resolved += sum(1 for _, d in found if d)
        kept = [(n, d) for n, d in found if n not in builtin_names]
        referenced_no_builtins += len(kept)
        resolved_no_builtins += sum(1 for _, d in kept if d)
        known = [(n, d) for n, d in found if project.index.defines(n)]
        defined += len(known)
        resolved_defined += sum(1 for _, d in known if d)
        store.close(q.uri)
    rows = [
        ["cursor moved to a new place", len(moved), round(statistics.median(moved), 2),
         round(percentile(moved, 0.99), 2)],
        ["typing at the same place", len(typing), round(statistics.median(typing), 2),
         round(percentile(typing, 0.99), 2)],
    ]
    share = [referenced, resolved, f"{resolved / max(1, referenced):.0%}",
             referenced_no_builtins, resolved_no_builtins,
             f"{resolved_no_builtins / max(1, referenced_no_builtins):.0%}",
             defined, resolved_defined, f"{resolved_defined / max(1, defined):.0%}"]
    await project.close()
    return rows, share


async def wire_session(root: Path, lanes: bool, relative: str) -> dict[str, Any]:
    extra = () if lanes else ("--no-lanes",)
    server = await scripted_server({"default": {"text": "pass"}}, *extra)
    logging.getLogger("pygls").setLevel(logging.ERROR)  # spark/status has no client handler
    url, token = await server.start(None)
    try:
        client, _, _ = await start_server(url, token, root)
        for _ in range(400):
            stats = to_plain(await client.protocol.send_request_async("spark/stats", {}))
            if stats["project"]["indexReady"] and stats["status"]["state"] == "ready":
                break
            await asyncio.sleep(0.05)
        path = root / relative
        text = path.read_text(encoding="utf-8")
        uri = path.as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=text)))
        driver = Driver(client, uri)
        line = len(text.splitlines()) // 2
        await driver.inline(line, 0, invoked=True)  # starts the warm-up of the stable part
        await asyncio.sleep(0.5)
        before = to_plain(await client.protocol.send_request_async("spark/stats", {}))
        for column, char in enumerate(("value_" * 10)[:KEYS]):
            driver.type(line, column, char)
            await driver.inline(line, column + 1, invoked=True)
        after = to_plain(await client.protocol.send_request_async("spark/stats", {}))
        await client.shutdown_session()
    finally:
        await server.stop()
    calls = after["model"]["requests"] - before["model"]["requests"]
    return {
        "calls": calls,
        "chained": after["model"]["chained"] - before["model"]["chained"],
        "bytes": (after["model"]["bytesSent"] - before["model"]["bytesSent"]) / max(1, calls),
        "project": after["project"]["partTokens"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=400)
    args = parser.parse_args()
    counter = loaded_counter()
    counter.wait_ready(30)
    root = Path(tempfile.mkdtemp(prefix="spark-bench-project-"))
    try:
        copied = copy_stdlib(root, args.modules)
        _, built = build_index(root)
        print(table(f"workspace index: {copied} standard-library modules",
                    ["files", "symbols", "build ms", "ms/file", "retained MiB",
                     "peak MiB", "RSS growth MiB"], [built]))
        rows, share = await assembly(root, counter)
        print()
        print(table("context assembly per completion (2,048-token budget + project context)",
                    ["case", "samples", "p50 ms", "p99 ms"], rows))
        print()
        print(table("names near the cursor resolved to a workspace definition",
                    ["names", "resolved", "share", "not builtins", "resolved", "share",
                     "defined in workspace", "resolved", "share"],
                    [share]))
        target = "asyncio/base_events.py" if copied > 250 else "abc.py"
        chained = await wire_session(root, True, target)
        full = await wire_session(root, False, target)
        print()
        print(table(f"bytes per completion through the server ({KEYS} keys in {target})",
                    ["mode", "model calls", "chained", "bytes/completion"],
                    [["chained (lanes)", chained["calls"], chained["chained"],
                      round(chained["bytes"])],
                     ["full prompt (no lanes)", full["calls"], full["chained"],
                      round(full["bytes"])]]))
        print(f"\nbytes ratio (full / chained): {full['bytes'] / max(1.0, chained['bytes']):.1f}x;"
              f" project context tokens per part: {chained['project']}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
