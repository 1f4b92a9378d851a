"""Hostile ignore lines: the time of one exclusion decision, worst cases of issue 15.

    python -m benchmarks.bench_ignore_patterns            # the linear-time matcher
    python -m benchmarks.bench_ignore_patterns --regex    # the old regex translation, for scale

The old translation (``*`` -> ``[^/]*``, ``**/`` -> ``(?:.*/)?``) backtracks: its rows use
shorter names, each step of 4 characters multiplying the time; the matcher's rows use the
issue's full sizes.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from spark_lsp.shared.privacy import ExclusionPolicy

CASES = {
    "*a x13 *b vs a x N": ("*a" * 13 + "*b", lambda n: "a" * n),
    "**/ x30 x vs depth N": ("**/" * 30 + "x", lambda n: "/".join(["d"] * n) + "/y"),
}
SIZES = {"matcher": (40, 400, 1000), "regex": (16, 20, 24)}


def old_regex(glob: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile(f"^(?:.*/)?{''.join(out)}(?:/.*)?$")


def decide_ms(line: str, name: str, regex: bool) -> float:
    if regex:
        pattern = old_regex(line)
        started = time.perf_counter()
        pattern.match(name)
        return (time.perf_counter() - started) * 1000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".gitignore").write_text(line + "\n", encoding="utf-8")
        policy = ExclusionPolicy(root)
        policy.reason(root / "warm.py")  # read the ignore file outside the timing
        started = time.perf_counter()
        policy.reason(root / name)
        return (time.perf_counter() - started) * 1000


def main() -> None:
    regex = "--regex" in sys.argv[1:]
    kind = "regex" if regex else "matcher"
    print(f"{'case':<22} {'N':>6} {'median ms':>10} {'worst ms':>10}  ({kind})")
    for label, (line, make) in CASES.items():
        for n in SIZES[kind]:
            if regex and label.startswith("**/"):
                n = {16: 4, 20: 6, 24: 8}[n]  # depth 10 did not finish in a minute
            times = [decide_ms(line, make(n), regex) for _ in range(5)]
            print(f"{label:<22} {n:>6} {statistics.median(times):>10.3f} {max(times):>10.3f}")


if __name__ == "__main__":
    main()
