"""The privacy boundary on its own: every text redacted, no excluded or undeclared source sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from spark_lsp.engine.boundary import UNDECLARED, PrivacyBoundary, bounded, quoting
from spark_lsp.engine.messages import EXCLUDED_NOTE, Refused
from spark_lsp.engine.next_edit import NEXT_EDIT_INSTRUCTIONS
from spark_lsp.engine.prompts import COMPLETION_INSTRUCTIONS, EDIT_INSTRUCTIONS
from spark_lsp.model.protocol import CreateRequest
from spark_lsp.shared.privacy import REDACTED, ExclusionPolicy
from spark_lsp.shared.prompt_format import CURSOR
from tests.corpus.harness import CannedSession

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789"
PASSWORD_LINE = 'DB_PASSWORD = "hunter2secret"\n'


class Recorder(CannedSession):
    """A session that records what reaches it: (method, request, full_input)."""

    can_chain = True

    def __init__(self) -> None:
        super().__init__("ok")
        self.sent: list[tuple[str, CreateRequest, tuple[str, ...] | None]] = []

    def anchor_state(self, anchor_id: str) -> str:
        return "ready"

    def stream(
        self, request: CreateRequest, *, full_input: tuple[str, ...] | None = None
    ) -> Any:
        self.sent.append(("stream", request, full_input))
        return super().stream(request, full_input=full_input)

    async def complete(self, request: CreateRequest, *, resend: bool = True) -> str:
        self.sent.append(("complete", request, None))
        return "ok"

    async def warm(self, request: CreateRequest) -> str:
        self.sent.append(("warm", request, None))
        return "resp_anchor"

    def texts(self) -> str:
        parts: list[str] = []
        for _, request, full_input in self.sent:
            parts += [*request.input_texts, request.instructions or "", *(full_input or ())]
        return "\n".join(parts)


@pytest.fixture
def policy(tmp_path: Path) -> ExclusionPolicy:
    (tmp_path / ".gitignore").write_text("private/\n")
    return ExclusionPolicy(tmp_path)


def boundary_over(recorder: Recorder, policy: ExclusionPolicy | None) -> PrivacyBoundary:
    return PrivacyBoundary(recorder, lambda: policy)  # type: ignore[arg-type]


async def test_every_text_of_every_call_is_redacted(
    tmp_path: Path, policy: ExclusionPolicy
) -> None:
    recorder = Recorder()
    boundary = boundary_over(recorder, policy)
    request = CreateRequest(
        input_texts=("stable " + KEY, "volatile\n" + PASSWORD_LINE),
        instructions="Use the key " + KEY,
    )
    with quoting([(tmp_path / "app.py").as_uri()]):
        boundary.stream(request, full_input=("fallback " + KEY,))
        await boundary.complete(request, resend=False)
        await boundary.warm(request)
    assert [method for method, _, _ in recorder.sent] == ["stream", "complete", "warm"]
    sent = recorder.texts()
    assert KEY not in sent and "hunter2secret" not in sent
    assert sent.count(REDACTED) == 3 * 3 + 1  # each call's three texts, and the fallback
    assert 'DB_PASSWORD = "«redacted»"' in sent  # the rest of the text is left as it was


def test_texts_without_secrets_pass_byte_for_byte(tmp_path: Path) -> None:
    recorder = Recorder()
    texts = ("def area(w, h):\n    return w * h\n", "File: a.py (language: python)\n")
    with quoting([(tmp_path / "a.py").as_uri()]):
        for instructions in (COMPLETION_INSTRUCTIONS, EDIT_INSTRUCTIONS, NEXT_EDIT_INSTRUCTIONS):
            boundary_over(recorder, None).stream(CreateRequest(texts, instructions=instructions))
    for (_, request, _), instructions in zip(
        recorder.sent, (COMPLETION_INSTRUCTIONS, EDIT_INSTRUCTIONS, NEXT_EDIT_INSTRUCTIONS),
        strict=True,
    ):
        assert request.input_texts == texts and request.instructions == instructions


@pytest.mark.parametrize("name", ["private/notes.py", ".env", "keys/id_ed25519"])
async def test_a_request_quoting_an_excluded_file_is_refused(
    tmp_path: Path, policy: ExclusionPolicy, name: str
) -> None:
    recorder = Recorder()
    boundary = boundary_over(recorder, policy)
    request = CreateRequest(input_texts=("text of several files",))
    quoted = [(tmp_path / "app.py").as_uri(), (tmp_path / name).as_uri()]
    with quoting(quoted), pytest.raises(Refused, match="^" + EXCLUDED_NOTE):
        boundary.stream(request)
    with quoting(quoted), pytest.raises(Refused, match="^" + EXCLUDED_NOTE):
        await boundary.complete(request)
    with quoting(quoted), pytest.raises(Refused, match="^" + EXCLUDED_NOTE):
        await boundary.warm(request)
    assert recorder.sent == []


async def test_a_request_that_names_no_source_is_refused(policy: ExclusionPolicy) -> None:
    recorder = Recorder()
    boundary = boundary_over(recorder, policy)
    with pytest.raises(Refused, match=UNDECLARED):
        boundary.stream(CreateRequest(input_texts=("x",)))
    with pytest.raises(Refused, match=UNDECLARED):
        await boundary.warm(CreateRequest(input_texts=("x",)))
    assert recorder.sent == []


async def test_a_task_started_inside_the_declaration_carries_it(
    tmp_path: Path, policy: ExclusionPolicy
) -> None:
    # An anchor warm-up is started (as a task) while its request is sent: it quotes the same
    # documents, and is checked against them.
    recorder = Recorder()
    boundary = boundary_over(recorder, policy)
    warm = CreateRequest(input_texts=("stable part",), generate=False)
    with quoting([(tmp_path / "private" / "a.py").as_uri()]):
        refused = asyncio.get_running_loop().create_task(boundary.warm(warm))
    with quoting([(tmp_path / "a.py").as_uri()]):
        allowed = asyncio.get_running_loop().create_task(boundary.warm(warm))
    with pytest.raises(Refused):
        await refused
    assert await allowed == "resp_anchor" and len(recorder.sent) == 1


def test_the_policy_is_read_on_every_request(tmp_path: Path) -> None:
    recorder = Recorder()
    current: list[ExclusionPolicy] = [ExclusionPolicy(tmp_path)]
    boundary = PrivacyBoundary(recorder, lambda: current[0])  # type: ignore[arg-type]
    request = CreateRequest(input_texts=("x",))
    with quoting([(tmp_path / "vendor" / "lib.py").as_uri()]):
        boundary.stream(request)
        current[0] = ExclusionPolicy(tmp_path, ["vendor/**"])  # spark.context.exclude changed
        with pytest.raises(Refused, match="spark.context.exclude"):
            boundary.stream(request)
    assert len(recorder.sent) == 1


def test_one_boundary_per_live_session() -> None:
    sessions: list[Recorder | None] = [None]
    current = bounded(lambda: sessions[0], lambda: None)  # type: ignore[arg-type, return-value]
    assert current() is None
    sessions[0] = Recorder()
    first = current()
    assert first is not None and current() is first  # the anchors compare sessions by identity
    sessions[0] = Recorder()
    assert current() is not first


def test_a_window_typed_in_code_that_names_a_secret_keeps_its_cursor(tmp_path: Path) -> None:
    # ``token = req`` with the cursor after it is code being typed: the boundary sends it as
    # it is (a completion needs the marker; a next-edit window must reach the model unchanged,
    # or the reply would be read against text the model never saw).
    recorder = Recorder()
    window = "def f(request):\n    token = req" + CURSOR + "\n    return token\n"
    with quoting([(tmp_path / "a.py").as_uri()]):
        boundary_over(recorder, None).stream(CreateRequest((window,)))
    assert recorder.sent[0][1].input_texts == (window,)
