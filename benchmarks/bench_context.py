"""Cost of keeping the context window current while typing, vs re-tokenizing the file.

    python benchmarks/bench_context.py [--tokens 128000] [--iterations 2000] [--budget 2000]
                                       [--block-sizes 64,128,256]

On a synthetic Python file of ~128k tokens, each keystroke is an ``apply_change`` followed by a
``select_window`` for a 2k-token budget: the work spark-lsp does per keystroke. The baseline is
what a non-incremental server would do instead: tokenize the whole document again. Prints a
table; no asserts (the unit tests hold the hard limits).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import loaded_counter
from spark_lsp.engine import documents
from spark_lsp.engine.bpe import BytePairCounter
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.recount import RECOUNT_SLICE
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.engine.window import select_window

WORDS = ["value", "result", "request", "payload", "items", "config", "user", "total", "index"]


def synthetic_python(target_tokens: int, counter: TokenCounter, seed: int = 7) -> str:
    """Deterministic, varied Python (classes, methods, comments, strings, numbers)."""
    rng = random.Random(seed)
    parts: list[str] = []
    tokens = 0
    i = 0
    while tokens < target_tokens:
        a, b, c = rng.sample(WORDS, 3)
        chunk = (
            f"class {a.title()}Handler{i}(BaseHandler):\n"
            f'    """Handle {a} and {b} for case #{i} (naïve café ✓)."""\n\n'
            f"    def process_{c}(self, {a}: dict[str, int], *, limit: int = {rng.randint(1, 999)}"
            f") -> list[str]:\n"
            f"        # keep only the {b} below the limit\n"
            f"        {b} = [k for k, v in {a}.items() if v < limit and k != '{c}']\n"
            f"        if not {b}:\n"
            f'            raise ValueError(f"no {b} in {{{a}!r}}")\n'
            f"        return sorted({b}, key=len)[:{rng.randint(2, 64)}]\n\n\n"
        )
        parts.append(chunk)
        tokens += counter.count(chunk)
        i += 1
    return "".join(parts)


@dataclass
class Stats:
    """Timing summary of one case, in milliseconds."""

    name: str
    median_ms: float
    p99_ms: float

    @classmethod
    def of(cls, name: str, samples: list[float]) -> Stats:
        ordered = sorted(samples)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return cls(name, statistics.median(ordered) * 1e3, p99 * 1e3)


def measure(iterations: int, step: Callable[[int], object]) -> list[float]:
    """Run ``step(i)`` and time each call."""
    samples = []
    for i in range(iterations):
        start = time.perf_counter()
        step(i)
        samples.append(time.perf_counter() - start)
    return samples


def keystroke_case(
    doc: DocumentIndex, budget: int, iterations: int, insert: str, seed: int
) -> list[float]:
    """Insert ``insert`` at a random position, then choose the window at the new cursor."""
    rng = random.Random(seed)
    positions = [
        (line, rng.randint(0, len(doc.line(line))))
        for line in (rng.randrange(doc.line_count - 1) for _ in range(iterations))
    ]

    def step(i: int) -> None:
        line, column = positions[i]
        character = doc.from_column(line, column)
        doc.apply_change((line, character, line, character), insert)
        select_window(
            doc, line + insert.count("\n"), 0 if "\n" in insert else character + 1, budget
        )

    return measure(iterations, step)


def full_sync_case(doc: DocumentIndex, iterations: int, seed: int) -> list[float]:
    """Clients without incremental sync send the whole text on every keystroke."""
    rng = random.Random(seed)
    texts = [doc.text]
    for _ in range(iterations):
        at = rng.randrange(len(texts[-1]))
        texts.append(texts[-1][:at] + "x" + texts[-1][at:])
    return measure(iterations, lambda i: doc.apply_change(None, texts[i + 1]))


def run(args: argparse.Namespace, counter: TokenCounter, encoding: BytePairCounter) -> None:
    """Build the document, run every case, print one table."""
    text = synthetic_python(args.tokens, counter)
    cold = TokenCounter(lambda: encoding)
    cold.wait_ready(60)
    start = time.perf_counter()
    doc = DocumentIndex(text, cold)
    build_cold = time.perf_counter() - start
    start = time.perf_counter()
    doc = DocumentIndex(text, counter)
    build_warm = time.perf_counter() - start
    whole = encoding.count(text)
    print(
        f"document: {doc.line_count:,} lines, {doc.char_count:,} chars, "
        f"{doc.total_tokens:,} tokens summed per line ({whole:,} as one encode), "
        f"{len(doc._blocks)} blocks of <= {documents._MAX_BLOCK} lines"
    )
    print(f"build index: {build_cold * 1e3:.1f} ms cold cache, {build_warm * 1e3:.1f} ms warm")

    full = Stats.of(
        "full re-tokenization (count the text)",
        measure(max(10, args.iterations // 100), lambda i: encoding.count(text)),
    )
    cases = [
        Stats.of(
            "1-char edit + window",
            keystroke_case(doc, args.budget, args.iterations, "x", seed=1),
        ),
        Stats.of(
            "newline edit + window",
            keystroke_case(doc, args.budget, args.iterations, "\n", seed=2),
        ),
        Stats.of(
            "paste 12 lines + window",
            keystroke_case(doc, args.budget, args.iterations // 4, "    pass\n" * 12, seed=3),
        ),
        Stats.of("window only (2k budget)", window_only(doc, args.budget, args.iterations)),
        Stats.of("full-sync change (whole text)", full_sync_case(doc, 50, seed=4)),
    ]
    before = estimated_before(text, encoding, args.budget)
    first, slices = estimated_now(text, encoding, args.budget)
    cases += [
        Stats.of(f"counts estimated at open, before: each of {len(before)} requests", before),
        Stats.of("counts estimated at open, now: the first request", [first]),
        Stats.of(f"... then {len(slices)} background slices between requests", slices),
    ]

    print(f"{'case':<74}{'median ms':>12}{'p99 ms':>12}{'vs full':>10}")
    for row in [full, *cases]:
        ratio = full.median_ms / row.median_ms if row.median_ms else float("inf")
        print(f"{row.name:<74}{row.median_ms:>12.3f}{row.p99_ms:>12.3f}{ratio:>9.0f}x")


def stale_document(text: str, encoding: BytePairCounter) -> DocumentIndex:
    """``text`` opened while the tokenizer still loaded (estimated counts), tokenizer ready now."""
    gate = threading.Event()

    def slow_loader() -> BytePairCounter:
        gate.wait(60)
        return encoding

    pending = TokenCounter(slow_loader)
    pending.start_loading()
    doc = DocumentIndex(text, pending)
    gate.set()
    pending.wait_ready(60)
    return doc


def estimated_before(text: str, encoding: BytePairCounter, budget: int) -> list[float]:
    """The previous rule: each request recounted 1,024 lines (wherever they were) before its
    window, until the file was exact: the cost of each request that paid."""
    doc = stale_document(text, encoding)
    rng = random.Random(6)
    samples = []
    while not doc.counts_exact:
        line = rng.randrange(doc.line_count)
        start = time.perf_counter()
        doc.refresh_counts(max_lines=1024)
        select_window(doc, line, 4, budget)
        samples.append(time.perf_counter() - start)
    return samples


def estimated_now(text: str, encoding: BytePairCounter, budget: int) -> tuple[float, list[float]]:
    """The current rule: the first request makes exact only the lines its window may cover;
    the rest is recounted between requests, RECOUNT_SLICE lines per turn of the event loop.
    Returns the first request's time and each background slice's."""
    doc = stale_document(text, encoding)
    start = time.perf_counter()
    select_window(doc, doc.line_count // 2, 4, budget)
    first = time.perf_counter() - start
    slices = []
    while True:
        start = time.perf_counter()
        done = doc.refresh_counts(max_lines=RECOUNT_SLICE)
        slices.append(time.perf_counter() - start)
        if done:
            return first, slices


def window_only(doc: DocumentIndex, budget: int, iterations: int) -> list[float]:
    """Window selection alone, at random cursors."""
    rng = random.Random(5)
    lines = [rng.randrange(doc.line_count) for _ in range(iterations)]
    return measure(iterations, lambda i: select_window(doc, lines[i], 4, budget))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128_000)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--block-sizes", default="", help="e.g. 64,128,256 (default: built-in)")
    args = parser.parse_args()
    counter = loaded_counter()
    counter.wait_ready(60)
    encoding = counter.encoding
    if encoding is None:
        raise SystemExit(f"tokenizer failed to load: {counter.error}")
    sizes = [int(size) for size in args.block_sizes.split(",") if size]
    for size in sizes or [documents._BLOCK]:
        # Block size is a module constant; the sweep rebinds it to compare layouts.
        documents._BLOCK, documents._MAX_BLOCK, documents._MIN_BLOCK = size, 2 * size, size // 4  # type: ignore[misc]
        print(f"\n== block size {size} ==")
        run(args, counter, encoding)


if __name__ == "__main__":
    main()
