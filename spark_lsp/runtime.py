"""Bring up the model side from settings: the endpoint (bundled or remote) and its session.

The language server, ``doctor`` and ``complete`` all need the same thing — resolve where the
model is, start the bundled model server when nothing is configured, and open one persistent
session — so it lives here once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from spark_lsp.config import ResolvedEndpoint, Settings, resolve_endpoint
from spark_lsp.errors import ConfigError
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.netconfig import proxy_for
from spark_lsp.model.session import ModelSession, SessionOptions, SessionStatus
from spark_lsp.modelserver.embedded import EmbeddedModelServer
from spark_lsp.shared.bounded_run import RunTimeout, run_bounded

log = logging.getLogger(__name__)

# -- the API key from a command (``spark.model.apiKeyCommand``) ---------------------------------
# People keep keys in ``pass``, 1Password's ``op`` or a keychain and do not want them exported
# into every process. The command's first output line is the key. It runs in a worker thread (a
# password manager may take a second), and nothing it prints ever appears in an error, a log or
# the status: failures say only the exit status, because the output may be the key itself.

KEY_COMMAND_TIMEOUT_S = 30.0
KEY_COMMAND_SETTING = "spark.model.apiKeyCommand"
#: A key is at most a few kB (scrub.MAX_KEY_CHARS); output past this is not a key, and holding
#: or scanning megabytes of it would stall the server.
KEY_COMMAND_MAX_OUTPUT = 65_536


def read_key(command: str, timeout: float = KEY_COMMAND_TIMEOUT_S) -> str:
    """Run ``command`` in a shell and return the first line of its output (the key).

    The command gets its own process group, killed as a whole on timeout or when it prints
    more than :data:`KEY_COMMAND_MAX_OUTPUT` bytes: nothing it started outlives a failure.
    The key is checked (length, invisible characters) where it is used: ``resolve_endpoint``.
    """
    try:
        done = run_bounded(
            command, shell=True, timeout=timeout, max_output=KEY_COMMAND_MAX_OUTPUT
        )
    except RunTimeout:
        limit = f"{timeout:.0f} s"
        raise ConfigError(f"{KEY_COMMAND_SETTING} did not finish within {limit}") from None
    except OSError as exc:
        raise ConfigError(f"{KEY_COMMAND_SETTING} could not run ({exc.strerror})") from None
    if done.truncated:
        raise ConfigError(
            f"{KEY_COMMAND_SETTING} printed more than {KEY_COMMAND_MAX_OUTPUT // 1024} kB; "
            "it should print only the key"
        )
    if done.returncode != 0:
        status = done.returncode
        raise ConfigError(f"{KEY_COMMAND_SETTING} failed with exit status {status}") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise ConfigError(f"{KEY_COMMAND_SETTING} printed no key on its first line")
    return key


async def read_key_async(command: str) -> str:
    """:func:`read_key` off the event loop."""
    return await asyncio.to_thread(read_key, command)


class ModelRuntime:
    """Owns the model session and, on the embedded default, the bundled model server."""

    def __init__(
        self, settings: Settings, env: Mapping[str, str], workspace: Sequence[Path]
    ) -> None:
        """``workspace``: every workspace folder (the bundled model server learns from them)."""
        self.settings = settings
        self.env = env
        self.endpoint: ResolvedEndpoint = resolve_endpoint(settings, env)
        self.workspace = workspace
        self.session: ModelSession | None = None
        self._embedded: EmbeddedModelServer | None = None
        self.url: str | None = self.endpoint.url

    @property
    def display_url(self) -> str:
        """The endpoint for status bars: scheme, host and path only (no query, no credentials)."""
        if self.endpoint.bundled or self.url is None:
            return "bundled"
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"

    @property
    def kind(self) -> str:
        """``bundled`` or ``remote``: shown in the status bar and by ``doctor``."""
        return "bundled" if self.endpoint.bundled else "remote"

    async def start(self, on_status: Callable[[SessionStatus], None] | None = None) -> ModelSession:
        """Start the bundled server if needed, then open the session (connects in background).

        With ``spark.model.apiKeyCommand`` the key is read here, once per runtime (a rejected
        key makes the server start a new runtime, which reads it again).
        """
        command = self.settings.model.api_key_command
        if command:
            key = await read_key_async(command)
            # Checked and registered with the scrubber in the worker thread as well.
            self.endpoint = await asyncio.to_thread(
                resolve_endpoint, self.settings, self.env, api_key=key
            )
            self.url = self.endpoint.url
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
                transport=model.transport,
                api=model.api,
                # The bundled server is on loopback: a corporate proxy must never see it.
                proxy=None if self.endpoint.bundled else proxy_for(self.url, model.proxy, self.env),
                ca_file=model.ca_file,
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
