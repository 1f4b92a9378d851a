"""The composition root on its own (no editor): a real bundled model server, real settings."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from spark_lsp.config import Settings
from spark_lsp.errors import SparkError
from spark_lsp.host import QuietEvents, SparkHost

#: No endpoint and no key: the host starts the bundled model server.
BUNDLED_ENV = {
    k: v for k, v in os.environ.items() if k not in ("SPARK_LSP_ENDPOINT", "OPENAI_API_KEY")
}


def excluding(settings: Settings, *patterns: str) -> Settings:
    return dataclasses.replace(
        settings, context=dataclasses.replace(settings.context, exclude=patterns)
    )


async def test_a_damaged_key_is_a_one_line_failure_not_a_crash() -> None:
    events = QuietEvents()
    env = {**BUNDLED_ENV, "SPARK_LSP_ENDPOINT": "ws://127.0.0.1:9/v1/responses",
           "OPENAI_API_KEY": "sk-damaged\u200bkey-0123456789"}
    host = SparkHost(events, env)
    with pytest.raises(SparkError) as raised:
        await host.started_session()
    assert "OPENAI_API_KEY" in str(raised.value) or "key" in str(raised.value)
    assert "sk-damaged" not in str(raised.value)
    assert host.runtime is None and events.failure == str(raised.value)
    await host.close()


async def test_the_bundled_server_restarts_for_new_folders_or_exclusions(tmp_path: Path) -> None:
    host = SparkHost(QuietEvents(), BUNDLED_ENV, prefetch=False)
    host.set_roots([tmp_path])
    try:
        await host.started_session()
        first = host.runtime
        assert first is not None and first.kind == "bundled"
        assert not host.apply_settings(host.settings, [])  # nothing it holds changed
        assert host.apply_settings(excluding(host.settings, "notes.py"), [])
        await host.start_model()
        assert host.runtime is not first
        assert not host.apply_settings(excluding(host.settings, "notes.py"), [])
        other = tmp_path / "other"
        other.mkdir()
        assert host.set_roots([tmp_path, other])  # it learns from every folder
        await host.start_model()
        assert not host.set_roots([tmp_path, other])
        assert host.set_roots([other])
    finally:
        await host.close()
    assert host.runtime is None
