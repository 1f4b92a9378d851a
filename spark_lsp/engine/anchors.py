"""Warm anchors: send a prompt's large stable part once, then chain only the volatile part.

When the session can chain (the server forks a warmed response on another lane), a completion
sends a few hundred bytes instead of the whole context. The first request with a new stable part
goes in full while the anchor is warmed in the background; later ones chain from it.

Which anchors exist is the session's to say (they live on a connection, on lanes the session's
pool hands out and evicts by one policy): this module only maps a prompt's stable part to the
session's anchor id and asks ``anchor_state`` before chaining. An anchor being re-warmed after
a rotation or a drop means "send in full this once"; one the session evicted is warmed anew.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from spark_lsp.engine.context import stable_key
from spark_lsp.engine.prompts import Prompt
from spark_lsp.errors import SparkError
from spark_lsp.model import CreateRequest

if TYPE_CHECKING:
    from spark_lsp.engine.breaker import ModelCalls

log = logging.getLogger(__name__)

#: Below this many characters of stable text, chaining saves too little to be worth a warm-up.
MIN_STABLE_CHARS = 4096


class Anchors:
    """Stable-part hash → warmed response id, per session."""

    def __init__(self, session: Callable[[], ModelCalls | None]) -> None:
        self._session = session
        self._ready: dict[str, str] = {}
        self._warming: dict[str, asyncio.Task[None]] = {}
        self._owner: ModelCalls | None = None

    def request_for(self, prompt: Prompt, template: CreateRequest) -> CreateRequest:
        """The request to send: chained from a ready anchor, or in full (warming one)."""
        session = self._session()
        if (
            session is None
            or not session.can_chain
            or sum(map(len, prompt.stable)) < MIN_STABLE_CHARS
        ):
            return template
        if session is not self._owner:
            self._reset(session)
        key = stable_key(prompt)
        anchor = self._ready.get(key)
        state = session.anchor_state(anchor) if anchor is not None else "gone"
        if state == "warming":  # re-warmed by the session after a rotation or a drop
            return template
        if anchor is not None and state == "ready":
            return replace(template, input_texts=(prompt.volatile,), previous_response_id=anchor)
        if key not in self._warming:
            self._warming[key] = asyncio.get_running_loop().create_task(
                self._warm(session, key, prompt, template)
            )
        return template

    async def _warm(
        self, session: ModelCalls, key: str, prompt: Prompt, template: CreateRequest
    ) -> None:
        # The stable part alone, generating nothing, chained from nothing and on no lane yet.
        warm = replace(
            template,
            input_texts=prompt.stable,
            max_output_tokens=None,
            previous_response_id=None,
            stream_id=None,
            generate=False,
        )
        try:
            anchor = await session.warm(warm)
        except SparkError as exc:
            log.info("could not warm a context anchor: %s", exc)
            return
        finally:
            self._warming.pop(key, None)
        self._ready = {k: a for k, a in self._ready.items() if session.anchor_state(a) != "gone"}
        self._ready[key] = anchor

    def _reset(self, session: ModelCalls) -> None:
        self._owner = session
        self._ready.clear()
        for task in self._warming.values():
            task.cancel()
        self._warming.clear()
