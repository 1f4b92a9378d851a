"""Hostile or sloppy JSON-RPC over stdio: every request answered as the LSP spec says, a broken
frame never desynchronises the stream, an absurd ``Content-Length`` ends the process cleanly.

The server is the real ``spark-lsp --stdio`` process; bytes are written raw, so what is tested
is exactly what an editor (or anything else on the pipe) can send.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.lsp_stdio import LspProcess

INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
PARSE_ERROR = -32700


def _env() -> dict[str, str]:
    drop = ("SPARK_LSP_ENDPOINT", "OPENAI_API_KEY", "SPARK_LSP_MODEL")
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LspProcess]:
    """An initialized server (no ``initialized``: the model side never starts)."""
    process = LspProcess([sys.executable, "-m", "spark_lsp", "--stdio"], _env(), tmp_path)
    process.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                   "capabilities": {}})
    yield process
    process.close()


def raw(server: LspProcess, data: bytes) -> None:
    assert server.proc.stdin is not None
    server.proc.stdin.write(data)
    server.proc.stdin.flush()


def frame(
    message: dict[str, Any], length_delta: int = 0, header: bytes = b"Content-Length"
) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return header + b": %d\r\n\r\n" % (len(body) + length_delta) + body


def reply_to(server: LspProcess, msg_id: Any, timeout_s: float = 10.0) -> dict[str, Any]:
    """The response carrying ``msg_id`` (other messages are skipped)."""
    while True:
        message = server.receive(timeout_s)
        if "method" not in message and message.get("id") == msg_id:
            return message


def still_serving(server: LspProcess) -> None:
    assert "status" in server.request("spark/stats", {}, timeout_s=10)


def test_stats_without_params_is_answered(server: LspProcess) -> None:
    raw(server, frame({"id": 50, "method": "spark/stats"}))
    assert "status" in reply_to(server, 50)["result"]


def test_edit_selection_with_a_non_integer_line_is_invalid_params(server: LspProcess) -> None:
    uri = "file:///x.py"
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": "a = 1\n"}})
    argument = {"uri": uri, "instruction": "rename",
                "range": {"start": {"line": "one", "character": 0},
                          "end": {"line": 0, "character": 3}}}
    raw(server, frame({"id": 51, "method": "workspace/executeCommand",
                       "params": {"command": "spark.editSelection", "arguments": [argument]}}))
    error = reply_to(server, 51)["error"]
    assert error["code"] == INVALID_PARAMS and "line" in error["message"]
    popups = [n for n in server.notifications if n["method"] == "window/showMessage"]
    assert popups == [], "a client's malformed arguments are not an internal error"


@pytest.mark.parametrize("bad_id", [{"a": 1}, [1, 2], 1.5])
def test_an_id_that_is_not_int_or_string_is_invalid_request(
    server: LspProcess, bad_id: Any
) -> None:
    raw(server, frame({"id": bad_id, "method": "spark/stats", "params": {}}))
    error = reply_to(server, None)["error"]
    assert error["code"] == INVALID_REQUEST
    assert "Traceback" not in server.stderr_tail()
    still_serving(server)


def test_requests_after_shutdown_are_invalid_request_and_exit_is_zero(
    server: LspProcess,
) -> None:
    assert server.request("shutdown", None) is None
    raw(server, frame({"id": 60, "method": "spark/stats", "params": {}}))
    assert reply_to(server, 60)["error"]["code"] == INVALID_REQUEST
    server.notify("exit", None)
    assert server.proc.wait(10) == 0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_for_a_child(process: LspProcess, seconds: float) -> None:
    """Until the server has forked a child (the bundled model server), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not _children(process.proc.pid):
        time.sleep(0.001)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_settings_that_arrive_after_shutdown_start_nothing(tmp_path: Path) -> None:
    # An editor that quits right after starting us answers our settings request only after
    # its ``shutdown``. Starting the bundled model server then, with ``exit`` landing while
    # its process was being created, used to hang the language server for good (Python 3.11
    # cannot cancel a process creation): the editor had to kill it.
    process = LspProcess([sys.executable, "-m", "spark_lsp", "--stdio"], _env(), tmp_path)
    try:
        capabilities = {"workspace": {"configuration": True}}
        process.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                       "capabilities": capabilities})
        process.notify("initialized", {})
        pull = process.receive(10)
        while pull.get("method") != "workspace/configuration":
            pull = process.receive(10)
        process.send({"id": 90, "method": "shutdown", "params": None})
        process.send({"id": pull["id"], "result": [None]})  # read with the shutdown
        assert reply_to(process, 90).get("result", "error") is None
        _wait_for_a_child(process, 2)  # one would be forked within this (none is now)
        process.notify("exit", None)
        assert process.proc.wait(20) == 0
    finally:
        process.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_exit_without_shutdown_while_the_bundled_server_starts_ends_cleanly(
    tmp_path: Path,
) -> None:
    # ``exit`` lands just as the bundled model server's process is being created: the loop's
    # own shutdown would cancel that creation and hang for good; it is waited for instead.
    process = LspProcess([sys.executable, "-m", "spark_lsp", "--stdio"], _env(), tmp_path)
    try:
        process.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                       "capabilities": {}})
        process.notify("initialized", {})
        _wait_for_a_child(process, 20)
        process.notify("exit", None)
        assert process.proc.wait(20) == 1
    finally:
        process.close()


def test_exit_without_shutdown_exits_one(server: LspProcess) -> None:
    server.notify("exit", None)
    assert server.proc.wait(10) == 1


def test_unparsable_body_gets_a_parse_error_and_serving_goes_on(server: LspProcess) -> None:
    raw(server, b"Content-Length: 9\r\n\r\n{not json")
    assert reply_to(server, None)["error"]["code"] == PARSE_ERROR
    still_serving(server)


@pytest.mark.parametrize(
    "broken",
    [
        frame({"id": 70, "method": "spark/stats", "params": {}}, length_delta=-5),
        frame({"id": 70, "method": "spark/stats", "params": {}}, length_delta=+7),
        b"Content-Length: 0\r\n\r\n",
        b"Content-Length: banana\r\n\r\n{}",
        b"garbage without any header\r\n\r\n",
    ],
    ids=["too-short", "too-long", "zero", "not-a-number", "no-header"],
)
def test_a_broken_frame_never_desynchronises_later_requests(
    server: LspProcess, broken: bytes
) -> None:
    raw(server, broken)
    # The frame after a too-long one is partly swallowed; the one after that must be answered.
    raw(server, frame({"id": 71, "method": "spark/stats", "params": {}}))
    raw(server, frame({"id": 72, "method": "spark/stats", "params": {}}))
    assert "status" in reply_to(server, 72)["result"]
    still_serving(server)


def test_lowercase_header_is_read(server: LspProcess) -> None:
    raw(server, frame({"id": 73, "method": "spark/stats", "params": {}},
                      header=b"content-length"))
    assert "status" in reply_to(server, 73)["result"]


@pytest.mark.parametrize("length", [10**11, 10**20])
def test_an_absurd_content_length_ends_cleanly_with_one_line(
    server: LspProcess, length: int
) -> None:
    raw(server, b"Content-Length: %d\r\n\r\n{}" % length)
    assert server.proc.wait(10) == 1
    tail = server.stderr_tail()
    assert "Traceback" not in tail
    assert "Content-Length" in tail and "limit" in tail
