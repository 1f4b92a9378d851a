"""Next-edit suggestions over LSP: ``spark/nextEdit`` and ``spark/nextEditAvailable``.

An LSP extension, so it is off unless the client opts in (``initializationOptions.experimental
.nextEdit: true``) and announced under ``experimental.spark.nextEdit`` in the server's
capabilities. A prediction that only inserts at the cursor is an ordinary suggestion (ghost
text, or a completion item for clients without it: the service's completion calls offer it);
any other is announced with ``spark/nextEditAvailable`` and fetched with ``spark/nextEdit``
(``{textDocument, position}`` → ``{version, edits: [{range, newText}]}``). Edits carry the
version they were computed on: a request that names another version is refused
(ContentModified), and clients apply them only to that version.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcContentModified, JsonRpcInvalidParams

from spark_lsp.config import client_supports
from spark_lsp.engine.messages import EditResult, LineEdit, StaleVersion
from spark_lsp.errors import SparkError
from spark_lsp.lsp.server import Extension, Method, Row, SparkServer

if TYPE_CHECKING:
    from spark_lsp.engine.service import SparkService

REQUEST = "spark/nextEdit"
AVAILABLE = "spark/nextEditAvailable"
#: The name a client uses under ``initializationOptions.experimental`` to opt in.
EXTENSION = "nextEdit"
CAPABILITY = {"request": REQUEST, "notification": AVAILABLE}


def _range(edit: LineEdit) -> dict[str, Any]:
    return {
        "start": {"line": edit.start_line, "character": edit.start_character},
        "end": {"line": edit.end_line, "character": edit.end_character},
    }


def to_wire(result: EditResult) -> dict[str, Any]:
    """The ``spark/nextEdit`` result: edits in LSP positions of the version they are for."""
    edits = [{"range": _range(e), "newText": e.text} for e in result.edits]
    return {"version": result.version, "edits": edits}


def _announce(ls: SparkServer, result: EditResult) -> None:
    """Tell the (opted-in) client that a proposal is ready for this version."""
    params = {
        "textDocument": {"uri": result.uri, "version": result.version},
        "range": _range(result.edits[0]),
    }
    ls.protocol.notify(AVAILABLE, params)


def _get(obj: Any, key: str) -> Any:
    """A field of a request's params, whether pygls gives a dict or a named tuple."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _parse(params: Any) -> tuple[str, int | None, int, int]:
    document, position = _get(params, "textDocument"), _get(params, "position")
    uri, version = _get(document, "uri"), _get(document, "version")
    line, character = _get(position, "line"), _get(position, "character")
    if not isinstance(uri, str) or not all(isinstance(n, int) for n in (line, character)):
        raise JsonRpcInvalidParams(
            f"{REQUEST} needs {{textDocument: {{uri, version?}}, position: {{line, character}}}}"
        )
    if version is not None and not isinstance(version, int):
        raise JsonRpcInvalidParams(f"{REQUEST}: textDocument.version must be an integer")
    return uri, version, line, character


async def next_edit(ls: SparkServer, params: Any) -> dict[str, Any] | None:
    """``spark/nextEdit``: the proposal for the current text at a position, or null."""
    uri, version, line, character = _parse(params)
    try:
        found = await ls.service.next_edit(uri, version, line, character)
    except StaleVersion as exc:
        raise JsonRpcContentModified(f"{REQUEST}: {exc}") from None
    except SparkError as exc:
        ls.reporter.problem("next-edit:" + type(exc).__name__, f"Spark: {exc}", popup=False)
        return None
    return None if found is None else to_wire(found)


def connect(ls: SparkServer, service: SparkService) -> None:
    """Route ready proposals to the client, if it opted in."""
    service.next_edit_client = partial(_opted_in, ls)
    service.on_next_edit = partial(_announce, ls)


def _opted_in(ls: SparkServer) -> bool:
    return client_supports(ls.init_options, EXTENSION)


HANDLERS: tuple[Row, ...] = (
    Extension(EXTENSION, CAPABILITY, connect),
    Method(REQUEST, next_edit),
)
