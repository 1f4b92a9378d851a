"""spark.model.apiKeyCommand: the first output line is the key; failures never show output."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from spark_lsp.config import Settings, load_settings, resolve_endpoint, settings_to_wire
from spark_lsp.errors import ConfigError
from spark_lsp.runtime import read_key


def test_the_first_line_is_the_key() -> None:
    assert read_key("printf '  sk-abc123  \\nsecond line\\n'") == "sk-abc123"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("printf 'sk-%s' leaked-123; exit 4", "failed with exit status 4"),
        ("printf '\\n\\n'", "printed no key"),
        ("sleep 5", "did not finish within 0 s"),
    ],
)
def test_failures_say_why_without_the_output(command: str, message: str) -> None:
    timeout = 0.2 if "sleep" in command else 5.0
    with pytest.raises(ConfigError) as raised:
        read_key(command, timeout=timeout)
    assert message in str(raised.value) and "leaked" not in str(raised.value)


# --- keys from a command are checked like keys from the environment (issue 21) -----------------


def test_an_invisible_character_in_the_commands_key_is_named_not_shown() -> None:
    key = "sk-abcdef\u200b0123456789"
    with pytest.raises(ConfigError) as raised:
        resolve_endpoint(Settings(), {}, api_key=key)
    message = str(raised.value)
    assert "apiKeyCommand" in message and "ZERO WIDTH SPACE" in message
    assert "sk-abcdef" not in message


def test_a_key_too_long_to_be_one_is_refused_from_every_source() -> None:
    huge = "a" * 20_000
    for env, key in (({"OPENAI_API_KEY": huge}, None), ({}, huge)):
        with pytest.raises(ConfigError, match="more than any API key"):
            resolve_endpoint(Settings(), env, api_key=key)


def test_a_command_printing_megabytes_is_stopped_at_the_cap() -> None:
    with pytest.raises(ConfigError) as raised:
        read_key("head -c 20000000 /dev/zero | tr '\\0' a")
    assert "printed more than" in str(raised.value)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_timed_out_command_leaves_no_process_behind(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    command = f"sleep 30 & echo $! > {pid_file}; wait"
    with pytest.raises(ConfigError, match="did not finish"):
        read_key(command, timeout=0.5)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the command's child outlived the timeout"


def test_stats_never_show_the_key_command_or_a_proxy_password() -> None:
    settings, warnings = load_settings(
        {"model": {"apiKeyCommand": "pass show work/openai", "proxy": "bob:hunter2pw@proxy:3128"}},
        env={},
    )
    assert warnings == []
    wire = settings_to_wire(settings)["model"]
    assert "pass show" not in str(wire) and "hunter2pw" not in str(wire)
    assert wire["proxy"] == "[redacted]@proxy:3128"
    schemed, _ = load_settings({"model": {"proxy": "http://bob:hunter2pw@proxy:3128"}}, env={})
    assert settings_to_wire(schemed)["model"]["proxy"] == "http://[redacted]@proxy:3128"
