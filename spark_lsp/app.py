"""The composition root: the language server object with every feature registered on it.

The only module that knows both the server object and the features, so that neither imports
the other (features receive the server; the server does not know which features exist).
"""

from __future__ import annotations

from spark_lsp.features import (
    code_actions,
    completion,
    documents,
    inline_completion,
    lifecycle,
    next_edit,
    stats,
    workspace_folders,
)
from spark_lsp.lsp.server import SparkServer


def create_server() -> SparkServer:
    """Build the server with every feature registered."""
    server = SparkServer()
    features = (
        lifecycle,
        workspace_folders,
        documents,
        inline_completion,
        completion,
        code_actions,
        stats,
        next_edit,
    )
    for feature in features:
        server.add_handlers(feature.HANDLERS)
    return server


def serve_network(
    mode: str, host: str, port: int, token: str | None, *, allow_remote: bool
) -> int:
    """``--tcp``/``--ws`` until the client leaves; ConfigError (before listening) when the
    address is not loopback without ``allow_remote`` or the launch token is missing."""
    from spark_lsp.lsp.listen import check_listener, run_listener, serve_tcp, serve_ws

    token = check_listener(host, token, allow_remote)
    server = create_server()
    run_listener(serve_tcp if mode == "tcp" else serve_ws, server, host, port, token)
    return server.exit_code
