"""Shared helpers for the model-server tests: a real server on port 0 and a real client."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from spark_lsp.model.protocol import TERMINAL_TYPES
from spark_lsp.modelserver.engines.base import Engine, EngineRequest, Plan
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.modelserver.server import ModelServer, ServerConfig

TOKEN = "test-token-123"
JSON = dict[str, Any]


class RecordingEngine(ScriptedEngine):
    """A scripted engine that also remembers every request it was asked (resolved context)."""

    def __init__(self, text: str = "ok") -> None:
        super().__init__(ScriptedEngine.reply(text).script)
        self.requests: list[EngineRequest] = []

    def plan(self, request: EngineRequest) -> Plan:
        self.requests.append(request)
        return super().plan(request)


@asynccontextmanager
async def running(engine: Engine | None = None, **config: Any) -> AsyncIterator[ModelServer]:
    """A model server on an ephemeral loopback port, closed afterwards."""
    settings = replace(ServerConfig(token=TOKEN), **config)
    async with ModelServer(settings, engine or ScriptedEngine.reply("hello world")) as server:
        yield server


@asynccontextmanager
async def client(server: ModelServer, token: str = TOKEN) -> AsyncIterator[ClientConnection]:
    """A WebSocket client connected to ``server`` with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(server.url, additional_headers=headers, max_size=None) as ws:
        yield ws


def create(text: str = "hi", **fields: Any) -> str:
    """A ``response.create`` frame with one user message."""
    body: JSON = {
        "type": "response.create",
        "model": "gpt-5.3-codex-spark",
        "store": False,
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        ],
    }
    body.update(fields)
    return json.dumps(body)


def is_end(event: JSON) -> bool:
    """True for the last event of a response (terminal or error)."""
    return event["type"] in TERMINAL_TYPES or event["type"] == "error"


async def recv_json(ws: ClientConnection, timeout: float = 5.0) -> JSON:
    """The next frame, parsed."""
    event: JSON = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return event


async def collect(ws: ClientConnection, ends: int = 1, timeout: float = 5.0) -> list[JSON]:
    """Every event until ``ends`` responses have ended."""
    events: list[JSON] = []
    while ends:
        event = await recv_json(ws, timeout)
        events.append(event)
        ends -= is_end(event)
    return events


async def ask(ws: ClientConnection, text: str = "hi", **fields: Any) -> list[JSON]:
    """Send one request and return its events."""
    await ws.send(create(text, **fields))
    return await collect(ws)


def types(events: Iterable[JSON]) -> list[str]:
    """The event types, in order."""
    return [event["type"] for event in events]


def text_of(events: Iterable[JSON]) -> str:
    """The concatenated deltas."""
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


def response_id(events: Iterable[JSON]) -> str:
    """The id from ``response.created``."""
    created = next(e for e in events if e["type"] == "response.created")
    return str(created["response"]["id"])


def lane(events: Iterable[JSON], stream_id: str | None) -> list[JSON]:
    """The events of one lane."""
    return [e for e in events if e.get("stream_id") == stream_id]


async def http_get(server: ModelServer, path: str, token: str | None = TOKEN) -> tuple[int, Any]:
    """A plain HTTP GET (no upgrade); returns the status and the parsed JSON body."""
    url = f"http://127.0.0.1:{server.port}{path}"
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")

    def fetch() -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    return await asyncio.to_thread(fetch)
