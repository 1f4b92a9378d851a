"""Project context end to end: files never opened reach the prompt as signatures, privacy holds.

A real server process, a real LSP client and the scripted model server, which records every
request: each test reads what the model was actually sent.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from spark_lsp.modelserver.engines.scripted import ScriptedEngine

from .conftest import Editor, start_editor, stop_editor
from .test_context import everything_sent, generated


def volatile_texts(editor: Editor) -> list[str]:
    """The last message (the volatile part) of each completion request."""
    return [
        m["input"][-1]["content"][0]["text"]
        for m in generated(editor)
        if m.get("generate") is not False and m["input"]
    ]


async def wait_project(editor: Editor, key: str = "indexReady") -> dict[str, Any]:
    for _ in range(200):
        project: dict[str, Any] = (await editor.stats())["project"]
        if project[key]:
            return project
        await asyncio.sleep(0.05)
    raise AssertionError(f"project context never reached {key}")


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


@pytest.fixture
async def project_editor(tmp_path: Path) -> AsyncIterator[Editor]:
    """An editor on a workspace whose files exist on disk before the server starts."""
    write(tmp_path, "shop/pricing.py",
          "def compute_discount(order, rate: float = 0.1) -> float:\n"
          '    """Apply the customer\'s discount rate to an order."""\n'
          "    return order.total * rate\n\n\n"
          "def _unrelated_internal():\n    return 0\n")
    write(tmp_path, "shop/__init__.py", "")
    write(tmp_path, "shop/models.py",
          "class ShoppingCart:\n"
          '    """Items a customer is about to buy."""\n\n'
          "    def __init__(self, owner: str) -> None:\n        self.items = []\n\n"
          "    def add_item(self, sku: str, quantity: int = 1) -> None:\n"
          '        """Put ``quantity`` of ``sku`` in the cart."""\n'
          "        self.items.append((sku, quantity))\n\n"
          "    def checkout_total(self) -> float:\n        return 0.0\n")
    write(tmp_path, ".gitignore", "generated/\n")
    write(tmp_path, ".sparkignore", "private_*.py\n")
    write(tmp_path, "generated/schema_models.py", "def hidden_generated_helper(x):\n    return x\n")
    write(tmp_path, "private_plans.py", "def secret_roadmap_function():\n    return 1\n")
    engine = ScriptedEngine.reply("pass")
    editor = await start_editor(tmp_path, engine)
    await editor.wait_state("ready")
    await wait_project(editor)
    yield editor
    await stop_editor(editor)


async def test_an_imported_function_from_a_never_opened_file_reaches_the_prompt(
    project_editor: Editor,
) -> None:
    editor = project_editor
    uri = editor.open("app.py", "from shop.pricing import compute_discount\n\n"
                                "def checkout(order):\n    discount = compute_discount(\n")
    assert await editor.inline(uri, 3, 31, invoked=True)
    sent = everything_sent(editor)
    assert "def compute_discount(order, rate: float = 0.1) -> float:" in sent
    assert "Apply the customer's discount rate to an order." in sent
    assert "return order.total * rate" not in sent  # signatures, not bodies


async def test_a_class_used_near_the_cursor_brings_its_method_signatures(
    project_editor: Editor,
) -> None:
    editor = project_editor
    uri = editor.open("cart_view.py",
                      "def show(owner):\n    cart = ShoppingCart(owner)\n    cart.\n")
    assert await editor.inline(uri, 2, 9, invoked=True)
    near = volatile_texts(editor)[-1]  # resolved without an import: near the cursor
    assert "class ShoppingCart:" in near
    assert "def add_item(self, sku: str, quantity: int = 1) -> None:" in near
    assert "def checkout_total(self) -> float:" in near
    assert "self.items.append" not in everything_sent(editor)


async def test_a_range_edited_in_another_file_is_in_the_next_prompt(
    project_editor: Editor,
) -> None:
    editor = project_editor
    other = editor.open("settings_view.py", "def render():\n    pass\n" + "\n" * 40)
    editor.insert(other, 20, 0, "RETRY_BUDGET_SECONDS = 7\n")
    uri = editor.open("main.py", "def main():\n    \n")
    assert await editor.inline(uri, 1, 4, invoked=True)
    near = volatile_texts(editor)[-1]
    assert "--- settings_view.py (language: python, lines 19-23) ---" in near
    assert "RETRY_BUDGET_SECONDS = 7" in near


async def test_excluded_and_ignored_files_never_contribute(project_editor: Editor) -> None:
    editor = project_editor
    uri = editor.open("consumer.py",
                      "from generated.schema_models import hidden_generated_helper\n"
                      "from private_plans import secret_roadmap_function\n\n"
                      "def go():\n    hidden_generated_helper(secret_roadmap_function())\n    \n")
    assert await editor.inline(uri, 5, 4, invoked=True)
    editor.open("private_plans.py", "def secret_roadmap_function():\n    return 1\n")
    assert await editor.inline(uri, 5, 4, invoked=True)
    sent = everything_sent(editor)
    assert "def hidden_generated_helper" not in sent
    assert "def secret_roadmap_function" not in sent
    assert "schema_models.py" not in sent and "private_plans.py" not in sent
    project = (await editor.stats())["project"]
    assert project["namesReferenced"] > 0


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


async def test_the_working_tree_diff_is_sent_without_diff_markers(tmp_path: Path) -> None:
    write(tmp_path, "billing.py", "def invoice(amount):\n    return amount\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    write(tmp_path, "billing.py",
          "def invoice(amount, currency='EUR'):\n    return f'{amount} {currency}'\n")
    editor = await start_editor(tmp_path, ScriptedEngine.reply("pass"))
    try:
        await editor.wait_state("ready")
        await wait_project(editor, "diffReady")
        uri = editor.open("main.py", "def main():\n    \n")
        assert await editor.inline(uri, 1, 4, invoked=True)
        sent = everything_sent(editor)
        assert "--- billing.py (language: python, lines 1-2 now read, replacing" in sent
        assert "def invoice(amount, currency='EUR'):" in sent
        assert "@@" not in sent and "+++" not in sent
        assert not any(line.startswith(("+def", "-def", "+    ", "-    "))
                       for line in sent.splitlines())
    finally:
        await stop_editor(editor)


async def test_no_diff_marker_reaches_a_suggestion(tmp_path: Path) -> None:
    """The bundled (local) model continues from what the prompt shows: after a diff was sent,
    the continuation it copies from it must read like code, with no ``+``/``-``/``@@``."""
    from spark_lsp.modelserver.engines.local import LocalEngine

    write(tmp_path, "ledger.py", "def old_entry(amount):\n    return amount\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    write(tmp_path, "ledger.py",
          "def record_ledger_entry(account_id, amount_cents, memo):\n"
          "    ledger.append((account_id, amount_cents, memo))\n"
          "    return len(ledger)\n")
    editor = await start_editor(tmp_path, LocalEngine())  # type: ignore[arg-type]
    try:
        await editor.wait_state("ready")
        await wait_project(editor, "diffReady")
        uri = editor.open("main.py", "def pay(account_id):\n    record_ledger_entry(acc")
        items = await editor.inline(uri, 1, 27, invoked=True)
        assert items, "the local model found nothing to continue"
        suggestion = items[0].insert_text
        assert isinstance(suggestion, str) and suggestion.startswith("ount_id, amount_cents")
        for line in suggestion.splitlines():
            assert not line.startswith(("+", "-", "@@")), suggestion
    finally:
        await stop_editor(editor)
