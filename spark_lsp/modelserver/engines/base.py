"""The contract between the model server's connection handler and the engines behind it.

An engine only decides *what* a response says and which fault to simulate; the server owns the
wire (events, lanes, chaining, usage). Keeping faults as plain directives lets the scripted
engine exercise every failure path of the client without the engine touching a socket.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineRequest:
    """What the engine sees: the fully resolved prompt (chains already followed)."""

    input_texts: tuple[str, ...]
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str = ""

    @property
    def last_text(self) -> str:
        """The newest input text: where a request's own content usually is."""
        return self.input_texts[-1] if self.input_texts else ""


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of output: becomes exactly one ``response.output_text.delta``."""

    text: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """One piece of a refusal: sent as ``refusal`` content (a chat ``delta.refusal``), not text."""

    text: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """Hidden reasoning: ``tokens`` output tokens spent on the budget, with nothing shown.

    A reasoning model bills its thinking to ``max_output_tokens``; when it spends all of it the
    response ends ``incomplete`` before any text, which is what clients must explain.
    """

    tokens: int


class Directive:
    """Base of the faults an engine asks the connection handler to carry out."""


@dataclass(frozen=True, slots=True)
class Drop(Directive):
    """Abort the TCP connection without a close frame (a crashed server or a cut cable)."""


@dataclass(frozen=True, slots=True)
class Garbage(Directive):
    """Send one text frame that is not JSON, then carry on."""


@dataclass(frozen=True, slots=True)
class AgeLimit(Directive):
    """Act as if the connection reached its age limit: error event, then close 1001."""


@dataclass(frozen=True, slots=True)
class Fail(Directive):
    """Fail the request: an ``error`` event before it starts, ``response.failed`` after."""

    code: str
    message: str
    status: int = 500
    error_type: str | None = None
    retry_after_s: float | None = None


Action = Text | Refusal | Reasoning | Drop | Garbage | AgeLimit | Fail

#: What an engine returns for a request: a directive *instead of* a response (refusals that
#: real servers send before ``response.created``) or the stream of the response's actions.
Plan = Directive | AsyncGenerator[Action, None]


class Engine(ABC):
    """Something that answers requests; one instance serves every connection of a server."""

    @abstractmethod
    def plan(self, request: EngineRequest) -> Plan:
        """Decide how to answer ``request`` (called once per generating request)."""

    def handshake_status(self) -> int | None:
        """An HTTP status to refuse the next WebSocket upgrade with, or None to accept it."""
        return None

    def start(self) -> None:
        """Begin background work (e.g. indexing); called once when the server starts."""
        return None

    def close(self) -> None:
        """Stop background work; called once when the server closes."""
        return None
