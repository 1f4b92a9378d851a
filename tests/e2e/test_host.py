"""The host's restart rules, end to end: the bundled model server follows what it was given.

The bundled model server (the local engine, used when no endpoint and no key are configured)
learns from the workspace's files, judged by its own copy of the exclusion policy taken at
spawn. A change of ``spark.context.exclude`` must reach it: a file excluded afterwards may no
longer come back as a suggestion, while the other files still do.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from spark_lsp.modelserver.engines.scripted import ScriptedEngine
from tests.e2e.conftest import Editor, start_editor, stop_editor

SECRET = "engage_warp_drive_alpha_seven"
KEPT = "retract_landing_gear_beta_nine"
FILES = {
    "notes.py": f"def launch_sequence():\n    return {SECRET}()\n",
    "kept.py": f"def landing_sequence():\n    return {KEPT}()\n",
}
#: What is asked for each marker: its function, up to ``return ``.
ASKED = {
    SECRET: "def launch_sequence():\n    return ",
    KEPT: "def landing_sequence():\n    return ",
}


class Asker:
    """Asks for a suggestion after ``return `` of one function, in a fresh document each
    time (new text, so no cached answer is reused)."""

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.count = 0

    async def suggestion(self, marker: str) -> str:
        self.count += 1
        uri = self.editor.open(f"ask{self.count}.py", f"# ask {self.count}\n" + ASKED[marker])
        items = await self.editor.inline(uri, 2, len("    return "), invoked=True)
        return "".join(item.insert_text for item in items)

    async def until(self, marker: str, present: bool) -> None:
        for _ in range(100):
            if (marker in await self.suggestion(marker)) == present:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{marker} never {'came' if present else 'stopped coming'} back")


async def test_the_bundled_model_server_follows_an_exclusion_change(tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    editor = await start_editor(
        tmp_path, ScriptedEngine.reply("unused"),
        env={"SPARK_LSP_ENDPOINT": "", "OPENAI_API_KEY": ""}, configuration={"spark": {}},
        # Only the bundled server's own index may know the files: the prompt never quotes them.
        init_options={"context": {"crossFile": False, "project": False}},
    )
    try:
        await editor.wait_state("ready", timeout=30)
        asker = Asker(editor)
        await asker.until(SECRET, present=True)  # the bundled index is built
        editor.client.set_configuration({"spark": {"context": {"exclude": ["notes.py"]}}})
        editor.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None)
        )
        await asker.until(KEPT, present=True)  # the index (rebuilt or not) answers again
        for _ in range(3):
            assert SECRET not in await asker.suggestion(SECRET)
    finally:
        await stop_editor(editor)


async def test_the_bundled_model_server_learns_from_every_workspace_folder(
    tmp_path: Path,
) -> None:
    app, lib = tmp_path / "app", tmp_path / "lib"
    app.mkdir()
    lib.mkdir()
    (lib / "kept.py").write_text(FILES["kept.py"])  # only in the second folder
    editor = await start_editor(
        app, ScriptedEngine.reply("unused"), folders=[app, lib],
        env={"SPARK_LSP_ENDPOINT": "", "OPENAI_API_KEY": ""},
        init_options={"context": {"crossFile": False, "project": False}},
    )
    try:
        await editor.wait_state("ready", timeout=30)
        await Asker(editor).until(KEPT, present=True)
    finally:
        await stop_editor(editor)
