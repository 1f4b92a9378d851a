"""No key or credential reaches a person in any form: status, popups, log messages, the log
file, stderr, ``spark/stats`` and ``doctor``; a key with a stray character is refused by name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_lsp.modelserver.engines.scripted import ScriptedEngine

from . import launch, shown_to_the_user, stop_editor
from .test_security import run_doctor

BODY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789"
#: A copy-paste accident: a newline, or a zero-width space, inside the key.
DAMAGED = {"newline": BODY[:20] + "\n" + BODY[20:], "zero-width": BODY[:20] + "\u200b" + BODY[20:]}


def leaked(text: str, secret: str) -> list[str]:
    """Any 8+ character piece of ``secret`` (split on whitespace/invisibles) found in ``text``."""
    pieces = [secret, *secret.replace("\u200b", " ").split()]
    return [p for p in pieces if len(p) >= 8 and p in text]


@pytest.mark.parametrize("damage", list(DAMAGED))
async def test_a_damaged_key_is_refused_by_name_and_never_shown(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], damage: str
) -> None:
    key = DAMAGED[damage]
    log = tmp_path / "server.log"
    editor = await launch(tmp_path, ScriptedEngine.reply("x"), env={"OPENAI_API_KEY": key},
                          server_args=("--log-level", "DEBUG", "--log-file", str(log)))
    try:
        await editor.wait_state("error")
        stats = await editor.stats()
    finally:
        await stop_editor(editor)
    popups = [m.message for m in editor.client.messages]
    assert any("OPENAI_API_KEY" in m and "character" in m for m in popups), popups
    written = shown_to_the_user(
        editor, stats, log.read_text(encoding="utf-8"), capfd.readouterr().err
    )
    for text in written:
        assert leaked(text, key) == []


async def test_credentials_in_the_endpoint_url_are_never_shown(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "server.log"
    url = "ws://alice:hunter2-pass@127.0.0.1:9/v1/responses?api_key=QUERYSECRET42&x=1"
    editor = await launch(tmp_path, ScriptedEngine.reply("x"), env={"SPARK_LSP_ENDPOINT": url},
                          server_args=("--log-level", "DEBUG", "--log-file", str(log)))
    try:
        await editor.wait_state("offline")
        stats = await editor.stats()
    finally:
        await stop_editor(editor)
    written = shown_to_the_user(
        editor, stats, log.read_text(encoding="utf-8"), capfd.readouterr().err
    )
    assert "127.0.0.1:9" in written[0]  # the endpoint is still shown, without its secrets
    for text in written:
        assert "hunter2-pass" not in text and "QUERYSECRET42" not in text


@pytest.mark.parametrize("damage", list(DAMAGED))
async def test_doctor_names_the_variable_never_the_damaged_key(
    tmp_path: Path, damage: str
) -> None:
    key = DAMAGED[damage]
    code, out = await run_doctor({"SPARK_LSP_ENDPOINT": "ws://127.0.0.1:9/v1/responses",
                                  "OPENAI_API_KEY": key}, tmp_path)
    assert code == 1
    assert "OPENAI_API_KEY" in out.splitlines()[-1]
    assert leaked(out, key) == []


async def test_doctor_hides_url_credentials(tmp_path: Path) -> None:
    url = "ws://bob:s3cr3t-pw@127.0.0.1:9/v1/responses?token=QUERYSECRET42"
    code, out = await run_doctor({"SPARK_LSP_ENDPOINT": url, "OPENAI_API_KEY": "k" * 20},
                                 tmp_path)
    assert code == 1
    assert "s3cr3t-pw" not in out and "QUERYSECRET42" not in out


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("invalid Authorization header: Bearer " + BODY, BODY),
        ("> Authorization: Basic YWxpY2U6aHVudGVyMg==", "YWxpY2U6aHVudGVyMg=="),
        ("authorization: Token abc123def456ghi", "abc123def456ghi"),
        ("GET wss://u:p4ssw0rd-x@host/v1?api_key=QS123456&access_token=AT123456", "p4ssw0rd-x"),
        ("GET wss://host/v1?api_key=QS123456&access_token=AT123456", "QS123456"),
        ("GET wss://host/v1?api_key=QS123456&access_token=AT123456", "AT123456"),
    ],
)
def test_scrubber_hides_credential_shapes(text: str, hidden: str) -> None:
    from spark_lsp.shared.scrub import Scrubber

    scrubbed = Scrubber().scrub(text)
    assert hidden not in scrubbed and "[redacted]" in scrubbed


def test_scrubber_hides_a_registered_key_in_every_form() -> None:
    from spark_lsp.shared.scrub import Scrubber

    scrubber = Scrubber()
    key = DAMAGED["newline"]
    scrubber.register(key)
    for shown in (key, key.strip(), *key.splitlines(), repr(key), key.replace("\n", "\\n")):
        assert leaked(scrubber.scrub(f"oops: {shown}"), key) == [], shown
