"""Editors configured by a few lines only (Helix, Emacs Eglot; editor-clients/README.md).

They start ``spark-lsp --stdio``, send their ``config`` both as ``initializationOptions`` and as
the ``workspace/configuration`` answer (wrapped in ``spark``), and have no inline completion:
the suggestion must come back as an ordinary completion item.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import COMPLETION
from tests.clients.lsp_stdio import LspProcess

CONFIG = {"spark": {"completion": {"debounceMs": 0}}}
TEXT = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return "


@pytest.fixture
def plain_server(client_env: dict[str, str], workspace: Path) -> Any:
    server = LspProcess(["spark-lsp", "--stdio"], client_env, workspace)
    yield server
    assert server.close() == 0, server.stderr_tail()


def _configuration(request: dict[str, Any]) -> Any:
    return [CONFIG.get(item.get("section", ""), None) for item in request["params"]["items"]]


def test_completion_item_for_clients_without_inline_completion(
    plain_server: LspProcess, workspace: Path
) -> None:
    capabilities = {
        "workspace": {"configuration": True},
        "textDocument": {"completion": {"completionItem": {"snippetSupport": False}}},
    }
    plain_server.request("initialize", {
        "processId": None, "rootUri": workspace.as_uri(), "capabilities": capabilities,
        "initializationOptions": CONFIG,
    })
    plain_server.notify("initialized", {})
    uri = (workspace / "ops.py").as_uri()
    plain_server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": TEXT}})
    deadline = time.monotonic() + 10
    while True:
        stats = plain_server.request("spark/stats", None, on_request=_configuration)
        if stats["status"]["state"] == "ready":
            break
        assert time.monotonic() < deadline, stats["status"]
        time.sleep(0.1)
    assert stats["settings"]["completion"]["debounceMs"] == 0
    result = plain_server.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 5, "character": 11},
        "context": {"triggerKind": 1},
    }, on_request=_configuration)
    items = result["items"] if isinstance(result, dict) else result
    texts = [(item.get("textEdit") or {}).get("newText") or item.get("insertText")
             for item in items]
    assert texts == [COMPLETION], items
