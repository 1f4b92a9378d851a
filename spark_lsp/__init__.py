"""spark-lsp: a language server for a fast coding model over one persistent WebSocket session."""

__version__ = "0.1.0"
