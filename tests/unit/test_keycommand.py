"""spark.model.apiKeyCommand: the first output line is the key; failures never show output."""

from __future__ import annotations

import pytest

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
