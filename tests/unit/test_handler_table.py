"""Every LSP handler is a module-level function, registered from its feature's table.

A handler defined inside a ``register()`` function cannot be found by a reader grepping for
its method, nor imported by a test, nor seen by tools that look at module-level names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from spark_lsp.app import create_server


def registered() -> dict[str, Callable[..., Any]]:
    """What pygls calls for each method and command, unwrapped: pygls binds the server with a
    ``functools.partial`` or, for a coroutine, a wrapper that sets ``func`` the same way."""
    fm = create_server().protocol.fm
    handlers = {**fm.features, **fm.commands}
    return {name: getattr(handler, "func", handler) for name, handler in handlers.items()}


def test_every_handler_is_a_module_level_function_of_a_feature() -> None:
    found = registered()
    assert "textDocument/completion" in found and "spark.didAccept" in found
    for name, handler in found.items():
        module = importlib.import_module(handler.__module__)
        assert module.__name__.startswith("spark_lsp.features."), name
        assert getattr(module, handler.__qualname__, None) is handler, (
            f"{name} is answered by {handler.__module__}.{handler.__qualname__}, "
            "which is not a module-level name"
        )


def test_every_handler_is_listed_in_its_modules_table() -> None:
    for name, handler in registered().items():
        table = importlib.import_module(handler.__module__).HANDLERS
        assert any(row.name == name and row[1] is handler for row in table), name
