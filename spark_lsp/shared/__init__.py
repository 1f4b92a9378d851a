"""Code every layer may use (the language server, the engine, the bundled model server).

Nothing here imports another spark-lsp layer, so both sides of the WebSocket can rely on the
same privacy policy and the same prompt markers without importing each other.
"""
