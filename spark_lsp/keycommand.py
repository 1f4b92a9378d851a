"""The API key from a command (``spark.model.apiKeyCommand``): a password manager, not the env.

People keep keys in ``pass``, 1Password's ``op`` or a keychain and do not want them exported
into every process. The command's first output line is the key. It runs in a worker thread (a
password manager may take a second), and nothing it prints ever appears in an error, a log or the
status: failures say only the exit status, because the output may be the key itself.
"""

from __future__ import annotations

import asyncio
import subprocess

from spark_lsp.errors import ConfigError

TIMEOUT_S = 30.0
SETTING = "spark.model.apiKeyCommand"


def read_key(command: str, timeout: float = TIMEOUT_S) -> str:
    """Run ``command`` in a shell and return the first line of its output (the key)."""
    try:
        done = subprocess.run(
            command,
            shell=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{SETTING} did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise ConfigError(f"{SETTING} could not run ({exc.strerror})") from None
    if done.returncode != 0:
        raise ConfigError(f"{SETTING} failed with exit status {done.returncode}") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise ConfigError(f"{SETTING} printed no key on its first line")
    return key


async def read_key_async(command: str) -> str:
    """:func:`read_key` off the event loop."""
    return await asyncio.to_thread(read_key, command)
