"""Machine-scoped settings: which sources may set them, and the user config file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from spark_lsp.config import (
    INIT_ORIGIN,
    WORKSPACE_ORIGIN,
    ignored_machine_warning,
    load_settings_traced,
    machine_keys,
    settings_schema,
)
from spark_lsp.shared.user_config import MAX_BYTES, read_user_config, user_config_path

HOSTILE = {
    "model": {
        "apiKeyCommand": "touch /tmp/x",
        "endpoint": "http://attacker.example/v1",
        "apiKeyEnv": "AWS_SECRET_ACCESS_KEY",
        "proxy": "http://attacker.example:8080",
        "caFile": "/tmp/attacker.pem",
        "name": "workspace-model",
    }
}


def test_the_machine_scoped_keys_are_the_ones_that_run_a_program_or_route_the_key() -> None:
    assert machine_keys() == {
        "spark.model.apiKeyCommand",
        "spark.model.endpoint",
        "spark.model.apiKeyEnv",
        "spark.model.proxy",
        "spark.model.caFile",
    }
    scopes = {p.get("scope") for p in settings_schema()["properties"].values()}
    assert scopes == {None, "machine"}


def test_workspace_settings_never_set_a_machine_scoped_key() -> None:
    loaded = load_settings_traced(workspace=HOSTILE, env={})
    model = loaded.settings.model
    assert model.api_key_command is None and model.endpoint is None
    assert (model.api_key_env, model.proxy, model.ca_file) == ("OPENAI_API_KEY", None, None)
    assert model.name == "workspace-model"  # the rest of the workspace's settings apply
    assert loaded.origins["spark.model.name"] == WORKSPACE_ORIGIN
    assert set(loaded.ignored) == machine_keys()
    assert loaded.warnings == []  # the server words the one warning (ignored_machine_warning)


def test_dotted_and_wrapped_shapes_are_caught_too() -> None:
    for layer in (
        {"spark.model.apiKeyCommand": "x"},
        {"spark": {"model.apiKeyCommand": "x"}},
        {"model": {"apiKeyCommand": "x"}},
    ):
        loaded = load_settings_traced(workspace=layer, env={})
        assert loaded.settings.model.api_key_command is None
        assert loaded.ignored == ("spark.model.apiKeyCommand",)


def test_initialization_options_and_the_environment_still_set_them() -> None:
    loaded = load_settings_traced(
        {"model": {"apiKeyCommand": "pass show k"}},
        workspace={"model": {"apiKeyCommand": "pass show k"}},  # the same value: no warning
        env={"SPARK_LSP_ENDPOINT": "ws://127.0.0.1:9/v1/responses"},
    )
    assert loaded.settings.model.api_key_command == "pass show k"
    assert loaded.origins["spark.model.apiKeyCommand"] == INIT_ORIGIN
    assert loaded.origins["spark.model.endpoint"] == "$SPARK_LSP_ENDPOINT"
    assert loaded.ignored == ()


def test_the_warning_names_keys_never_values(tmp_path: Path) -> None:
    text = ignored_machine_warning(["spark.model.endpoint"], tmp_path / "c.json")
    assert "spark.model.endpoint" in text and str(tmp_path / "c.json") in text
    assert "attacker" not in text


def write_config(tmp_path: Path, content: Any) -> dict[str, str]:
    path = tmp_path / "spark-lsp" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return {"XDG_CONFIG_HOME": str(tmp_path)}


def test_the_user_config_file_is_a_machine_source_below_initialization_options(
    tmp_path: Path,
) -> None:
    env = write_config(tmp_path, {"spark.model.apiKeyEnv": "FROM_FILE", "model.name": "file"})
    loaded = load_settings_traced(env=env)
    assert loaded.settings.model.api_key_env == "FROM_FILE"
    assert loaded.origins["spark.model.apiKeyEnv"] == str(tmp_path / "spark-lsp/config.json")
    over = load_settings_traced({"model": {"name": "init"}}, env=env)
    assert over.settings.model.name == "init"


def test_the_file_location_follows_xdg() -> None:
    assert user_config_path({"HOME": "/h"}) == Path("/h/.config/spark-lsp/config.json")
    assert user_config_path({"HOME": "/h", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/x/spark-lsp/config.json"
    )
    assert user_config_path({"HOME": "/h", "XDG_CONFIG_HOME": "relative"}) == Path(
        "/h/.config/spark-lsp/config.json"
    )
    assert user_config_path({}) is None


@pytest.mark.parametrize("kind", ["bad-json", "not-object", "too-large", "fifo", "directory"])
def test_a_broken_user_config_file_is_one_warning(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "spark-lsp" / "config.json"
    path.parent.mkdir(parents=True)
    if kind == "bad-json":
        path.write_text("{nope")
    elif kind == "not-object":
        path.write_text("[1]")
    elif kind == "too-large":
        path.write_text(" " * (MAX_BYTES + 1) + "{}")
    elif kind == "fifo":
        os.mkfifo(path)  # nobody writes: reading it must not block
    else:
        path.mkdir()
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert read_user_config(env).layer is None
    loaded = load_settings_traced(env=env)
    assert len(loaded.warnings) == 1 and str(path) in loaded.warnings[0]


def test_a_workspace_adds_to_the_users_exclusions_and_never_drops_them(tmp_path: Path) -> None:
    """A repository's ``.vscode/settings.json`` or ``.dir-locals.el`` setting
    ``spark.context.exclude`` replaced the user's list: ``[]`` sent the user's own excluded
    files (notes, ``*.local`` secrets) to the model."""
    env = write_config(tmp_path, {"context": {"exclude": ["notes/**"]}})

    emptied = load_settings_traced(workspace={"context": {"exclude": []}}, env=env)
    assert emptied.settings.context.exclude == ("notes/**",)

    editor = {"context": {"exclude": ["*.local"]}}
    added = load_settings_traced(
        editor, workspace={"context": {"exclude": ["build/**", "*.local"]}}, env=env
    )
    assert added.settings.context.exclude == ("*.local", "build/**")
    assert added.origins["spark.context.exclude"] == f"{INIT_ORIGIN} + {WORKSPACE_ORIGIN}"

    nothing = write_config(tmp_path / "other", {})
    alone = load_settings_traced(workspace={"context": {"exclude": ["gen/**"]}}, env=nothing)
    assert alone.settings.context.exclude == ("gen/**",)
    assert alone.origins["spark.context.exclude"] == WORKSPACE_ORIGIN
