"""Soak: many completion requests over many open documents, watching the server for leaks.

The real language server (stdio, driven by a real LSP client) serves 10,000 inline-completion
requests (by default) over 100 open documents that are edited at random between requests
(each edit rewrites one line, so the documents keep their size); now and then a document is
closed and reopened, and a burst of automatic requests supersede each other. The model is the
bundled scripted server in its own process, answering at once.

Every ``--every`` requests it prints the server's resident memory, asyncio task count, open
file descriptors and model connections (from ``spark/stats``), then a verdict: "flat after
warm-up" when, after the first fifth of the run, memory grew by less than 10% + 8 MiB and
tasks, fds and connections by at most a handful; otherwise what grew.

Run: python -m benchmarks.bench_soak [--requests N] [--documents D] [--every K]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from benchmarks.common import inline_texts, scripted_server, table, to_plain

WORDS = ["total", "price", "count", "items", "value", "result", "index", "cache", "node", "key"]
BATCH = 8


def random_line(r: random.Random) -> str:
    a, b, c = r.sample(WORDS, 3)
    return f"    {a} = {b}.{c}({r.randint(0, 999)})"


def document(r: random.Random, lines: int = 200) -> str:
    out = []
    for i in range(lines):
        out.append(f"def f{i}(x):" if i % 10 == 0 else random_line(r))
    return "\n".join(out) + "\n"


class Soak:
    def __init__(self, client: LanguageClient, root: Path, documents: int, seed: int) -> None:
        self.client = client
        self.r = random.Random(seed)
        self.uris = [(root / f"m{i}.py").as_uri() for i in range(documents)]
        self.texts: dict[str, list[str]] = {}
        self.versions: dict[str, int] = {}
        self.answered = 0
        self.empty = 0

    def open(self, uri: str) -> None:
        text = document(self.r)
        self.texts[uri] = text.split("\n")
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def edit(self, uri: str) -> tuple[int, int]:
        """Rewrite one line; returns the cursor (end of that line)."""
        lines = self.texts[uri]
        line = self.r.randrange(len(lines) - 1)
        new = random_line(self.r)
        old = lines[line]
        lines[line] = new
        self.versions[uri] += 1
        start = types.Position(line=line, character=0)
        end = types.Position(line=line, character=len(old))
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=start, end=end), text=new
                    )
                ],
            )
        )
        return line, len(new)

    async def inline(self, uri: str, line: int, column: int, invoked: bool = True) -> None:
        items = await inline_texts(self.client, uri, line, column, invoked=invoked)
        self.answered += 1
        self.empty += not items

    async def batch(self, number: int) -> int:
        """One round of requests; returns how many were sent."""
        if number % 25 == 0:  # close and reopen a document
            uri = self.r.choice(self.uris)
            self.close(uri)
            self.open(uri)
        if number % 40 == 0:  # a typing burst: automatic requests that supersede each other
            uri = self.r.choice(self.uris)
            line, column = self.edit(uri)
            burst = [self.inline(uri, line, column, invoked=False) for _ in range(BATCH)]
            await asyncio.gather(*burst)
            return BATCH
        jobs = []
        for uri in self.r.sample(self.uris, BATCH):
            line, column = self.edit(uri)
            jobs.append(self.inline(uri, line, column))
        await asyncio.gather(*jobs)
        return BATCH

    async def stats(self) -> dict[str, Any]:
        result = await self.client.protocol.send_request_async("spark/stats", {})
        return dict(to_plain(result))


def verdict(rows: list[dict[str, Any]]) -> str:
    """ "flat after warm-up", or what grew after the first fifth of the run."""
    if len(rows) < 3:
        return "too short to judge (use more --requests)"
    base = rows[max(1, len(rows) // 5)]
    last = rows[-1]
    grew = []
    if last["rss_mb"] > base["rss_mb"] * 1.10 + 8:
        grew.append(f"RSS {base['rss_mb']:.1f} -> {last['rss_mb']:.1f} MiB")
    for key, slack in (("tasks", 5), ("fds", 5), ("connections", 2)):
        if last[key] > base[key] + slack:
            grew.append(f"{key} {base[key]} -> {last[key]}")
    return "flat after warm-up" if not grew else "NOT flat: " + ", ".join(grew)


async def main(requests: int, documents: int, every: int, seed: int) -> int:
    model = await scripted_server({"default": {"text": "value + 1"}})
    url, token = await model.start(None)
    root = Path(tempfile.mkdtemp(prefix="spark-soak-"))
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "spark_lsp", "--stdio", "--log-level", "WARNING"],
        server_env={**os.environ, "SPARK_LSP_ENDPOINT": url, "OPENAI_API_KEY": token},
    )
    client = await config.start()

    @client.feature("spark/status")
    def status(params: Any) -> None:  # status bars only; nothing to check here
        return None

    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="soak")],
        )
    )
    soak = Soak(client, root, documents, seed)
    rows: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 30
        while (await soak.stats())["status"]["state"] != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("the server never became ready")
            await asyncio.sleep(0.1)
        for uri in soak.uris:
            soak.open(uri)
        started = time.monotonic()
        sent, number, next_report = 0, 0, 0
        while True:
            if sent >= next_report:
                stats = await soak.stats()
                process = stats["process"]
                rows.append(
                    {
                        "requests": sent,
                        "seconds": time.monotonic() - started,
                        "rss_mb": (process["rssKb"] or 0) / 1024,
                        "tasks": process["tasks"],
                        "fds": process["fds"],
                        "connections": stats["model"].get("connections", 0),
                        "documents": stats["documents"],
                        "empty": soak.empty,
                    }
                )
                row = rows[-1]
                print(
                    f"{row['requests']:>6} req  {row['seconds']:6.1f} s  "
                    f"RSS {row['rss_mb']:6.1f} MiB  tasks {row['tasks']:>3}  "
                    f"fds {row['fds']:>3}  conns {row['connections']}  docs {row['documents']}",
                    flush=True,
                )
                next_report += every
                if sent >= requests:
                    break
            sent += await soak.batch(number)
            number += 1
        elapsed = time.monotonic() - started
    finally:
        await client.shutdown_session()
        await model.stop()
    print()
    print(
        table(
            f"soak: {sent} requests over {documents} documents in {elapsed:.0f} s "
            f"({sent / elapsed:.0f} req/s, {soak.empty} empty answers)",
            ["requests", "RSS MiB", "tasks", "fds", "model conns"],
            [[r["requests"], r["rss_mb"], r["tasks"], r["fds"], r["connections"]] for r in rows],
        )
    )
    result = verdict(rows)
    print(f"\nverdict: {result}")
    return 0 if result == "flat after warm-up" else 1


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--every", type=int, default=1000, help="report every N requests")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return asyncio.run(main(args.requests, args.documents, args.every, args.seed))


if __name__ == "__main__":
    raise SystemExit(cli())
