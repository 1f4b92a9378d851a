"""tiktoken itself, built offline from the vocabulary the server uses: the tests' yardstick."""

from __future__ import annotations

import base64
import functools

import tiktoken

from spark_lsp.engine.tokens import O200K_PAT_STR, O200K_SPECIAL_TOKENS, _read_vocabulary


@functools.cache
def tiktoken_o200k() -> tiktoken.Encoding:
    """The o200k_base encoding of tiktoken's Rust core, from the bundled (hash-checked) file."""
    ranks = {}
    for line in _read_vocabulary().splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name="o200k_base",
        pat_str=O200K_PAT_STR,
        mergeable_ranks=ranks,
        special_tokens=dict(O200K_SPECIAL_TOKENS),
    )
