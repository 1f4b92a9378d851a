"""``spark-lsp doctor``: one screen that says whether the model answers, and how fast.

It resolves the configuration exactly as the language server does, connects through the same
session code, runs one tiny completion and reports what a user needs to fix — never the key.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from spark_lsp import __version__
from spark_lsp.config import load_settings
from spark_lsp.errors import SparkError
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.model.session import ModelSession
from spark_lsp.prompt_format import CURSOR, TASK_COMPLETE
from spark_lsp.runtime import ModelRuntime

PROBE_FILE = (
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    f"def mul(a, b):\n    return {CURSOR}\n"
)


@dataclass
class Probe:
    """What one timed completion showed."""

    handshake_ms: float | None
    ttft_ms: float | None
    total_ms: float
    pieces: int
    text: str

    @property
    def tokens_per_s(self) -> float | None:
        """Streaming rate after the first token (deltas are about one token each)."""
        if self.ttft_ms is None or self.pieces < 2 or self.total_ms <= self.ttft_ms:
            return None
        return (self.pieces - 1) / ((self.total_ms - self.ttft_ms) / 1000)


async def probe(session: ModelSession, model: str) -> Probe:
    """Run one small completion and time it."""
    request = CreateRequest(
        input_texts=(PROBE_FILE,),
        model=model,
        instructions=TASK_COMPLETE + "\nComplete the code at the cursor marker.",
        max_output_tokens=32,
    )
    started = time.monotonic()
    first: float | None = None
    pieces: list[str] = []
    async with session.stream(request) as response:
        async for delta in response:
            first = first or time.monotonic()
            pieces.append(delta)
    done = time.monotonic()
    handshakes = session.stats.handshake_ms
    return Probe(
        handshake_ms=handshakes[-1] if handshakes else None,
        ttft_ms=(first - started) * 1000 if first else None,
        total_ms=(done - started) * 1000,
        pieces=len(pieces),
        text="".join(pieces),
    )


def _fmt(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


async def run_doctor(out: Callable[[str], None], env: Mapping[str, str] | None = None) -> int:
    """Print the report; 0 when the model answered, 1 (with one line saying why) otherwise."""
    env = dict(os.environ) if env is None else env
    settings, warnings = load_settings(env=env)
    runtime = ModelRuntime(settings, env, Path.cwd())
    out(f"spark-lsp {__version__} doctor")
    for warning in warnings:
        out(f"  warning:  {warning}")
    out(f"  model:    {settings.model.name}")
    command = settings.model.api_key_command
    out(
        f"  key:      {'present' if runtime.endpoint.api_key or command else 'not set'}"
        f" (from {'spark.model.apiKeyCommand' if command else '$' + settings.model.api_key_env})"
    )
    try:
        session = await runtime.start()
        out(f"  endpoint: {runtime.url} ({runtime.kind})")
        if not await session.wait_ready(settings.model.connect_timeout_ms / 1000 + 5):
            detail = session.status.detail or "no connection could be made"
            out(f"error: the model is not reachable: {detail}")
            return 1
        result = await probe(session, settings.model.name)
    except SparkError as exc:
        out(f"error: {exc}")
        return 1
    finally:
        await runtime.close()
    out(f"  lanes:    {'yes (stream_id)' if session.lanes else 'no (connection pool)'}")
    out(f"  handshake:           {_fmt(result.handshake_ms, 'ms')}")
    out(f"  time to first token: {_fmt(result.ttft_ms, 'ms')}")
    out(f"  tokens/s:            {_fmt(result.tokens_per_s, 'tok/s')}")
    out(f"  sample completion:   {result.text.splitlines()[0] if result.text else '(empty)'!r}")
    out("ok: the model answers")
    return 0
