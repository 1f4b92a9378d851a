"""``spark-lsp doctor``: one screen that says whether the model answers, and how fast.

It resolves the configuration exactly as the language server does, connects through the same
session code, runs one tiny completion through the same service the editor's requests take, and
reports what a user needs to fix — never the key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spark_lsp import __version__
from spark_lsp.config import (
    DEFAULT_ORIGIN,
    LoadedSettings,
    load_settings_traced,
    machine_keys,
    resolve_endpoint,
    settings_to_wire,
)
from spark_lsp.engine.messages import CompletionRequest
from spark_lsp.engine.service import SparkService
from spark_lsp.errors import SparkError
from spark_lsp.host import QuietEvents, SparkHost
from spark_lsp.model.session import ModelSession
from spark_lsp.shared.scrub import scrub

#: The probe document: a tiny Python file, completed at the end of its last line.
PROBE_FILE = (
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    "def mul(a, b):\n    return "
)
#: Not a ``file:`` URI: nothing on disk is read, and no exclusion rule can apply to it.
PROBE_URI = "untitled:spark-doctor-probe.py"


@dataclass
class Probe:
    """What one timed completion showed."""

    handshake_ms: float | None
    ttft_ms: float | None
    total_ms: float
    pieces: int
    text: str
    #: What the service noticed while the sample ran (why it is empty: the budget went to
    #: reasoning, the model refused…); the editor logs these, doctor makes them its verdict.
    notices: tuple[str, ...] = ()

    @property
    def tokens_per_s(self) -> float | None:
        """Streaming rate after the first token (deltas are about one token each)."""
        if self.ttft_ms is None or self.pieces < 2 or self.total_ms <= self.ttft_ms:
            return None
        return (self.pieces - 1) / ((self.total_ms - self.ttft_ms) / 1000)


class ProbeEvents(QuietEvents):
    """The host's events during the probe: notices are kept for the verdict, not logged."""

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[str] = []

    def notice(self, message: str) -> None:
        """Kept: an empty sample with a notice is a failure, and the notice says why."""
        self.notices.append(message.removeprefix("spark-lsp: "))


async def probe(service: SparkService, session: ModelSession, events: ProbeEvents) -> Probe:
    """Run one small completion through the service, as an editor would, and time it."""
    service.open(PROBE_URI, "python", PROBE_FILE, 1)
    line = PROBE_FILE.count("\n")
    character = len(PROBE_FILE) - PROBE_FILE.rfind("\n") - 1
    stats = service.pipeline.stats
    deltas_before = stats.counters["model_deltas"]
    result = await service.complete(CompletionRequest(PROBE_URI, line, character, invoked=True))
    if result.failed is not None or result.refused is not None:
        raise SparkError(result.failed or result.refused or "")
    handshakes = session.stats.handshake_ms
    return Probe(
        handshake_ms=handshakes[-1] if handshakes else None,
        ttft_ms=_last(stats.stages.get("model_first_token")),
        total_ms=_last(stats.stages.get("model")) or 0.0,
        pieces=stats.counters["model_deltas"] - deltas_before,
        text=result.text or "",
        notices=tuple(events.notices),
    )


def describe_transport(session: ModelSession) -> str:
    """The transport and API in use, in words (e.g. after an automatic fallback to HTTP)."""
    if session.transport == "websocket":
        return "websocket (Responses API, WebSocket mode)"
    api = "Chat Completions" if session.api == "chat" else "Responses API"
    return f"http ({api} over server-sent events, kept-alive connections)"


def machine_settings_report(loaded: LoadedSettings) -> list[str]:
    """Where each machine-scoped setting came from: these run a program or decide where the
    key goes, so only the environment, ``initializationOptions`` and the user config file may
    set them (an editor's initializationOptions are not seen by ``doctor``)."""
    path = loaded.user_config
    if path is None:
        state = "none (no $XDG_CONFIG_HOME or $HOME)"
    else:
        if str(path) in loaded.origins.values():
            state = f"{path} (in use)"
        else:
            state = f"{path} ({'found, sets nothing' if path.is_file() else 'not found'})"
    lines = [f"  user config: {state}"]
    lines.append("  machine-scoped settings (never taken from a workspace):")
    wire = settings_to_wire(loaded.settings)
    for key in sorted(machine_keys()):
        _, group, name = key.split(".")
        value = json.dumps(wire[group][name])
        origin = loaded.origins.get(key, DEFAULT_ORIGIN)
        lines.append(scrub(f"    {key} = {value}  (from {origin})"))
    return lines


def _last(samples: Sequence[float] | None) -> float | None:
    return samples[-1] if samples else None


def _fmt(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


async def run_doctor(out: Callable[[str], None], env: Mapping[str, str] | None = None) -> int:
    """Print the report; 0 when the model answered, 1 (with one line saying why) otherwise."""
    env = dict(os.environ) if env is None else env
    loaded = load_settings_traced(env=env)
    settings = loaded.settings
    out(f"spark-lsp {__version__} doctor")
    for warning in loaded.warnings:
        out(f"  warning:  {warning}")
    for line in machine_settings_report(loaded):
        out(line)
    try:
        endpoint = resolve_endpoint(settings, env)  # a damaged key is said before anything runs
    except SparkError as exc:
        out(f"error: {exc}")
        return 1
    out(f"  model:    {settings.model.name}")
    command = settings.model.api_key_command
    out(
        f"  key:      {'present' if endpoint.api_key or command else 'not set'}"
        f" (from {'spark.model.apiKeyCommand' if command else '$' + settings.model.api_key_env})"
    )
    events = ProbeEvents()
    host = SparkHost(events, env, settings=settings, prefetch=False)
    host.set_roots([Path.cwd()])
    try:
        session = await host.started_session()
        assert host.runtime is not None  # started
        out(f"  endpoint: {host.runtime.url} ({host.runtime.kind})")
        if not await session.wait_ready(settings.model.connect_timeout_ms / 1000 + 5):
            detail = session.status.detail or "no connection could be made"
            if session.status.state == "auth_failed":  # a refused key or model: say it plainly
                out(f"error: {detail}")
            else:
                out(f"error: the model is not reachable: {detail}")
            return 1
        out(f"  transport: {describe_transport(session)}")
        result = await probe(host.service, session, events)
    except SparkError as exc:
        out(f"error: {exc}")
        return 1
    finally:
        await host.close()
    if session.transport == "websocket":
        out(f"  lanes:    {'yes (stream_id)' if session.lanes else 'no (connection pool)'}")
    out(f"  handshake:           {_fmt(result.handshake_ms, 'ms')}")
    out(f"  time to first token: {_fmt(result.ttft_ms, 'ms')}")
    out(f"  tokens/s:            {_fmt(result.tokens_per_s, 'tok/s')}")
    out(f"  sample completion:   {result.text.splitlines()[0] if result.text else '(empty)'!r}")
    if not result.text and result.notices:  # e.g. reasoning spent the whole output budget
        out(f"error: the sample completion is empty: {result.notices[-1]}")
        return 1
    out("ok: the model answers")
    return 0
