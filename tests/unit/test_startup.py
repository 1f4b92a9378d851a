"""What the editor's ``initialize`` waits for: the server object, not the engine.

Observed in a real process, because the point is what ``import`` pulls in, transitively.
"""

from __future__ import annotations

import subprocess
import sys

#: Loaded after ``initialize`` is answered: nothing here is needed to answer it.
AFTER_INITIALIZE = (
    "spark_lsp.engine.service",
    "spark_lsp.engine.pipeline",
    "spark_lsp.engine.context",
    "spark_lsp.engine.postprocess",
    "spark_lsp.engine.actions",
    "spark_lsp.engine.next_edit",
    "spark_lsp.engine.sources.index",
    "spark_lsp.engine.grammars",
    "spark_lsp.runtime",
    "spark_lsp.model.session",
    "websockets",
    "tree_sitter",
)


def loaded_after(steps: str) -> set[str]:
    script = (
        "import sys\n"
        "from spark_lsp.app import create_server\n"
        "server = create_server()\n"
        f"{steps}\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_the_server_object_is_built_without_the_engine() -> None:
    loaded = loaded_after("")
    early = sorted(m for m in AFTER_INITIALIZE if m in loaded)
    assert not early, f"loaded before initialize is answered: {early}"
    assert "spark_lsp.engine.messages" in loaded  # the handlers' vocabulary is there


def test_warming_up_builds_the_engine() -> None:
    loaded = loaded_after("server.warm_up()\nassert server.service.pipeline is not None")
    assert {"spark_lsp.engine.service", "spark_lsp.engine.pipeline"} <= loaded
