"""A scripted engine: canned replies with a real model's timing, plus injectable faults.

Tests and benchmarks need a model whose latency, token rate and failures are chosen, not
suffered. A script is plain data (loadable from JSON for ``--script FILE``) so the same scenario
runs in-process and against the CLI server; the pacing follows a monotonic schedule so a slow
event loop does not make the simulated model slower than configured.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from spark_lsp.errors import ConfigError
from spark_lsp.modelserver.engines.base import (
    Action,
    AgeLimit,
    Directive,
    Drop,
    Engine,
    EngineRequest,
    Fail,
    Garbage,
    Plan,
    Reasoning,
    Refusal,
    Text,
)

#: Token-sized pieces: runs of up to four word characters or spaces, or one other character.
_PIECE = re.compile(r"\w{1,4}|\s{1,4}|[^\w\s]")


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """A scripted error; without ``after_deltas`` it replaces the response, as a 429 does."""

    status: int = 500
    code: str = "server_error"
    message: str = "scripted failure"
    retry_after_s: float | None = None
    after_deltas: int | None = None


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault; ``times`` limits it to the first N requests it matches (None: always)."""

    drop_after_deltas: int | None = None
    stall_after_deltas: int | None = None
    stall_s: float = 0.0
    garbage_after_deltas: int | None = None
    error: ErrorSpec | None = None
    reject_upgrade: int | None = None
    age_limit: bool = False
    #: Reason this many output tokens before the text (a budget below it gets no text at all).
    reasoning_tokens: int = 0
    #: Refuse with these words (a ``refusal`` part) instead of answering with the reply's text.
    refusal: str | None = None
    times: int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A canned reply, chosen when ``when`` occurs in the last input text or the instructions."""

    text: str = ""
    when: str | None = None
    fault: FaultSpec | None = None

    def matches(self, request: EngineRequest) -> bool:
        """True when this reply's trigger occurs in the request (or it has no trigger)."""
        if self.when is None:
            return True
        return self.when in request.last_text or self.when in (request.instructions or "")


@dataclass(frozen=True, slots=True)
class Script:
    """A whole scenario: timing, replies tried in order, and the fallback ``default``."""

    replies: tuple[Reply, ...] = ()
    default: Reply = field(default_factory=Reply)
    ttft_ms: float = 0.0
    tokens_per_second: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Script:
        """Build a script from parsed JSON; raises ``ConfigError`` naming the bad field."""
        try:
            return _script_from(data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"invalid model-server script: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> Script:
        """Read a script file (JSON); raises ``ConfigError`` with a one-line reason."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read script {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"script {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"script {path} must hold a JSON object")
        return cls.from_dict(data)


def _checked(kind: type[Any], data: Any) -> dict[str, Any]:
    """The fields of ``data`` for dataclass ``kind``, refusing unknown keys (typos)."""
    if not isinstance(data, dict):
        raise TypeError(f"{kind.__name__} must be an object, got {type(data).__name__}")
    unknown = set(data) - {f.name for f in fields(kind)}
    if unknown:
        raise ValueError(f"unknown {kind.__name__} field(s): {', '.join(sorted(unknown))}")
    return dict(data)


def _fault_from(data: Any) -> FaultSpec | None:
    if data is None:
        return None
    values = _checked(FaultSpec, data)
    if values.get("error") is not None:
        values["error"] = ErrorSpec(**_checked(ErrorSpec, values["error"]))
    return FaultSpec(**values)


def _reply_from(data: Any) -> Reply:
    values = _checked(Reply, data)
    values["fault"] = _fault_from(values.get("fault"))
    return Reply(**values)


def _script_from(data: Mapping[str, Any]) -> Script:
    values = _checked(Script, dict(data))
    values["replies"] = tuple(_reply_from(r) for r in values.get("replies", ()))
    if "default" in values:
        values["default"] = _reply_from(values["default"])
    return Script(**values)


def split_pieces(text: str) -> list[str]:
    """Split a reply into token-sized pieces whose concatenation is exactly ``text``."""
    return _PIECE.findall(text)


class ScriptedEngine(Engine):
    """Answers from a ``Script``; assign ``engine.script`` between requests to change it."""

    def __init__(self, script: Script | None = None) -> None:
        self._script = script or Script()
        self._fired: dict[int, int] = {}

    @classmethod
    def reply(
        cls,
        text: str,
        *,
        ttft_ms: float = 0.0,
        tokens_per_second: float = 0.0,
        fault: FaultSpec | None = None,
    ) -> ScriptedEngine:
        """An engine that answers every request with ``text`` (the common test case)."""
        default = Reply(text=text, fault=fault)
        return cls(Script(default=default, ttft_ms=ttft_ms, tokens_per_second=tokens_per_second))

    @property
    def script(self) -> Script:
        """The scenario in force."""
        return self._script

    @script.setter
    def script(self, script: Script) -> None:
        self._script = script
        self._fired.clear()

    def handshake_status(self) -> int | None:
        """Only the default's fault can refuse upgrades: no request exists at handshake time."""
        default = self._script.default
        if default.fault is None or default.fault.reject_upgrade is None:
            return None
        fault = self._take_fault(-1, default)
        return fault.reject_upgrade if fault is not None else None

    def plan(self, request: EngineRequest) -> Plan:
        """Pick the first matching reply and play it, or refuse the request up front."""
        index, reply = self._choose(request)
        fault = self._take_fault(index, reply)
        if fault is not None:
            refusal = _refusal(fault)
            if refusal is not None:
                return refusal
        text = reply.text if fault is None or fault.refusal is None else fault.refusal
        pieces = split_pieces(text)
        return self._play(pieces, _clamped(fault, len(pieces)) if fault else None)

    def _choose(self, request: EngineRequest) -> tuple[int, Reply]:
        for index, reply in enumerate(self._script.replies):
            if reply.matches(request):
                return index, reply
        return -1, self._script.default

    def _take_fault(self, index: int, reply: Reply) -> FaultSpec | None:
        """The reply's fault if it still has firings left (counting this one)."""
        fault = reply.fault
        if fault is None:
            return None
        fired = self._fired.get(index, 0)
        if fault.times is not None and fired >= fault.times:
            return None
        self._fired[index] = fired + 1
        return fault

    async def _play(
        self, pieces: list[str], fault: FaultSpec | None
    ) -> AsyncGenerator[Action, None]:
        """Yield the pieces on schedule, inserting the fault's directives where they fall due."""
        loop = asyncio.get_running_loop()
        script = self._script
        rate = script.tokens_per_second
        start = loop.time() + script.ttft_ms / 1000
        if fault is not None and fault.reasoning_tokens:
            yield Reasoning(fault.reasoning_tokens)
        piece: type[Text | Refusal] = Text if fault is None or fault.refusal is None else Refusal
        for index in range(len(pieces) + 1):
            for action in _due_directives(fault, index):
                yield action
            if fault is not None and fault.stall_after_deltas == index:
                await asyncio.sleep(fault.stall_s)
                start += fault.stall_s
            if index == len(pieces):
                return
            delay = start + (index / rate if rate > 0 else 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield piece(pieces[index])


def _clamped(fault: FaultSpec, count: int) -> FaultSpec:
    """Move fault points past the reply's end onto its end, so a fault always fires."""

    def clamp(value: int | None) -> int | None:
        return None if value is None else min(value, count)

    error = fault.error
    if error is not None:
        error = replace(error, after_deltas=clamp(error.after_deltas))
    return replace(
        fault,
        drop_after_deltas=clamp(fault.drop_after_deltas),
        stall_after_deltas=clamp(fault.stall_after_deltas),
        garbage_after_deltas=clamp(fault.garbage_after_deltas),
        error=error,
    )


def _refusal(fault: FaultSpec) -> Directive | None:
    """The directive that replaces the whole response, if the fault is of that kind."""
    if fault.age_limit:
        return AgeLimit()
    if fault.error is not None and fault.error.after_deltas is None:
        return _fail(fault.error)
    return None


def _fail(error: ErrorSpec) -> Fail:
    return Fail(
        code=error.code,
        message=error.message,
        status=error.status,
        retry_after_s=error.retry_after_s,
    )


def _due_directives(fault: FaultSpec | None, index: int) -> list[Action]:
    """Directives that fire once ``index`` deltas have been sent."""
    if fault is None:
        return []
    due: list[Action] = []
    if fault.garbage_after_deltas == index:
        due.append(Garbage())
    if fault.error is not None and fault.error.after_deltas == index:
        due.append(_fail(fault.error))
    if fault.drop_after_deltas == index:
        due.append(Drop())
    return due
