"""What the code near the cursor refers to: the names a definition lookup starts from.

Names closest to the cursor matter most (the call being typed, the variable just used), so they
come out in order of distance; keywords and short names are dropped, and names that follow a dot
are marked, because ``order.total`` asks for a member, not a top-level ``total``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from spark_lsp.engine.documents import DocumentIndex

NAME = re.compile(r"(\.)?\b([A-Za-z_][A-Za-z0-9_]*)")
LINES_ABOVE = 30
LINES_BELOW = 5
MAX_NAMES = 64
#: Words of the common languages that are never user definitions.
COMMON_WORDS = frozenset(
    [*keyword.kwlist, *keyword.softkwlist]
    + "self cls this super true false null nil undefined void let var const func fn function "
    "return int str float bool dict list set tuple len range print string number any none "
    "new public private static final struct interface impl use mut pub package import from "
    "export default await async yield type enum".split()
)


@dataclass(frozen=True, slots=True)
class NearNames:
    """Names referenced around the cursor, closest first; ``attributes`` follow a dot."""

    names: tuple[str, ...]
    attributes: frozenset[str]


def names_near(doc: DocumentIndex, line: int) -> NearNames:
    """The distinct names on the lines around ``line``, ordered by distance from it."""
    first, end = max(0, line - LINES_ABOVE), min(doc.line_count, line + LINES_BELOW + 1)
    order = sorted(range(first, end), key=lambda n: (abs(n - line), -n))
    seen: dict[str, None] = {}
    attributes: set[str] = set()
    for number in order:
        for dot, name in NAME.findall(doc.line(number)):
            if len(name) < 3 or name in COMMON_WORDS or name.isdigit():
                continue
            if dot:
                attributes.add(name)
            seen.setdefault(name, None)
        if len(seen) >= MAX_NAMES:
            break
    return NearNames(tuple(seen)[:MAX_NAMES], frozenset(attributes))
