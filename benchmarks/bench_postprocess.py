"""Reply filters: what they add to a completion on a 128k-token file, and what parsers cost.

1. Added time per completion: everything the filters do for one completion, the way the
   pipeline does it — build the cursor context (parse of the lines above, indentation), call
   ``is_complete`` on the stream as it arrives (5-character pieces), then ``postprocess`` the
   reply — on a file of about 128k tokens, for realistic chat replies (fences, prose, echoes,
   relative indentation), at 200 cursor positions per language. Goal: p99 <= 2 ms.
2. Each grammar's load time and memory (resident set growth), each in a fresh process, after
   ``tree_sitter`` itself is imported (shared by all grammars).

Run: python benchmarks/bench_postprocess.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from benchmarks.common import summary, table
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.grammars import GRAMMARS, language_for
from spark_lsp.engine.pipeline import cursor_lines
from spark_lsp.engine.postprocess import is_complete, postprocess
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.tokens import TokenCounter

TARGET_TOKENS = 128_000
POSITIONS = 200
PIECE = 5

# language id -> (one unit of source that repeats to fill the file, cursor column offset hint)
UNITS = {
    "python": "def handler_{i}(event):\n    if event.ok:\n        return event.value + {i}\n"
    "    \n    return None\n\n",
    "go": "func handler{i}(e Event) int {\n\tif e.Ok {\n\t\treturn e.Value + {i}\n\t}\n\t\n"
    "\treturn 0\n}\n\n",
    "typescript": "function handler{i}(e: Event): number {\n  if (e.ok) {\n"
    "    return e.value + {i};"
    "\n  }\n  \n  return 0;\n}\n\n",
    "ruby": "def handler_{i}(e)\n  if e.ok\n    return e.value + {i}\n  end\n  \n  nil\nend\n\n",
}
# The blank line inside each unit (line 3 of 7) is where the cursor goes.
CURSOR_LINE_IN_UNIT = 4
REPLIES = {
    "python": [
        "```python\nif event.retry:\n    return handler_0(event)\n```",
        "Sure! Here's the rest:\n\nlog(event)\nreturn event.value\n\nThis logs the event.",
        "def handler_1(event):\n    if event.ok:\n        return event.value + 1\n    log(event)",
    ],
    "go": [
        "```go\nif e.Retry {\n    return handler0(e)\n}\n```",
        "log(e)\n\treturn e.Value\n}",
    ],
    "typescript": [
        "```ts\nif (e.retry) {\n  return handler0(e);\n}\n```",
        "log(e);\nreturn e.value;\n}\n\nfunction other() {}",
    ],
    "ruby": [
        "```ruby\nif e.retry\n  return handler_0(e)\nend\n```",
        "log(e)\n  e.value\nend",
    ],
}


def build(language: str, counter: TokenCounter) -> DocumentIndex:
    unit = UNITS[language]
    per_unit = counter.count(unit.replace("{i}", "1000"))
    count = TARGET_TOKENS // per_unit
    return DocumentIndex("".join(unit.replace("{i}", str(i)) for i in range(count)), counter)


def one_completion(query: CompletionQuery, reply: str) -> tuple[float, float]:
    """Milliseconds the filters add to one completion (context, stream checks, filters):
    wall clock, and this thread's CPU time (what the filters cost on a machine that other
    processes also load)."""
    started, cpu = time.perf_counter(), time.thread_time()
    ctx = cursor_lines(query).judged(multiline=True)
    for end in range(PIECE, len(reply) + PIECE, PIECE):
        if is_complete(reply[:end], ctx):
            reply = reply[:end]
            break
    postprocess(reply, ctx)
    return (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000


def filter_rows(counter: TokenCounter) -> list[list[object]]:
    rows: list[list[object]] = []
    for language in UNITS:
        doc = build(language, counter)
        lines_per_unit = UNITS[language].count("\n")
        units = doc.line_count // lines_per_unit
        walls, cpus = [], []
        for round_ in range(2):  # the first round loads the grammar: warm-up, not counted
            for k in range(POSITIONS):
                unit = (k * units) // POSITIONS
                line = unit * lines_per_unit + CURSOR_LINE_IN_UNIT
                column = len(doc.line(line))
                query = CompletionQuery("file:///b", "b", language, doc, line, column, True)
                reply = REPLIES[language][k % len(REPLIES[language])]
                wall, cpu = one_completion(query, reply)
                if round_:
                    walls.append(wall)
                    cpus.append(cpu)
        rows.append(
            [language, f"{doc.total_tokens:,}", len(walls), *summary(cpus), *summary(walls)]
        )
    return rows


PROBE = """
import json, sys, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
import tree_sitter
from spark_lsp.engine.grammars import language_for, parse
before, started = rss(), time.perf_counter()
language_for(sys.argv[1])
loaded = time.perf_counter()
parse(sys.argv[1], "x = 1\\n" * 50)
print(json.dumps({"load_ms": (loaded - started) * 1000, "rss_kb": (rss() - before) / 1024}))
"""


def grammar_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    for language in GRAMMARS:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, language], capture_output=True, text=True, check=True
        )
        probe = json.loads(out.stdout)
        rows.append([language, GRAMMARS[language].module, probe["load_ms"], probe["rss_kb"]])
    return rows


def main() -> None:
    counter = TokenCounter()
    counter.start_loading()
    counter.wait_ready(60)
    for language in UNITS:
        language_for(language)
    print(
        table(
            "Reply filters: added time per completion on a ~128k-token file (ms)",
            [
                "language",
                "file tokens",
                "completions",
                "CPU p50",
                "CPU p99",
                "wall p50",
                "wall p99",
            ],
            filter_rows(counter),
        )
    )
    print()
    print(
        table(
            "Grammars: load time and resident memory, each in a fresh process",
            ["language id", "wheel module", "load ms", "memory KiB"],
            grammar_rows(),
        )
    )


if __name__ == "__main__":
    main()
