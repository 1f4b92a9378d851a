"""pygls adaptations: where pygls' protocol does not fit spark-lsp, it is bent here, once.

Kept apart from the server object so that what is a workaround for the library (and may go
when pygls changes) is not mixed with what is spark-lsp's own state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcContentModified,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): a well-formed request that could not be carried out; the
    message says why, for the editor to show (pygls has no class for it)."""

    CODE = -32803


#: Errors a handler raises as ordinary answers: replied as they are, never as server bugs.
EXPECTED_ERRORS = (JsonRpcContentModified, JsonRpcInvalidParams, RequestFailed)


class SparkProtocol(LanguageServerProtocol):
    """pygls' protocol, but a request with malformed params gets an error response.

    pygls validates params while parsing the message, before it knows it must answer, and
    drops the request: the editor would wait for ever. Answer it with InvalidParams (-32602)
    and a message naming the method and the bad fields.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Set by the ``initialize`` request: what comes before it is refused or dropped.
        self._initialize_seen = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data:
            data = self._checked_envelope(data)
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as exc:
            msg_id, method = data.get("id"), data.get("method")
            if isinstance(msg_id, int | str) and isinstance(method, str):
                self._send_error(
                    msg_id,
                    JsonRpcInvalidParams.CODE,
                    f"invalid params for {method}: {describe_invalid(exc)}",
                )
            raise

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        """pygls' initialize, plus our extensions under ``capabilities.experimental.spark``
        (pygls has no way to announce experimental capabilities)."""
        result = yield from super().lsp_initialize(params)
        extensions = getattr(self._server, "experimental_capabilities", None)
        if extensions:
            result.capabilities.experimental = {"spark": dict(extensions)}
        return result

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """Answer ContentModified (a request about an older document version) and InvalidParams
        and RequestFailed raised by a handler as the expected replies they are: pygls would log
        them with a
        traceback and report them as server errors."""
        error = None if future.cancelled() else future.exception()
        if isinstance(error, EXPECTED_ERRORS):
            if isinstance(error, JsonRpcInvalidParams):
                logging.getLogger(__name__).warning("answered a malformed request: %s", error)
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=error.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _checked_envelope(self, data: dict[str, Any]) -> dict[str, Any]:
        """Refuse an id that is not an integer or a string; default absent params to null.

        The spec allows only those ids: pygls raised deep inside its converter (a traceback in
        the log, no answer). A request without ``params`` is legal and must be answered.
        """
        msg_id = data.get("id")
        if "id" in data and (isinstance(msg_id, bool) or not isinstance(msg_id, int | str | None)):
            self._send_response(
                None,  # type: ignore[arg-type]  # the spec's answer to an unreadable id
                error=types.ResponseError(
                    code=JsonRpcInvalidRequest.CODE,
                    message="invalid request: the id must be an integer or a string",
                ),
            )
            raise JsonRpcInvalidRequest()
        if "method" in data and "params" not in data:
            return {**data, "params": None}
        return data

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))

    def send_parse_error(self, detail: str) -> None:
        """Answer a body that is not JSON (the spec's ParseError, with a null id)."""
        self._send_response(
            None,  # type: ignore[arg-type]
            error=types.ResponseError(code=JsonRpcParseError.CODE, message=detail[:300]),
        )

    def handle_message(self, message: Any) -> None:
        """Before ``initialize`` a request gets ServerNotInitialized and a notification is
        dropped (the spec's rule; pygls answered them); after ``shutdown`` a request gets
        InvalidRequest (pygls drops it unanswered)."""
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if method == types.INITIALIZE:
            self._initialize_seen = True
        elif not self._initialize_seen and method not in (None, types.EXIT):
            if msg_id is not None:
                self._send_error(
                    msg_id,
                    JsonRpcServerNotInitialized.CODE,
                    f"{method}: the server is not initialized yet",
                )
            return
        if self._shutdown and method not in (None, types.EXIT) and msg_id is not None:
            self._send_error(
                msg_id, JsonRpcInvalidRequest.CODE, f"{method}: the server is shutting down"
            )
            return
        super().handle_message(message)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Run a handler, then forget its future.

        pygls files the future of every handler under its message id but removes it only when
        it answers a request; notifications (every didChange) and the steps of its generator
        handlers stay in ``_request_futures`` for ever: ~2 KB per keystroke, measured by the
        soak benchmark.
        """
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda done: self._forget_future(msg_id, done))

    def _forget_future(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    # spark-lsp's DocumentStore is the one copy of each open document. pygls would keep a
    # second one, rebuilt on every change (O(document) per keystroke), and would raise on a
    # change to a document that is not open, before our handler runs.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> _Handlers:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> _Handlers:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> _Handlers:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> _Handlers:
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None


_Handlers = Iterator[tuple[Any, tuple[Any, ...], None]]


def describe_invalid(exc: Exception) -> str:
    """A one-line description of invalid params, for the error response and the log."""
    cause = exc.__cause__
    if cause is None:
        return "malformed"
    try:
        problems = transform_error(cause, path="")
    except Exception:  # a description must never fail
        return str(cause)[:200]
    return "; ".join(p.replace("@ .", "@ ") for p in problems[:3])[:300]
