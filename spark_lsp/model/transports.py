"""Choosing and dialling a transport: WebSocket mode, or HTTP streaming (Responses or Chat).

``auto`` uses HTTP for an ``http(s)://`` base URL and tries WebSocket mode for a ``ws(s)://``
one; an endpoint that answers that upgrade with 426 speaks HTTP only, so the dialler switches to
HTTP on the same host and stays there (as the Codex CLI does): a new upgrade attempt per
reconnect would only cost a round trip each time. Chat Completions
exists only over HTTP. The HTTP modules are imported on first use, so WebSocket users never
load them.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from spark_lsp.errors import UpgradeRequired
from spark_lsp.model.connection import ConnectOptions, dial
from spark_lsp.model.link import Link

log = logging.getLogger(__name__)

API_SUFFIXES = ("/responses", "/chat/completions")


def http_base(url: str) -> str:
    """The base URL (``https://host/v1``) of an endpoint given in any of the usual forms."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    for suffix in API_SUFFIXES:
        path = path.removesuffix(suffix)
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def websocket_url(url: str) -> str:
    """The WebSocket-mode URL (``wss://host/v1/responses``) of an endpoint."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/responses"):
        path += "/responses"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


class Dialer:
    """Dials links of the configured transport; remembers a 426 fallback for good."""

    def __init__(self) -> None:
        self.fell_back = False

    async def __call__(self, options: ConnectOptions) -> Link:
        """One new link to the endpoint."""
        if options.transport == "http" or options.api == "chat" or self.fell_back:
            return await dial_http_link(options)
        if options.transport == "auto" and urlsplit(options.url).scheme in ("http", "https"):
            # A pasted base URL (vLLM, Ollama...): such servers answer an upgrade with 404 or
            # 405 as often as with 426, so HTTP is the only safe reading of it.
            return await dial_http_link(options)
        ws_options = _with_url(options, websocket_url(options.url))
        if options.transport == "websocket":
            return await dial(ws_options)
        try:
            return await dial(ws_options)
        except UpgradeRequired:
            log.info("%s has no WebSocket mode (HTTP 426); using HTTP streaming", options.url)
            self.fell_back = True
            return await dial_http_link(options)


async def dial_http_link(options: ConnectOptions) -> Link:
    """An HTTP streaming link (loads the HTTP client on first use)."""
    from spark_lsp.model.http_link import dial_http

    base = http_base(options.url)
    return await dial_http(
        base,
        api=options.api,
        api_key=options.api_key,
        ssl_context=options.ssl_context(base),
        proxy=options.proxy,
        connect_timeout=options.connect_timeout,
    )


def _with_url(options: ConnectOptions, url: str) -> ConnectOptions:
    from dataclasses import replace

    return replace(options, url=url)
