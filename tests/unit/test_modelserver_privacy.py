"""The bundled engine's workspace index obeys the language server's privacy policy.

Whatever the policy keeps from the model (ignore files, ``.sparkignore``, built-in secret
files, ``spark.context.exclude``) the index never reads, so its text can never come back as a
suggestion; what it does read is redacted like every prompt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from spark_lsp.modelserver.engines.local import LocalEngine, WorkspaceIndex
from spark_lsp.modelserver.main import add_arguments, build_engine
from spark_lsp.shared.prompt_format import CURSOR, TASK_COMPLETE
from tests.modelserver_helpers import ask, client, running, text_of

#: Excluded files, each with a marker that a probe below starts to type.
EXCLUDED = {
    "build/gen_models.py": "def gitignored_dir_marker(rows):\n    return rows\n",
    "notes.local.py": "def gitignored_glob_marker(rows):\n    return rows\n",
    "drafts/plan.py": "def sparkignored_marker(rows):\n    return rows\n",
    "vendor/lib.py": "def setting_excluded_marker(rows):\n    return rows\n",
    "id_ed25519": "def private_key_file_marker(rows):\n    return rows\n",
    "credentials.json": '{"credentials_json_marker": "value"}\n',
    "config/secrets.yaml": "config:\n  secrets_yaml_marker: enabled\n",
    ".env.production": "export DOTENV_MARKER=enabled\n",
    "nested/.gitignore_target.py": "def nested_gitignore_marker(rows):\n    return rows\n",
}
PROBES = (
    "def gitignored_dir_mar",
    "def gitignored_glob_mar",
    "def sparkignored_mar",
    "def setting_excluded_mar",
    "def private_key_file_mar",
    '{"credentials_json_mar',
    "config:\n  secrets_yaml_mar",
    "export DOTENV_MAR",
    "def nested_gitignore_mar",
)


def make_workspace(root: Path) -> None:
    for name, text in EXCLUDED.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / ".gitignore").write_text("build/\n*.local.py\n")
    (root / "nested" / ".gitignore").write_text(".gitignore_target.py\n")
    (root / ".sparkignore").write_text("drafts/**\n")
    (root / "src").mkdir()
    (root / "src" / "ok.py").write_text(
        "def allowed_marker_function(rows):\n    return sorted(rows)\n"
        'DB_PASSWORD = "hunter2hunter2"\n'
    )


def test_the_index_reads_only_what_the_policy_allows(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    index = WorkspaceIndex(tmp_path, exclude=("vendor/**",))
    index.build()
    names = [p.relative_to(tmp_path.resolve()).as_posix() for p in index.files]
    assert names == [".gitignore", ".sparkignore", "nested/.gitignore", "src/ok.py"]


async def suggestions(engine: LocalEngine, probes: tuple[str, ...]) -> dict[str, str]:
    async with running(engine) as server, client(server) as ws:
        assert engine.index is not None and engine.index.ready.wait(5)
        return {
            probe: text_of(await ask(ws, probe + CURSOR, instructions=TASK_COMPLETE))
            for probe in probes
        }


async def test_the_engine_never_suggests_text_from_an_excluded_file(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    engine = LocalEngine(tmp_path, exclude=("vendor/**",))
    found = await suggestions(engine, ("def allowed_marker_fun", 'DB_PASSWORD = "', *PROBES))
    assert found.pop("def allowed_marker_fun").startswith("ction(rows):")  # the index works...
    assert "hunter2" not in found.pop('DB_PASSWORD = "')  # ...what it holds is redacted...
    assert found == dict.fromkeys(PROBES, "")  # ...and it holds nothing excluded


async def test_the_same_text_in_allowed_files_is_suggested(tmp_path: Path) -> None:
    """The control: the probes do find these texts when no policy keeps them out."""
    for number, text in enumerate(EXCLUDED.values()):
        (tmp_path / f"allowed_{number}.txt").write_text(text)
    found = await suggestions(LocalEngine(tmp_path), PROBES)
    assert all(found.values()), found


def test_the_command_line_passes_exclusions_to_the_engine(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--workspace", str(tmp_path), "--exclude=vendor/**"])
    engine = build_engine(args)
    assert isinstance(engine, LocalEngine) and engine.index is not None
    engine.index.build()
    assert all("vendor" not in p.parts for p in engine.index.files)


@pytest.mark.parametrize("name", ["id_rsa", "server.pem", ".env", "credentials", ".npmrc"])
def test_secret_files_at_the_root_are_never_indexed(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("def secret_marker():\n    return 1\n")
    index = WorkspaceIndex(tmp_path)
    index.build()
    assert index.files == []
