"""The one door: every use case's checks, against a real model server that counts requests."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from spark_lsp.config import CompletionSettings, ContextSettings, Settings
from spark_lsp.engine.messages import ActionSpec
from spark_lsp.engine.service import (
    EXCLUDED_NOTE,
    CompletionRequest,
    Refused,
    SparkService,
)
from spark_lsp.engine.store import DocumentStore
from spark_lsp.errors import SparkError
from spark_lsp.model.connection import ConnectOptions
from spark_lsp.model.session import ModelSession, SessionOptions
from spark_lsp.modelserver.server import ModelServer
from tests.counter import loaded_counter
from tests.modelserver_helpers import TOKEN, RecordingEngine, running

CODE = "def area(w, h):\n    return w * h\n\n\ndef main():\n    \n"


class Events:
    """Records what the service tells its host."""

    def __init__(self) -> None:
        self.busy_log: list[bool] = []
        self.excluded_reasons: list[str | None] = []
        self.errors: list[SparkError] = []

    def busy(self, is_busy: bool) -> None:
        self.busy_log.append(is_busy)

    def excluded(self, reason: str | None) -> None:
        self.excluded_reasons.append(reason)

    def error(self, exc: SparkError) -> None:
        self.errors.append(exc)

    def latency(self, ms: float) -> None:
        pass


class Host:
    """A service over a workspace, with settings a test may change."""

    def __init__(self, root: Path, server: ModelServer) -> None:
        # The ready-on-accept prefetch would add model calls after every suggestion; these
        # tests count the calls of their own requests (the prefetch has its own tests).
        self.settings = Settings(completion=CompletionSettings(prefetch_on_accept=False))
        self.store = DocumentStore(loaded_counter())
        self.store.root = root
        options = SessionOptions(
            connect=ConnectOptions(url=server.url, api_key=TOKEN, connect_timeout=2.0), model="m"
        )
        self.session = ModelSession(options)
        self.events = Events()
        self.service = SparkService(
            self.store, lambda: self.settings, lambda: self.session, self.events
        )
        self.service.settings_changed(model_changed=False)

    def open(self, name: str, text: str = CODE, language: str = "python") -> str:
        uri = (self.store.root / name).as_uri()  # type: ignore[operator]
        self.service.open(uri, language, text, 1)
        return uri


@pytest.fixture
async def engine() -> RecordingEngine:
    return RecordingEngine("return 42")


@asynccontextmanager
async def hosted(root: Path, engine: RecordingEngine) -> AsyncIterator[Host]:
    async with running(engine) as server:
        host = Host(root, server)
        host.session.start()
        assert await host.session.wait_ready(5)
        try:
            yield host
        finally:
            await host.session.close()


@pytest.fixture
async def host(tmp_path: Path, engine: RecordingEngine) -> AsyncIterator[Host]:
    async with hosted(tmp_path, engine) as host:
        yield host


async def test_a_completion_goes_through_with_the_workspace_cache_key(
    host: Host, engine: RecordingEngine
) -> None:
    uri = host.open("app.py")
    result = await host.service.complete(CompletionRequest(uri, 5, 4, invoked=True))
    assert result.text == "return 42" and result.refused is None
    assert len(engine.requests) == 1
    assert host.events.busy_log == [True, False]
    assert host.service.prompt_cache_key.startswith("spark-lsp-")


@pytest.mark.parametrize(
    ("name", "language", "line", "invoked", "reason"),
    [
        (".env", "dotenv", 0, True, EXCLUDED_NOTE + ".env looks like a secrets file"),
        ("build/out.py", "python", 0, True, EXCLUDED_NOTE + "excluded by .gitignore/.sparkignore"),
        ("notes.md", "markdown", 0, True, "completions are off for markdown"),
        ("app.py", "python", 99, True, "the position is outside the document"),
        ("app.py", "python", -1, True, "the position is outside the document"),
    ],
)
async def test_refusals_make_no_model_request(
    host: Host, engine: RecordingEngine, name: str, language: str, line: int, invoked: bool,
    reason: str,
) -> None:
    (host.store.root / ".gitignore").write_text("build/\n")  # type: ignore[operator]
    uri = host.open(name, "DB_PASSWORD=hunter2secret\n", language)
    result = await host.service.complete(CompletionRequest(uri, line, 0, invoked))
    assert (result.text, result.refused) == (None, reason)
    assert engine.requests == [] and host.events.busy_log == []


async def test_toggled_off_refuses_automatic_requests_only(
    host: Host, engine: RecordingEngine
) -> None:
    uri = host.open("app.py")
    host.service.completions_on = False
    automatic = await host.service.complete(CompletionRequest(uri, 5, 4, invoked=False))
    assert automatic.refused == "completions are off" and engine.requests == []
    invoked = await host.service.complete(CompletionRequest(uri, 5, 4, invoked=True))
    assert invoked.text == "return 42"


async def test_actions_on_excluded_files_are_neither_listed_nor_computed(
    host: Host, engine: RecordingEngine
) -> None:
    uri = host.open("id_ed25519", CODE)
    assert host.service.list_actions(uri, (0, 0, 1, 0), []) == []
    spec = ActionSpec("simplify", uri, 1, 0, 0, 1, 0)
    with pytest.raises(Refused, match="looks like a secrets file"):
        await host.service.resolve_action(spec)
    with pytest.raises(Refused, match="looks like a secrets file"):
        await host.service.edit(uri, (0, 0, 1, 0), "rename")
    assert engine.requests == []
    assert host.events.excluded_reasons[-1] == "id_ed25519 looks like a secrets file"


async def test_edit_checks_bounds_instruction_and_busy(
    host: Host, engine: RecordingEngine
) -> None:
    uri = host.open("app.py")
    with pytest.raises(Refused, match="instruction is empty"):
        await host.service.edit(uri, (0, 0, 1, 0), "   ")
    with pytest.raises(Refused, match="outside the document"):
        await host.service.resolve_action(ActionSpec("simplify", uri, 1, 40, 0, 41, 0))
    with pytest.raises(Refused, match="not open"):
        await host.service.edit(uri + "x", (0, 0, 1, 0), "rename")
    host.service._editing.add(uri)  # as while another edit of the file is being computed
    with pytest.raises(Refused, match="still being computed"):
        await host.service.edit(uri, (0, 0, 1, 0), "rename")
    assert engine.requests == []


async def test_an_edit_comes_back_as_line_positions(tmp_path: Path) -> None:
    engine = RecordingEngine("def area(width, h):\n")
    async with hosted(tmp_path, engine) as host:
        uri = host.open("app.py")
        result = await host.service.edit(uri, (0, 0, 1, 0), "rename w")
    assert result.uri == uri and result.version == 1
    assert all(e.start_line == 0 and e.end_line <= 1 for e in result.edits)  # line 0 only
    assert "width" in "".join(e.text for e in result.edits)
    assert len(engine.requests) == 1


async def test_a_new_model_clears_the_completion_cache(host: Host, engine: RecordingEngine) -> None:
    uri = host.open("app.py")
    request = CompletionRequest(uri, 5, 4, invoked=True)
    await host.service.complete(request)
    await host.service.complete(request)
    assert len(engine.requests) == 1  # the second came from the cache
    host.settings = dataclasses.replace(
        host.settings, model=dataclasses.replace(host.settings.model, name="another-model")
    )
    host.service.settings_changed(model_changed=True)
    await host.service.complete(request)
    assert len(engine.requests) == 2


async def test_settings_change_the_policy_and_the_debounce(host: Host) -> None:
    uri = host.open("vendor/lib.py")
    assert host.service.excluded(uri) is None
    host.settings = dataclasses.replace(
        host.settings,
        context=ContextSettings(exclude=("vendor/**",)),
        completion=CompletionSettings(debounce_ms=5),
    )
    host.service.settings_changed(model_changed=False)
    assert host.service.excluded(uri) == "excluded by spark.context.exclude"
    assert host.service.pipeline.delay.delay() == pytest.approx(0.005)


async def test_a_key_typed_while_an_automatic_request_waits_makes_it_stale(
    host: Host, engine: RecordingEngine
) -> None:
    # The editor sends each change before its request: a change read while an older request
    # still waits means that request's position points into older text. It must not call the
    # model (a call thrown away) even before the newer request arrives.
    host.settings = dataclasses.replace(
        host.settings, completion=CompletionSettings(debounce_ms=300, prefetch_on_accept=False)
    )
    host.service.settings_changed(model_changed=False)
    uri = host.open("app.py")
    host.service.change(uri, 2, [((5, 4, 5, 4), "r")])
    waiting = asyncio.ensure_future(host.service.complete(CompletionRequest(uri, 5, 5)))
    await asyncio.sleep(0.05)
    host.service.change(uri, 3, [((5, 5, 5, 5), "e")])
    assert (await waiting).text is None
    assert engine.requests == []
    asked_again = await host.service.complete(CompletionRequest(uri, 5, 6, invoked=True))
    assert asked_again.text == "turn 42" and len(engine.requests) == 1  # "re" was typed


async def test_closing_forgets_what_was_kept_for_the_document(host: Host) -> None:
    other = host.open("other.py", "def area_of_circle(r):\n    return 3.14 * r * r\n")
    uri = host.open("app.py")
    await host.service.complete(CompletionRequest(uri, 5, 4, invoked=True))
    chunks = host.service.context._chunks  # the chunk cache of cross-file snippets
    assert other in chunks
    assert host.service.syntax_error(other) is None and other in host.service._syntax
    host.service.close(other)
    assert other not in chunks and other not in host.service._syntax
    assert host.store.get(other) is None


async def test_a_stage_that_forgets_the_policy_still_sends_no_excluded_text(
    host: Host, engine: RecordingEngine
) -> None:
    # The context stage asks the policy before it quotes another open file; one that forgot
    # (here: told there is no policy) is caught at the privacy boundary, which every request
    # passes: the completion is refused, and nothing of the excluded file goes out.
    (host.store.root / ".gitignore").write_text("private/\n")  # type: ignore[operator]
    host.open("private/area_tools.py", "def area_of(w, h):\n    return w * h  # PRIVATE_PLAN\n")
    uri = host.open("app.py", CODE.replace("    \n", "    area_of(2, 3)\n    \n"))
    host.service.context._policy = lambda: None
    result = await host.service.complete(CompletionRequest(uri, 6, 4, invoked=True))
    assert result.text is None
    assert result.failed == EXCLUDED_NOTE + "excluded by .gitignore/.sparkignore"
    assert engine.requests == []
    host.service.context._policy = lambda: host.service.policy  # asked, it leaves the file out
    assert (await host.service.complete(CompletionRequest(uri, 6, 4, invoked=True))).text
    assert "PRIVATE_PLAN" not in str(engine.requests)
