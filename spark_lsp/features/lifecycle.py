"""initialize / initialized / configuration / shutdown: start and stop the model side.

``initialize`` answers at once (nothing heavy happens there); the model side starts right after
``initialized``, in the background, so the first keystroke finds a warm connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from spark_lsp.lsp.listen import TOKEN_OPTION
from spark_lsp.lsp.server import Method, Row, SparkServer, workspace_roots

CONFIG_SECTION = "spark"


def initialize(ls: SparkServer, params: types.InitializeParams) -> None:
    """``initialize``: take the options, encoding and roots; nothing heavy."""
    ls.init_options = _without_token(params.initialization_options)
    encoding = ls.workspace.position_encoding
    ls.store.position_encoding = str(getattr(encoding, "value", encoding) or "utf-16")
    ls.set_roots(workspace_roots(ls))
    ls.reload_settings()
    # The engine loads once this result is out (the response is written when we return).
    asyncio.get_running_loop().call_soon(ls.warm_up)


def initialized(ls: SparkServer, params: types.InitializedParams) -> None:
    """``initialized``: start the tokenizer and the model side in the background."""
    # Heavy start-up work waits until the initialize result is out: the tokenizer's
    # vocabulary parse holds the GIL for a few hundred milliseconds.
    ls.counter.start_loading()
    ls.run_task(_start(ls), "start-model")


async def did_change_configuration(
    ls: SparkServer, params: types.DidChangeConfigurationParams
) -> None:
    """``workspace/didChangeConfiguration``: re-read the settings; restart the model side
    when they say so."""
    ls.client_settings = await _pull_settings(ls) or _pushed(params.settings)
    restart = ls.reload_settings()
    ls.start_indexing()  # when spark.context.project was just turned on
    if restart:
        await ls.start_model()


async def shutdown(ls: SparkServer, params: Any) -> None:
    """``shutdown``: stop the model side."""
    await ls.close_model_side()


async def _start(ls: SparkServer) -> None:
    ls.client_settings = await _pull_settings(ls)
    ls.reload_settings()
    ls.start_indexing()
    await ls.start_model()


def _without_token(options: Any) -> Any:
    """The listener's launch token is checked before we get here; it is not a setting."""
    if isinstance(options, dict) and TOKEN_OPTION in options:
        return {k: v for k, v in options.items() if k != TOKEN_OPTION}
    return options


def _pushed(settings: Any) -> Any:
    if isinstance(settings, dict) and CONFIG_SECTION in settings:
        return settings[CONFIG_SECTION]
    return settings if isinstance(settings, dict) else None


async def _pull_settings(ls: SparkServer) -> Any:
    """Ask the client for section ``spark`` when it supports ``workspace/configuration``."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return None
    try:
        items = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
        )
    except Exception as exc:  # a client may answer with an error: keep the other layers
        ls.reporter.problem("config-pull", f"could not read the spark settings: {exc}", popup=False)
        return None
    return items[0] if items else None


HANDLERS: tuple[Row, ...] = (
    Method(types.INITIALIZE, initialize),
    Method(types.INITIALIZED, initialized),
    Method(types.WORKSPACE_DID_CHANGE_CONFIGURATION, did_change_configuration),
    Method(types.SHUTDOWN, shutdown),
)
