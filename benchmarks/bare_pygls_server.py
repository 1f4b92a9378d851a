"""The floor for start-up: a pygls server that only answers ``initialize``, nothing else.

Same Python, same pygls and lsprotocol as spark-lsp; ``bench_latency`` spawns it next to
spark-lsp in the same run, so "spawn -> initialize result" is compared with what any pygls
server pays before its first line of its own code.

Run: python -m benchmarks.bare_pygls_server (speaks LSP on stdio)
"""

from __future__ import annotations

from pygls.lsp.server import LanguageServer


def main() -> None:
    """Serve LSP on stdio with pygls' built-in lifecycle handlers only."""
    LanguageServer("bare-pygls", "0").start_io()


if __name__ == "__main__":
    main()
