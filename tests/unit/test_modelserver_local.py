"""The offline local engine: what it completes, where it stops, what it refuses to read."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spark_lsp.modelserver.engines.base import EngineRequest, Fail
from spark_lsp.modelserver.engines.local import (
    MAX_FILE_BYTES,
    CursorPrompt,
    LocalEngine,
    WorkspaceIndex,
    tokenize,
)
from spark_lsp.shared.prompt_format import CURSOR, TASK_COMPLETE, TASK_EDIT
from tests.modelserver_helpers import ask, client, running, text_of, types

TWICE = """import os


def read_config(path):
    with open(path) as handle:
        return handle.read()


def read_config(path):
    with open(path) as handle:
        return handle.read()


"""
BODY = "    with open(path) as handle:\n        return handle.read()"


def complete(before: str, after: str = "", *others: str, engine: LocalEngine | None = None) -> str:
    prompt = CursorPrompt(before, after, others)
    return "".join((engine or LocalEngine()).complete(prompt, 64))


@given(st.text())
def test_tokens_rebuild_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_continues_a_function_defined_twice() -> None:
    assert complete(TWICE + "def read_config(path):\n") == BODY


def test_a_cancelled_completion_stops_at_its_next_token() -> None:
    prompt = CursorPrompt(TWICE + "def read_config(path):\n", "", ())
    whole = LocalEngine().complete(prompt, 64)
    cancelled = threading.Event()
    cancelled.set()
    assert len(whole) > 3 and len(LocalEngine().complete(prompt, 64, cancelled)) <= 1


async def test_cancelling_a_request_stops_its_worker_thread() -> None:
    seen: list[threading.Event | None] = []
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    class Blocking(LocalEngine):
        def complete(
            self,
            prompt: CursorPrompt,
            max_output_tokens: int | None = None,
            cancelled: threading.Event | None = None,
        ) -> list[str]:
            seen.append(cancelled)
            loop.call_soon_threadsafe(started.set)
            if cancelled is not None:
                cancelled.wait(10)
            return []

    plan = Blocking().plan(request("x = 1\n" + CURSOR))
    assert not isinstance(plan, Fail)
    step = asyncio.ensure_future(anext(plan))
    await asyncio.wait_for(started.wait(), 10)
    step.cancel()
    with pytest.raises(asyncio.CancelledError):
        await step
    assert seen[0] is not None and seen[0].is_set()


def test_completes_a_partial_identifier_and_the_rest_of_the_block() -> None:
    assert complete(TWICE + "def read_co") == "nfig(path):\n" + BODY


def test_completes_indentation_the_cursor_line_already_started() -> None:
    assert complete(TWICE + "def read_config(path):\n    wi") == BODY.removeprefix("    wi")


def test_stops_at_the_end_of_the_block() -> None:
    before = TWICE + "def read_config(path):\n"
    after = "\n\nprint(read_config('x'))\n"
    assert complete(before, after) == BODY


def test_does_not_retype_the_text_after_the_cursor() -> None:
    assert complete("total(a, b)\nprint(1)\ntotal(", ")\n") == "a, b"


def test_says_nothing_without_a_match() -> None:
    assert complete("zebra_quux = ") == ""
    assert complete("x = 1\n") == ""


def test_says_nothing_inside_a_word() -> None:
    assert complete(TWICE + "def read_co", "nfig(path):\n") == ""


def test_prefers_the_nearest_earlier_occurrence() -> None:
    before = "value = compute(1)\nvalue = compute(2)\nvalue = compute("
    assert complete(before) == "2)"


def test_learns_from_other_input_texts() -> None:
    snippet = "result = helper_function(alpha, beta)\nprint(result)\n"
    assert complete("x = helper_fu", "", snippet) == "nction(alpha, beta)"


def test_is_deterministic_and_fast_on_a_large_file() -> None:
    lines = [f"    result_{i} = transform(data_{i}, factor={i})" for i in range(600)]
    before = "def run(data):\n" + "\n".join(lines) + "\n    result_7 = transform(da"
    engine = LocalEngine()
    complete(before, engine=engine)
    started = time.perf_counter()
    results = {complete(before, engine=engine) for _ in range(5)}
    per_request = (time.perf_counter() - started) / 5
    assert results == {"ta_7, factor=7)"}
    assert per_request < 0.05


def request(text: str, instructions: str = TASK_COMPLETE) -> EngineRequest:
    return EngineRequest(input_texts=(text,), instructions=instructions, max_output_tokens=64)


async def test_serves_completions_over_the_socket() -> None:
    text = TWICE + "def read_config(path):\n" + CURSOR
    async with running(LocalEngine()) as server, client(server) as ws:
        events = await ask(ws, text, instructions=TASK_COMPLETE + "\nComplete the code.")
    assert types(events)[-1] == "response.completed"
    assert text_of(events) == BODY


async def test_output_over_the_limit_ends_incomplete() -> None:
    text = "a b c d e f g h i j k l m n o p q r s t u v w x y z\n" * 2 + "a" + CURSOR
    async with running(LocalEngine()) as server, client(server) as ws:
        events = await ask(ws, text, instructions=TASK_COMPLETE, max_output_tokens=16)
    assert types(events)[-1] == "response.incomplete"
    assert text_of(events) == " b c d e f g h i"


@pytest.mark.parametrize(
    ("text", "instructions"),
    [("fix " + CURSOR, TASK_EDIT + "\nRename x."), ("no cursor marker", TASK_EDIT), ("", "x")],
)
async def test_declines_edits_and_empty_prompts(text: str, instructions: str) -> None:
    async with running(LocalEngine()) as server, client(server) as ws:
        [error] = await ask(ws, text, instructions=instructions)
    assert error["error"]["code"] == "unsupported_task"
    assert "SPARK_LSP_ENDPOINT" in error["error"]["message"]
    assert "OPENAI_API_KEY" in error["error"]["message"]


def make_workspace(root: Path, outside: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "lib.py").write_text("x = workspace_only_helper(a, b)\nprint(x)\n")
    (outside / "secret.py").write_text("def outside_marker_function():\n    return 'LEAK'\n")
    (root / "link.py").symlink_to(outside / "secret.py")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    for skipped in (".git", "node_modules", ".venv", "__pycache__", ".hidden"):
        (root / skipped).mkdir()
        (root / skipped / "x.py").write_text("def skipped_dir_marker():\n    return 1\n")
    (root / ".env").write_text("API_TOKEN = 'dotenv_marker_value'\n")
    (root / "big.py").write_text("big_file_marker = 1\n" * (MAX_FILE_BYTES // 10))
    (root / "blob.bin").write_bytes(b"binary_marker\x00\x01")


def test_the_workspace_index_reads_only_safe_files_inside_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    outside.mkdir()
    make_workspace(root, outside)
    index = WorkspaceIndex(root)
    index.build()
    assert index.ready.is_set()
    assert [p.relative_to(root.resolve()).as_posix() for p in index.files] == ["pkg/lib.py"]


async def test_completions_use_the_workspace_but_nothing_outside_it(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    outside.mkdir()
    make_workspace(root, outside)
    engine = LocalEngine(root)
    async with running(engine) as server, client(server) as ws:
        assert engine.index is not None and engine.index.ready.wait(5)
        found = await ask(ws, "x = workspace_only_hel" + CURSOR, instructions=TASK_COMPLETE)
        leaked = [
            text_of(await ask(ws, f"{probe}{CURSOR}", instructions=TASK_COMPLETE))
            for probe in ("def outside_mar", "def skipped_dir_m", "API_TOKEN = '", "big_file_m")
        ]
    assert text_of(found) == "per(a, b)"
    assert leaked == ["", "", "", ""]


def test_indexing_stops_at_the_byte_budget(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / f"{name}.txt").write_text(f"file_{name}\n" * 100)
    index = WorkspaceIndex(tmp_path, max_total_bytes=1000)
    index.build()
    assert [p.name for p in index.files] == ["a.txt"]


def test_unreadable_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("ok = 1\n")
    (tmp_path / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    index = WorkspaceIndex(tmp_path)
    index.build()
    assert [p.name for p in index.files] == ["ok.py"]
    assert os.path.islink(tmp_path / "dangling.py")


async def test_plain_request_continues_from_the_end_of_the_input() -> None:
    """A plain Responses client sends no cursor marker: the input's end is the cursor."""
    text = "a b c d e f g h i j k l m n o p\n" * 3 + "a b c d"
    async with running(LocalEngine()) as server, client(server) as ws:
        events = await ask(ws, text, instructions="Continue the code.", max_output_tokens=16)
    assert "error" not in types(events)
    assert text_of(events).startswith(" e f g h")
