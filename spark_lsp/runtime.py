"""Bring up the model side from settings: the endpoint (bundled or remote) and its session.

The language server, ``doctor`` and ``complete`` all need the same thing — resolve where the
model is, start the bundled model server when nothing is configured, and open one persistent
session — so it lives here once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from spark_lsp.config import ResolvedEndpoint, Settings, resolve_endpoint
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.session import ModelSession, SessionOptions, SessionStatus
from spark_lsp.modelserver.embedded import EmbeddedModelServer

log = logging.getLogger(__name__)


class ModelRuntime:
    """Owns the model session and, on the embedded default, the bundled model server."""

    def __init__(self, settings: Settings, env: Mapping[str, str], workspace: Path | None) -> None:
        self.settings = settings
        self.endpoint: ResolvedEndpoint = resolve_endpoint(settings, env)
        self.workspace = workspace
        self.session: ModelSession | None = None
        self._embedded: EmbeddedModelServer | None = None
        self.url: str | None = self.endpoint.url

    @property
    def kind(self) -> str:
        """``bundled`` or ``remote``: shown in the status bar and by ``doctor``."""
        return "bundled" if self.endpoint.bundled else "remote"

    async def start(self, on_status: Callable[[SessionStatus], None] | None = None) -> ModelSession:
        """Start the bundled server if needed, then open the session (connects in background)."""
        api_key = self.endpoint.api_key
        if self.endpoint.bundled:
            self._embedded = EmbeddedModelServer()
            self.url, api_key = await self._embedded.start(
                self.workspace, self.settings.context.exclude
            )
        assert self.url is not None
        model = self.settings.model
        options = SessionOptions(
            connect=ConnectOptions(
                url=self.url,
                api_key=api_key,
                connect_timeout=model.connect_timeout_ms / 1000,
            ),
            model=model.name,
            pool_size=model.connections,
            rotate_after_s=float(model.rotate_after_seconds),
            stall_timeout_s=model.stall_timeout_ms / 1000,
        )
        self.session = ModelSession(options, on_status)
        self.session.start()
        return self.session

    async def close(self) -> None:
        """Close the session, then stop the bundled server: no orphan processes."""
        if self.session is not None:
            await self.session.close()
        if self._embedded is not None:
            await self._embedded.stop()
