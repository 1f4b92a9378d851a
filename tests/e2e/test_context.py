"""The context engine end to end: exclusion, redaction, the 128k cap, cross-file, chaining."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from spark_lsp.shared.prompt_format import CURSOR

from .conftest import Editor, start_editor, stop_editor

SECRET = "sk-proj-Zx81mQ2vL7pR4tN9bW3cY6dF0gH5jK1aS8eU"


def generated(editor: Editor) -> list[dict[str, Any]]:
    return [m for m in editor.model.stats.received if m.get("type") == "response.create"]


def everything_sent(editor: Editor) -> str:
    return "\n".join(
        str(m.get("instructions", "")) + "".join(
            part["text"] for item in m["input"] for part in item["content"])
        for m in generated(editor)
    )


async def test_excluded_files_are_never_sent(editor: Editor) -> None:
    (editor.root / ".gitignore").write_text("generated/\n")
    (editor.root / ".sparkignore").write_text("private_*.py\n")
    env = editor.open(".env", f"OPENAI_API_KEY={SECRET}\nDB=postgres://u:p@h/db\n", "dotenv")
    gen = editor.open("generated/models.py", "class GeneratedThing:\n    pass\n")
    private = editor.open("private_notes.py", "TOP_SECRET_PLAN = 1\n")
    for uri in (env, gen, private):
        assert await editor.inline(uri, 0, 3, invoked=True) == []
    assert [m for m in generated(editor) if m.get("generate") is not False] == []
    stats = await editor.stats()
    assert "not sent to the model" in stats["status"]["detail"]
    ok = editor.open("app.py", "def main():\n    \n")  # other files still work...
    assert await editor.inline(ok, 1, 4, invoked=True)
    sent = everything_sent(editor)
    for secret_text in (SECRET, "GeneratedThing", "TOP_SECRET_PLAN", "postgres://"):
        assert secret_text not in sent  # ...and excluded files never feed their snippets


async def test_secrets_are_redacted_from_what_is_sent(editor: Editor) -> None:
    editor.open("settings.py", f'API_KEY = "{SECRET}"\npassword = "hunter2hunter2"\n'
                               "def load_settings():\n    return API_KEY\n")
    uri = editor.open("main.py", f"from settings import load_settings\nKEY = '{SECRET}'\n"
                                 "def main():\n    settings = load_settings()\n    \n")
    assert await editor.inline(uri, 4, 4, invoked=True)
    sent = everything_sent(editor)
    assert SECRET not in sent and "hunter2hunter2" not in sent
    assert "«redacted»" in sent


async def test_cross_file_snippets_are_ranked_and_headed(editor: Editor) -> None:
    editor.open("pricing.py", "def compute_discount(order, rate):\n"
                              "    return order.total * rate\n" + "\n" * 30
                              + "def unrelated_helper():\n    return 42\n")
    uri = editor.open("checkout.py", "from pricing import compute_discount\n\n"
                                     "def checkout(order):\n    discount = compute_discount(\n")
    assert await editor.inline(uri, 3, 31, invoked=True)
    message = [m for m in generated(editor) if m.get("generate") is not False][-1]
    texts = [part["text"] for item in message["input"] for part in item["content"]]
    assert len(texts) >= 2 and CURSOR in texts[-1]  # stable context first, the cursor last
    # the snippets' message, among the stable ones (project context may come before it)
    snippets = next(t for t in texts[:-1] if "--- pricing.py (language: python, lines 1-" in t)
    assert "def compute_discount" in snippets and "# pricing.py" not in snippets


async def test_the_128k_cap_holds_on_a_huge_file(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("pass")
    editor = await start_editor(tmp_path, engine, configuration={
        "spark": {"completion": {"contextTokens": 126000, "maxOutputTokens": 512}}})
    try:
        await editor.wait_state("ready")
        line = "value_{i} = compute(alpha_{i}, beta_{i}) + sum(range({i}))  # note {i}\n"
        text = "".join(line.format(i=i) for i in range(14000))  # about 300k tokens
        for _ in range(300):  # the exact tokenizer loads in the background; a document opened
            if (await editor.stats())["tokenCounts"] == "exact":  # before has estimated counts
                break  # (conservative, ~2x) that are refined a slice per request
            await asyncio.sleep(0.1)
        uri = editor.open("huge.py", text + "\n")
        assert await editor.inline(uri, 7000, 0, invoked=True)
        message = [m for m in generated(editor) if m.get("generate") is not False][-1]
        counter = TokenCounter()
        counter.start_loading()
        assert counter.wait_ready(30)
        prompt_tokens = counter.count(message["instructions"]) + sum(
            counter.count(part["text"]) for item in message["input"] for part in item["content"])
        assert 100_000 < prompt_tokens
        assert prompt_tokens + message["max_output_tokens"] <= 128_000
    finally:
        await stop_editor(editor)


async def test_chained_prompt_carries_the_same_information(tmp_path: Path) -> None:
    engine = ScriptedEngine.reply("pass")
    editor = await start_editor(tmp_path, engine, configuration={
        "spark": {"completion": {"contextTokens": 16000}}})
    try:
        await editor.wait_state("ready")
        body = "".join(f"def function_{i}(x):\n    return x * {i}\n\n" for i in range(600))
        uri = editor.open("big.py", body + "def tail():\n    \n")
        for _ in range(100):  # estimated counts would size the first window differently
            if (await editor.stats())["tokenCounts"] == "exact":
                break
            await asyncio.sleep(0.1)
        cursor_line = body.count("\n") + 1
        for _ in range(100):  # exact counts arriving between the two requests move the window
            if (await editor.stats())["tokenCounts"] == "exact":
                break
            await asyncio.sleep(0.1)
        assert await editor.inline(uri, cursor_line, 4, invoked=True)
        for _ in range(200):  # the warm-up goes out in the background: up to 10 s on a busy CI
            if any(m.get("generate") is False and len(m["input"]) > 0
                   and m["input"][0]["content"][0]["text"] != "ping" for m in generated(editor)):
                break
            await asyncio.sleep(0.05)
        editor.insert(uri, cursor_line, 4, "x")
        assert await editor.inline(uri, cursor_line, 5, invoked=True)
        sent = [m for m in generated(editor) if m["input"][0]["content"][0]["text"] != "ping"]
        full, warm, chained = sent[0], sent[1], sent[2]
        assert warm.get("generate") is False and "previous_response_id" not in full
        assert chained["previous_response_id"] and len(chained["input"]) == 1
        assert warm["input"] == full["input"][:-1]  # the stable part, sent once
        assert warm["instructions"] == full["instructions"] == chained["instructions"]
        assert len(str(chained["input"])) * 10 < len(str(full["input"]))
        stats = await editor.stats()
        assert stats["model"]["chained"] >= 1
    finally:
        await stop_editor(editor)
