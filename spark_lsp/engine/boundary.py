"""The privacy boundary: the one place every model request of the engine passes on its way out.

Which files may be sent and which strings look like secrets is decided in
:mod:`spark_lsp.shared.privacy`; this is where that decision is enforced, for every call alike
(completions, prefetches and their chained accept messages, anchor warm-ups, next edits, code
and custom actions), so no stage can forget it:

- **Everything is redacted.** Every text a request carries (each input message, the full
  prompt a chained request falls back to, and the instructions, although those are the
  program's own constants: checking them costs a lookup and leaves no exception to remember)
  is scrubbed of secret-looking strings here, whatever the stage that built it did. Each text
  is redacted whole, once: a completion's stable parts come back keystroke after keystroke as
  the same text, so the result is remembered per text (an anchor's warm-up and a chained
  request's fallback repeat texts the request itself carried).
- **Nothing excluded.** A request says which documents its text quotes by being sent inside
  :func:`quoting` (the wire request has no room for it, and the anchor warm-up a request
  starts runs in a task that inherits the declaration). A request whose quoted documents the
  exclusion policy now excludes is refused, and so is one that declares none: an unnamed
  source cannot be checked, so it is not sent. Workspace sources the project context quotes
  (definitions, imports, diffs) are checked where they are read, by the same policy.

Stages keep only the decisions that change behaviour rather than text: an action or a next-edit
window that *holds* a secret is refused outright (an edit of redacted code would write the
redaction into the file), and a next-edit prediction redacts the pieces it shows itself, since
it reads the reply against them (so its prompt is scanned twice: the one exception).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from spark_lsp.engine.breaker import wrapper_per_session
from spark_lsp.engine.messages import EXCLUDED_NOTE, Refused
from spark_lsp.engine.store import uri_to_path
from spark_lsp.shared.privacy import ExclusionPolicy, redact_secrets

if TYPE_CHECKING:
    from spark_lsp.engine.breaker import ModelCalls, ModelStream
    from spark_lsp.model import AnchorState, CreateRequest

#: The documents (URIs) whose text the requests sent in this context quote; None: undeclared.
_QUOTED: ContextVar[tuple[str, ...] | None] = ContextVar("spark_lsp_quoted", default=None)
UNDECLARED = "a model request must name the files it quotes; this one did not, so it is not sent"


@contextmanager
def quoting(sources: Sequence[str]) -> Iterator[None]:
    """Declare the documents whose text the requests sent inside this block quote."""
    token = _QUOTED.set(tuple(sources))
    try:
        yield
    finally:
        _QUOTED.reset(token)


@lru_cache(maxsize=32)
def redacted(text: str) -> str:
    """``text`` with every secret-looking string replaced, remembered per text."""
    return redact_secrets(text)


class PrivacyBoundary:
    """A model session (``ModelCalls``) that sends only redacted text of admitted documents."""

    def __init__(
        self, inner: ModelCalls, policy: Callable[[], ExclusionPolicy | None]
    ) -> None:
        self.inner = inner
        self._policy = policy

    @property
    def can_chain(self) -> bool:
        return self.inner.can_chain

    def anchor_state(self, anchor_id: str) -> AnchorState:
        return self.inner.anchor_state(anchor_id)

    def stream(
        self, request: CreateRequest, *, full_input: tuple[str, ...] | None = None
    ) -> ModelStream:
        """Start a response with ``request`` made safe; raises ``Refused`` when it may not go."""
        outgoing = self.admit(request)
        fallback = None if full_input is None else tuple(map(redacted, full_input))
        return self.inner.stream(outgoing, full_input=fallback)

    async def complete(self, request: CreateRequest, *, resend: bool = True) -> str:
        return await self.inner.complete(self.admit(request), resend=resend)

    async def warm(self, request: CreateRequest) -> str:
        return await self.inner.warm(self.admit(request))

    def admit(self, request: CreateRequest) -> CreateRequest:
        """``request`` with every text redacted; raises ``Refused`` when a document it quotes
        is excluded, or when it does not say which documents it quotes."""
        self._check_sources()
        instructions = request.instructions
        return replace(
            request,
            input_texts=tuple(map(redacted, request.input_texts)),
            instructions=None if instructions is None else redacted(instructions),
        )

    def _check_sources(self) -> None:
        sources = _QUOTED.get()
        if sources is None:
            raise Refused(UNDECLARED)
        policy = self._policy()
        if policy is None:
            return
        for uri in sources:
            reason = policy.reason(uri_to_path(uri))
            if reason is not None:
                raise Refused(EXCLUDED_NOTE + reason)


def bounded(
    calls: Callable[[], ModelCalls | None], policy: Callable[[], ExclusionPolicy | None]
) -> Callable[[], PrivacyBoundary | None]:
    """``calls`` behind the boundary."""
    return wrapper_per_session(calls, lambda inner: PrivacyBoundary(inner, policy))
