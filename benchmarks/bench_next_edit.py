"""Next-edit suggestions: edit pause → proposal available, and model calls per 100 edits.

The language server runs as editors start it (stdio, an opted-in client) against a scripted
model in this process (150 ms to first token, 1,000 tokens/s) that answers next-edit prompts
with the rewritten window, as a chat model would.

(a) 20 renames of a parameter in a signature (deleted and typed key by key at 40 ms/key); the
    client waits for ``spark/nextEditAvailable`` and fetches ``spark/nextEdit``. Pause = the
    fixed ``nextEdit.debounceMs`` (100 ms). Model time is measured by replaying the server's own
    next-edit request straight to the model server, so "added" is what the user waits beyond
    the pause and the model.
(b) a scripted session of 100 edits (10 bursts of 10 keys at 80 ms/key, 1 s pauses) with the
    adaptive pause: how many next-edit model calls it makes.

Run: python -m benchmarks.bench_next_edit
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from benchmarks.bench_completion import model_time, replay_of
from benchmarks.common import set_default_reply, summary, table, to_plain
from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig

TOKEN = "bench-next-edit-token-0123456789"
TTFT_MS = 150
DEBOUNCE_MS = 100
FUNCTIONS = 20
KEY_GAP_S = 0.04


def source() -> list[str]:
    lines: list[str] = []
    for i in range(FUNCTIONS):
        lines += [f"def scale_{i}(v, factor):", f"    return v * factor + {i}", "", ""]
    return lines


class Document:
    """The client's copy of one document, changed key by key as an editor sends it."""

    def __init__(self, client: LanguageClient, uri: str, lines: list[str]) -> None:
        self.client = client
        self.uri = uri
        self.lines = lines
        self.version = 1
        self.edits = 0

    def replace(self, line: int, start: int, end: int, text: str) -> None:
        self.version += 1
        self.edits += 1
        self.lines[line] = self.lines[line][:start] + text + self.lines[line][end:]
        rng = types.Range(
            start=types.Position(line=line, character=start),
            end=types.Position(line=line, character=end),
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)],
            )
        )

    async def type(self, line: int, column: int, text: str, gap: float) -> None:
        for i, char in enumerate(text):
            self.replace(line, column + i, column + i, char)
            await asyncio.sleep(gap)

    def window_reply(self, line: int, old: str, new: str) -> str:
        """The window around ``line`` with the use on the next line renamed, fenced."""
        first, end = max(0, line - 40), min(len(self.lines), line + 41)
        window = list(self.lines[first:end])
        use = line + 1 - first
        window[use] = window[use].replace(f"return {old} ", f"return {new} ")
        return "```python\n" + "\n".join(window) + "\n```"


async def start(url: str, root: Path, settings: dict[str, Any]) -> LanguageClient:
    env = {**os.environ, "SPARK_LSP_ENDPOINT": url, "OPENAI_API_KEY": TOKEN}
    config = ClientServerConfig(
        [sys.executable, "-m", "spark_lsp", "--stdio", "--log-level", "WARNING"], server_env=env
    )
    client = await config.start()
    caps = client_capabilities("visual-studio-code")
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            initialization_options={"experimental": {"nextEdit": True}, "nextEdit": settings},
        )
    )
    await asyncio.sleep(1.0)  # the session connects while the user reads
    return client


def open_document(client: LanguageClient, root: Path, name: str) -> Document:
    lines = source()
    uri = (root / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="\n".join(lines) + "\n"
            )
        )
    )
    return Document(client, uri, lines)


def applied(lines: list[str], result: Any) -> str | None:
    """The line a one-line proposal produces, or None for anything else."""
    edits = to_plain(result)["edits"] if result is not None else []
    if len(edits) != 1 or edits[0]["range"]["start"]["line"] != edits[0]["range"]["end"]["line"]:
        return None
    start, end = edits[0]["range"]["start"], edits[0]["range"]["end"]
    text = lines[start["line"]]
    return text[: start["character"]] + edits[0]["newText"] + text[end["character"] :]


async def renames(model: ModelServer, engine: ScriptedEngine, root: Path) -> dict[str, Any]:
    client = await start(model.url, root, {"debounceMs": DEBOUNCE_MS})
    arrived: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    client.feature("spark/nextEditAvailable")(
        lambda params: arrived.put_nowait((time.perf_counter(), to_plain(params)))
    )
    doc = open_document(client, root, "scale.py")
    totals: list[float] = []
    model_ms: list[float] = []
    fetched_ok = 0
    for i in range(FUNCTIONS):
        line, new = 4 * i, f"value_{i}"
        column = len(f"def scale_{i}(")
        doc.replace(line, column, column + 1, "")
        await doc.type(line, column, new[:-1], KEY_GAP_S)
        # What the model will answer once the last key is in: the window, use renamed too.
        doc.replace(line, column + len(new) - 1, column + len(new) - 1, new[-1])
        set_default_reply(engine, doc.window_reply(line, "v", new))
        await asyncio.sleep(KEY_GAP_S)
        last_key = time.perf_counter() - KEY_GAP_S
        while True:
            at, params = await asyncio.wait_for(arrived.get(), 10)
            if params["textDocument"]["version"] == doc.version:
                break
        totals.append((at - last_key) * 1000)
        result = await client.protocol.send_request_async(
            "spark/nextEdit",
            {
                "textDocument": {"uri": doc.uri, "version": doc.version},
                "position": {"line": line, "character": 0},
            },
        )
        got = applied(doc.lines, result)
        fetched_ok += got == f"    return {new} * factor + {i}"
        # This round's model time: the server's own request, replayed straight to the model.
        sent = [m for m in model.stats.received if m.get("generate") is not False][-1]
        model_ms.append(await model_time(model.url, TOKEN, 1, replay_of(sent)))
        await asyncio.sleep(0.2)
    stats = to_plain(await client.protocol.send_request_async("spark/stats", {}))["nextEdit"]
    await client.shutdown_session()
    return {"totals": totals, "model_ms": model_ms, "ok": fetched_ok, "stats": stats}


async def session_calls(model: ModelServer, engine: ScriptedEngine, root: Path) -> dict[str, Any]:
    set_default_reply(engine, "NO_EDIT")
    client = await start(model.url, root, {})
    doc = open_document(client, root, "session.py")
    before = model.stats.generate_requests
    for burst in range(10):
        line = 4 * burst + 2
        await doc.type(line, 0, "total += 1"[:10], 0.08)
        await asyncio.sleep(1.0)
    calls = model.stats.generate_requests - before
    stats = to_plain(await client.protocol.send_request_async("spark/stats", {}))["nextEdit"]
    await client.shutdown_session()
    return {"edits": doc.edits, "calls": calls, "stats": stats}


async def main() -> None:
    engine = ScriptedEngine(
        Script(default=Reply(text="NO_EDIT"), ttft_ms=TTFT_MS, tokens_per_second=1000)
    )
    model = ModelServer(ServerConfig(token=TOKEN), engine)
    await model.start()
    root = Path(os.environ.get("TMPDIR", "/tmp")) / "spark-bench-next-edit"
    root.mkdir(exist_ok=True)
    try:
        a = await renames(model, engine, root)
        b = await session_calls(model, engine, root)
    finally:
        await model.close()
    total_p50, total_p99 = summary(a["totals"])
    added = [t - DEBOUNCE_MS - m for t, m in zip(a["totals"], a["model_ms"], strict=True)]
    model_p50, _ = summary(a["model_ms"])
    added_p50, added_p99 = summary(added)
    stages = a["stats"]["stages"]
    per_100 = 100 * b["calls"] / b["edits"]
    counters = b["stats"]["counters"]
    print(
        table(
            f"Next edit, model: {TTFT_MS} ms to first token + 1,000 tok/s "
            f"(model alone, replaying the server's request: p50 {model_p50:.1f} ms)",
            ["measure", "value", "goal"],
            [
                ["(a) renames whose proposal renamed the use", f"{a['ok']} / {FUNCTIONS}", "all"],
                ["(a) last key -> proposal available p50, ms", total_p50, ""],
                ["(a) last key -> proposal available p99, ms", total_p99, ""],
                [f"(a) added beyond pause ({DEBOUNCE_MS} ms) + model, p50 ms", added_p50, "<= 20"],
                [f"(a) added beyond pause ({DEBOUNCE_MS} ms) + model, p99 ms", added_p99, ""],
                ["(a) added inside the server p50, ms", stages["overhead"]["p50"], "<= 20"],
                [
                    "(a) server: pause -> reply end p50 (model stage), ms",
                    stages["model"]["p50"],
                    "",
                ],
                ["(a) server: last key -> proposal p50, ms", stages["total"]["p50"], ""],
                ["(a) model calls", a["stats"]["counters"].get("model_calls", 0), FUNCTIONS],
                ["(b) edits in the session", b["edits"], ""],
                ["(b) next-edit model calls per 100 edits", per_100, "<= 10 (one per pause)"],
                ["(b) pauses cut short by a key (no call)", counters.get("debounced", 0), ""],
                [
                    "(b) model calls cancelled by a key",
                    counters.get("cancelled_calls", 0),
                    "",
                ],
            ],
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
