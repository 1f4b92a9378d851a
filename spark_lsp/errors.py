"""The error tree every layer raises.

Each error carries a message written for the person at the editor: what went wrong and what to
do. Layers above decide the audience (popup, log, status) by the error's type, so the message
itself never contains secrets or tracebacks.
"""

from __future__ import annotations


class SparkError(Exception):
    """Base of all spark-lsp errors; ``str(err)`` is a one-line, user-facing message."""

    #: True when retrying the same request later may succeed without the user doing anything.
    transient: bool = False


class ConfigError(SparkError):
    """A setting is invalid or missing (the user can fix it)."""


class AuthError(SparkError):
    """The endpoint refused our credentials; retrying in a loop would only lock the key out."""


class ModelNotAvailable(ConfigError):
    """The endpoint does not offer the configured model to this key (``model_not_found``).

    Nothing but a different ``spark.model.name`` (or key) fixes it, so the session stops
    retrying and says which model and which setting, once.
    """

    def __init__(self, model: str | None, detail: str | None = None) -> None:
        said = f" (the endpoint said: {detail})" if detail else ""
        name = f"model {model!r}" if model else "the configured model"
        super().__init__(f"{name} is not available to this key: set spark.model.name{said}")
        self.model = model
        self.detail = detail

    def named(self, model: str) -> ModelNotAvailable:
        """The same error naming the model the session asked for."""
        return self if self.model else ModelNotAvailable(model, self.detail)


class RateLimited(SparkError):
    """The provider asked us to slow down (HTTP 429 or a ``rate_limit`` error)."""

    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelUnavailable(SparkError):
    """The model endpoint cannot be reached or dropped the connection."""

    transient = True


class UpgradeRequired(ModelUnavailable):
    """The endpoint answered the WebSocket upgrade with 426: it speaks HTTP only."""


class ModelTimeout(ModelUnavailable):
    """The model stopped sending events for longer than the stall timeout."""


class ProtocolError(SparkError):
    """The peer sent something that is not valid under the Responses WebSocket protocol."""

    transient = True


class ModelRequestError(SparkError):
    """The model answered a request with an ``error`` event or a failed response."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.param = param
        self.transient = status is not None and status >= 500


class PreviousResponseNotFound(ModelRequestError):
    """The chained-from response is no longer cached on that connection: resend in full."""


class UnsupportedTask(ModelRequestError):
    """The engine declines this kind of task (the bundled local engine declines edits)."""


class Superseded(SparkError):
    """A newer request for the same document replaced this one; answer empty, fast."""


class ReplyTooLarge(ProtocolError):
    """The model's reply broke a size cap (one message, event, line or delta, or its total).

    No genuine reply comes near the caps (``model/limits.py`` derives them from the output
    budget), so reading on would only let a broken or hostile endpoint freeze the server.
    """


class ResponseDeadline(ModelTimeout):
    """A whole response took longer than its deadline, even though events kept arriving."""


class ModelRefused(SparkError):
    """The model declined the request; ``str(err)`` carries its words, to show once."""

    def __init__(self, words: str) -> None:
        said = " ".join(words.split())[:300] or "(no reason given)"
        super().__init__(f"the model refused: {said}")
        self.words = words
