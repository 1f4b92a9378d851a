"""Members of the receiver before the cursor: modules, classes, parameters, assignments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from spark_lsp.engine.context import ContextBuilder, ContextOptions
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.engine.sources import receivers
from spark_lsp.engine.sources.imports import resolver_of
from spark_lsp.engine.sources.index import IndexedFile, WorkspaceIndex
from spark_lsp.engine.sources.project import ProjectContext
from spark_lsp.engine.store import DocumentStore
from spark_lsp.engine.symbols import outline
from spark_lsp.shared.privacy import ExclusionPolicy
from tests.counter import loaded_counter


def workspace(root: Path, files: dict[str, str]) -> WorkspaceIndex:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    index = WorkspaceIndex(root.resolve(), ExclusionPolicy(root).reason)
    index.build()
    return index


def members_at(
    index: WorkspaceIndex,
    relative: str,
    language_id: str,
    text: str,
    excluded: Callable[[Path], str | None] = lambda _: None,
) -> str:
    """The members section for a cursor at the end of ``text`` (opened as ``relative``)."""
    doc = DocumentIndex(text, loaded_counter())
    line = doc.line_count - 1
    here = IndexedFile(relative, language_id, -1, outline(language_id, text))
    found, _, _ = receivers.near_members(
        index, resolver_of(index), here, doc, (line, len(doc.line(line))), 2000,
        lambda s: len(s) // 4 + 1, excluded,
    )
    return found


def test_an_excluded_file_in_a_second_folder_lends_no_members(tmp_path: Path) -> None:
    """The receiver's file is judged at its own path, in its own workspace folder."""
    first, second = tmp_path / "app", tmp_path / "lib"
    for folder in (first, second):
        folder.mkdir()
    (first / "main.py").write_text("x = 1\n")
    (second / "vault.py").write_text("class Vault:\n    def open_secret(self): ...\n")
    index = WorkspaceIndex([first.resolve(), second.resolve()], lambda _: None)
    index.build()
    text = "from vault import Vault\n\ndef run(v: Vault):\n    v."
    assert "open_secret" in members_at(index, "app/main.py", "python", text)
    vault = (second / "vault.py").resolve()
    hidden = members_at(index, "app/main.py", "python", text,
                        lambda path: "excluded" if path.resolve() == vault else None)
    assert "open_secret" not in hidden


GO = {
    "go.mod": "module github.com/spf13/cobra\n",
    "command.go": "package cobra\n// Command is a command.\n"
    "type Command struct {\n\tUse string\n}\n"
    "func (c *Command) Execute() error { return nil }\n"
    "func (c *Command) AddCommand(cmds ...*Command) {}\n"
    "func NewCommand() *Command { return nil }\n",
    "other.go": "package cobra\ntype Flag struct {\n\tName string\n}\n",
}


def test_a_go_parameter_type_through_the_module_path(tmp_path: Path) -> None:
    index = workspace(tmp_path, GO)
    text = ('package doc\nimport "github.com/spf13/cobra"\n'
            "func GenDocs(cmd *cobra.Command, dir string) error {\n\tx := 1\n\tcmd.")
    found = members_at(index, "doc/docs.go", "go", text)
    assert "type Command struct" in found
    assert "func (c *Command) Execute() error" in found and "Use string" in found
    assert "Name string" not in found  # Flag's field: another type


def test_a_go_assignment_from_a_constructor(tmp_path: Path) -> None:
    index = workspace(tmp_path, GO)
    found = members_at(index, "run.go", "go", "package cobra\nfunc run() {\n\troot := NewCommand()"
                       "\n\troot.")
    assert "func (c *Command) AddCommand(cmds ...*Command)" in found


def test_a_typescript_namespace_import_reaches_what_its_index_reexports(tmp_path: Path) -> None:
    index = workspace(tmp_path, {
        "src/core/index.ts": 'export * from "./schemas.js";\nexport * from "./api.js";\n',
        "src/core/schemas.ts": "export interface $ZodNaN { kind: 'nan' }\n"
        "export interface $ZodString { kind: 'string' }\n",
        "src/core/api.ts": "export function _string(params?: string): void {}\n",
    })
    text = ('import * as core from "../core/index.js";\n'
            "export interface ZodMiniNaN extends _ZodMiniType<core.")
    found = members_at(index, "src/mini/schemas.ts", "typescript", text)
    assert "interface $ZodNaN" in found and "function _string(params?: string): void" in found
    assert found.index("$ZodNaN") < found.index("$ZodString")  # the line is about NaN


def test_python_self_reaches_the_class_and_its_bases(tmp_path: Path) -> None:
    index = workspace(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Renderable:\n    def render_lines(self, width: int) -> list:\n"
        "        ...\n",
        "pkg/text.py": "class Text:\n    def append_text(self, other: 'Text') -> None:\n"
        "        ...\n",
    })
    text = ("from .base import Renderable\nfrom .text import Text\n\n"
            "class Panel(Renderable):\n    content: Text\n\n"
            "    def draw(self):\n        self.content.")
    found = members_at(index, "pkg/panel.py", "python", text)
    assert "def append_text(self, other: 'Text') -> None:" in found
    text = text.rsplit("\n", 1)[0] + "\n        self."
    found = members_at(index, "pkg/panel.py", "python", text)
    assert "def render_lines(self, width: int) -> list:" in found and "content: Text" in found


def test_no_receiver_no_members(tmp_path: Path) -> None:
    index = workspace(tmp_path, GO)
    assert members_at(index, "run.go", "go", "package cobra\nfunc run() {\n\tx := ") == ""
    assert members_at(index, "run.go", "go", "package cobra\nfunc run() {\n\tunknown.") == ""


def test_what_the_near_sources_leave_goes_to_the_window(tmp_path: Path) -> None:
    """Nothing to define near the cursor: the whole budget is the current file's window."""
    root = tmp_path.resolve()
    (root / "other.py").write_text("def helper():\n    pass\n")
    text = "".join(f"value_{n} = {n} * {n}  # line {n}\n" for n in range(400))
    (root / "big.py").write_text(text)
    counter = loaded_counter()
    store = DocumentStore(counter)
    store.root = root
    policy = ExclusionPolicy(root)
    project = ProjectContext(store, policy.reason)
    asyncio.run(project.build(root))
    builder = ContextBuilder(store, lambda: policy, ContextOptions, project)
    doc = store.open((root / "big.py").as_uri(), "python", text, 1)
    query = CompletionQuery(doc.uri, doc.path, "python", doc.index, 399, 0, True)
    prompt = builder.completion_prompt(query, 2048)
    current = "".join(prompt.stable) + prompt.volatile
    shown = [n for n in range(400) if f"# line {n}\n" in current]
    window = sum(counter.count(f"value_{n} = {n} * {n}  # line {n}\n") for n in shown)
    # A fixed reservation of the near sources' share (35% before) left the window 1,332 tokens
    # at most; now only what they use (nothing here) is taken out of it.
    assert window > 2048 * 0.75
