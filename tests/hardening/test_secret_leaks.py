"""No key or credential reaches a person in any form: status, popups, log messages, the log
file, stderr, ``spark/stats`` and ``doctor``; a key with a stray character is refused by name.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
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


# -- ...nor the model: every kind of request, a secret in every part it carries ------------------

#: Each part of a request: (a secret planted in it, of a shape the redaction knows; text that
#: shows the part did go out, so that each check can fail).
PARTS = {
    "the window": ("AKIAQWERTYUIOPASDFGH", "AWS = "),
    "the far part of the file": ("glpat-FarPartSecret01234567", "FAR_TOKEN = "),
    "a snippet of another open file": ("xoxb-1234567890-SnippetSecretAbc", "SLACK = "),
    "a definition from the workspace index": ("Definition-Pw-77", "connect_database(host"),
    "the accepted suggestion": ("ghp_Accepted0123456789abcdefghijklmnopq", "was accepted"),
    "the edit history": ("hf_HistorySecret0123456789abcdefghij", '+HF = "«redacted»"'),
    "the lines around a next-edit window": ("sk-proj-NextEditContext0123456789xy", "OPENAI = "),
    "the lines around an action": ("sk-live-ActionContextSecret012345", "STRIPE = "),
    "a diagnostic": ("DiagnosticSecret-Pw-99", "hard-coded credential"),
    "an edit instruction": ("sk-proj-InstructionSecret012345678", "Apply this instruction"),
    "a custom action's template": ("xoxp-9876543210-TemplateSecretXyz", "Use the token"),
}
SECRET = {part: secret for part, (secret, _) in PARTS.items()}
FILLER = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(22))
APP = (
    f'FAR_TOKEN = "{SECRET["the far part of the file"]}"\n'
    + FILLER
    + f'AWS = "{SECRET["the window"]}"\n'
    + "from lib import connect_database\n\n\ndef main():\n"
    + '    db = connect_database("localhost")\n    total = total_price([1, 2])\n    \n'
)
LIB = (
    f'def connect_database(host, password="{SECRET["a definition from the workspace index"]}"):\n'
    "    return host\n"
)
OTHER = (
    f'SLACK = "{SECRET["a snippet of another open file"]}"\n\n\n'
    "def total_price(items):\n    return sum(items)\n"
)
EDITS = (  # a secret out of the window (±40 lines of the edit), but in the context around it
    FILLER
    + f'OPENAI = "{SECRET["the lines around a next-edit window"]}"\n'
    + FILLER
    + "def area(w, h):\n    return w * h\n"
)
CODE = (
    f'STRIPE = "{SECRET["the lines around an action"]}"\n\n\n'
    "def area(w, h):\n    return w * h\n"
)
REPLY = f'api_token = "{SECRET["the accepted suggestion"]}"'


async def test_no_secret_of_any_part_of_any_request_reaches_the_model(tmp_path: Path) -> None:
    """Completion (window, far part, snippets, definitions), the prefetch chained after an
    accept (the accepted text), next edit (history, context), a quick fix (diagnostic,
    context), an edit (instruction) and a custom action (template, diagnostic), through the
    service to a real model server; a selection that holds a secret is not sent at all."""
    from spark_lsp.config import ActionSettings
    from spark_lsp.engine.messages import ActionSpec, CompletionRequest
    from spark_lsp.errors import SparkError
    from tests.modelserver_helpers import RecordingEngine, running
    from tests.unit.test_service import Host

    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "app.py").write_text(APP)
    template = "Use the token " + SECRET["a custom action's template"]
    custom = {"title": "Use", "instruction": template + " on {selection} ({diagnostic})"}
    async with running(RecordingEngine(REPLY)) as server:
        host = Host(tmp_path, server)
        host.settings = replace(
            host.settings,
            completion=replace(host.settings.completion, prefetch_on_accept=True),
            actions=ActionSettings(custom=(custom,)),
        )
        host.service.settings_changed(model_changed=False)
        host.service.next_edit_client = lambda: True
        host.session.start()
        assert await host.session.wait_ready(5)
        service = host.service
        try:
            await service.project.build(tmp_path)
            host.open("other.py", OTHER)
            app = host.open("app.py", APP)
            cursor = APP.count("\n") - 1
            assert (await service.complete(CompletionRequest(app, cursor, 4, True))).text == REPLY
            for _ in range(100):  # the ready-on-accept prefetch, chained from that reply
                if any("previous_response_id" in m for m in server.stats.received):
                    break
                await asyncio.sleep(0.05)
            edits = host.open("edits.py", EDITS)
            # A key pasted, an edit elsewhere, then the key replaced: only the history holds it.
            pasted = f'HF = "{SECRET["the edit history"]}"\n'
            assert service.change(edits, 2, [((10, 0, 10, 0), pasted)])
            assert service.change(edits, 3, [((60, 0, 60, 0), "# elsewhere\n")])
            assert service.change(edits, 4, [((10, 0, 11, 0), 'HF = os.environ["HF"]\n')])
            await service.next_edit(edits, 4, 11, 0)
            code = host.open("code.py", CODE)
            diagnostic = f'hard-coded credential: password = "{SECRET["a diagnostic"]}"'
            fix = ActionSpec("fix", code, 1, 4, 11, 4, 16, message=diagnostic, source="lint")
            await service.resolve_action(fix)
            await service.edit(code, (3, 0, 5, 0), "use " + SECRET["an edit instruction"])
            [offered] = service.list_actions(code, (3, 0, 5, 0), [])[-1:]
            await service.resolve_action(replace(offered.spec, message=diagnostic))
            calls = len(server.stats.received)
            with pytest.raises(SparkError, match="looks like a secret"):
                await service.edit(code, (0, 0, 1, 0), "rename")  # the selection holds one
            assert len(server.stats.received) == calls
        finally:
            await host.session.close()
    sent = "\n".join(str(message) for message in server.stats.received)
    assert [part for part, (secret, _) in PARTS.items() if leaked(sent, secret)] == []
    assert [part for part, (_, shown) in PARTS.items() if shown not in sent] == []
