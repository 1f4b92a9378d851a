"""Keystrokes on a long (minified) line: the cost of one edit must follow the edit, not the line.

    python -m benchmarks.bench_long_line

Prints, per line length, the median and worst time of one single-character insertion at a
random column (DocumentIndex.apply_change, exact o200k counts loaded), and the ratio to the
shortest line.
"""

from __future__ import annotations

import random
import statistics
import time

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.tokens import TokenCounter

SIZES = (10_000, 100_000, 1_000_000)
EDITS = 40


def minified(size: int, rng: random.Random) -> str:
    words = ["var", "a", "=", "function", "(", ")", "{", "return", "b", "+", "1", ";", "}", ","]
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words)
        out.append(word)
        length += len(word)
    return "".join(out)


def measure(counter: TokenCounter, size: int) -> tuple[float, float]:
    rng = random.Random(size)
    text = "// header\n" + minified(size, rng) + "\n// footer\n"
    doc = DocumentIndex(text, counter)
    times = []
    for version in range(EDITS):
        column = rng.randrange(0, size)
        started = time.perf_counter()
        doc.apply_change((1, column, 1, column), "x", version)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    counter = TokenCounter()
    assert counter.wait_ready(60), "the o200k vocabulary did not load"
    rows = [(size, *measure(counter, size)) for size in SIZES]
    base = rows[0][1]
    print(f"{'line chars':>12} {'median ms':>10} {'worst ms':>10} {'x shortest':>11}")
    for size, median, worst in rows:
        print(f"{size:>12,} {median:>10.3f} {worst:>10.3f} {median / base:>11.1f}")


if __name__ == "__main__":
    main()
