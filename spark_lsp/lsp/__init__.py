"""The language server's LSP side: pygls adaptations and the state its handlers share.

``protocol.py`` bends pygls where it does not fit us, ``server.py`` is the server object the
handlers in ``features/`` receive, and ``spark_lsp.app`` wires them together.
"""
