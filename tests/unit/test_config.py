"""Settings loading: layer order, key shapes, schema-driven validation, endpoint and secrets."""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any

import pytest

from spark_lsp.config import (
    OPENAI_ENDPOINT,
    ResolvedEndpoint,
    Settings,
    language_enabled,
    load_settings,
    resolve_endpoint,
    settings_schema,
    settings_to_wire,
)
from spark_lsp.shared.scrub import REDACTED, Scrubber

NO_ENV: dict[str, str] = {}
KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


def load(*layers: Any, env: dict[str, str] | None = None) -> tuple[Settings, list[str]]:
    return load_settings(*layers, env=NO_ENV if env is None else env)


def debounce(*layers: Any) -> int | None:
    settings, warnings = load(*layers)
    assert warnings == []
    return settings.completion.debounce_ms


# --- schema <-> dataclass drift ------------------------------------------------------------------

PROPERTIES: dict[str, Any] = settings_schema()["properties"]


def _dataclass_keys() -> set[str]:
    keys = set()
    for group in dataclasses.fields(Settings):
        group_type = typing.get_type_hints(Settings)[group.name]
        for f in dataclasses.fields(group_type):
            camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f.name)
            group_camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), group.name)
            keys.add(f"spark.{group_camel}.{camel}")
    return keys


def test_every_schema_key_has_exactly_one_dataclass_field() -> None:
    assert set(PROPERTIES) == _dataclass_keys()


def test_dataclass_defaults_equal_schema_defaults() -> None:
    wire = settings_to_wire(Settings())
    for key, prop in PROPERTIES.items():
        _, group, name = key.split(".")
        assert wire[group][name] == prop["default"], key


def test_load_with_nothing_gives_the_dataclass_defaults() -> None:
    assert load() == (Settings(), [])


@pytest.mark.parametrize("key", sorted(PROPERTIES))
def test_schema_entry_is_complete_and_its_default_valid(key: str) -> None:
    prop = PROPERTIES[key]
    assert {"type", "default", "description"} <= prop.keys()
    assert re.fullmatch(r"spark\.[a-z][A-Za-z]*\.[a-z][A-Za-z]*", key)
    _, group, name = key.split(".")
    # Feeding the default back in as user input must be accepted silently.
    assert load({group: {name: prop["default"]}})[1] == []


# --- layers and key shapes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ((), None),
        (({"completion": {"debounceMs": 50}},), 50),
        (({"completion": {"debounceMs": 50}}, {"completion": {"debounceMs": 80}}), 80),
        (({"completion": {"debounceMs": 50}}, {"completion": {"enabled": True}}), 50),
        (({"completion": {"debounceMs": 50}}, None), 50),
        (({"completion": {"debounceMs": 50}}, {"completion": {"debounceMs": None}}), None),
    ],
    ids=["defaults", "one", "later-wins", "later-silent", "none-layer", "null-means-adaptive"],
)
def test_layer_order(layers: tuple[Any, ...], expected: int | None) -> None:
    assert debounce(*layers) == expected


@pytest.mark.parametrize(
    "layer",
    [
        {"completion": {"debounceMs": 50}},
        {"spark": {"completion": {"debounceMs": 50}}},
        {"completion.debounceMs": 50},
        {"spark.completion.debounceMs": 50},
        {"spark": {"completion.debounceMs": 50}},
        {"completion": {"debounceMs": 50.0}},
    ],
    ids=["nested", "wrapped", "dotted", "fully-qualified", "wrapped-dotted", "integral-float"],
)
def test_key_shapes(layer: dict[str, Any]) -> None:
    assert debounce(layer) == 50


def test_null_for_non_nullable_setting_means_unset() -> None:
    settings, warnings = load({"model": {"connections": 4}}, {"model": {"connections": None}})
    assert (settings.model.connections, warnings) == (4, [])


def test_object_settings_merge_entry_by_entry() -> None:
    settings, _ = load({"completion": {"languages": {"python": False, "markdown": True}}})
    assert dict(settings.completion.languages) == {
        "*": True,
        "plaintext": False,
        "text": False,
        "mdx": False,
        "markdown": True,
        "python": False,
    }


def test_arrays_become_tuples_and_wire_round_trips() -> None:
    layer = {"context": {"exclude": ["secrets/**", "*.sql"]}, "log": {"level": "debug"}}
    settings, _ = load(layer)
    assert settings.context.exclude == ("secrets/**", "*.sql")
    assert load(settings_to_wire(settings)) == (settings, [])


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "key", "bad", "reason"),
    [
        ({"completion": {"debounceMs": "x"}}, "spark.completion.debounceMs", '"x"', "integer"),
        ({"completion": {"debounceMs": -5}}, "spark.completion.debounceMs", "-5", "at least 0"),
        ({"completion.debounceMs": 2001}, "spark.completion.debounceMs", "2001", "at most 2000"),
        ({"completion": {"debounceMs": True}}, "spark.completion.debounceMs", "true", "boolean"),
        ({"model": {"connections": 1.5}}, "spark.model.connections", "1.5", "integer"),
        ({"log": {"level": "verbose"}}, "spark.log.level", '"verbose"', "one of"),
        ({"model": {"endpoint": "ftp://x"}}, "spark.model.endpoint", '"ftp://x"', "ws://"),
        ({"model": {"name": ""}}, "spark.model.name", '""', "empty"),
        ({"context": {"exclude": ["a", 5]}}, "spark.context.exclude", "5", "item 1"),
        ({"completion": {"languages": {"go": "yes"}}}, "spark.completion.languages", "yes", "go"),
        ({"actions": {"enabled": "false"}}, "spark.actions.enabled", '"false"', "boolean"),
    ],
)
def test_bad_value_warns_once_and_keeps_default(
    layer: dict[str, Any], key: str, bad: str, reason: str
) -> None:
    settings, warnings = load(layer)
    assert settings == Settings()
    assert len(warnings) == 1
    assert key in warnings[0] and bad in warnings[0] and reason in warnings[0]


def test_bad_value_keeps_previous_layer_value_and_names_it() -> None:
    settings, warnings = load({"completion": {"debounceMs": 50}}, {"completion.debounceMs": -1})
    assert settings.completion.debounce_ms == 50
    assert warnings == [
        "Invalid value -1 for spark.completion.debounceMs: must be at least 0; using 50 instead."
    ]


def test_long_bad_value_is_truncated() -> None:
    _, [warning] = load({"model": {"name": ["x y" * 100]}})
    assert "…" in warning and len(warning) < 250


@pytest.mark.parametrize(
    ("layer", "fragment"),
    [
        ({"completion": {"debounce": 1}}, "did you mean spark.completion.debounceMs?"),
        ({"completion": {"multiLine": 1}}, "did you mean spark.completion.multiline?"),
        ({"completion": {"debounce_ms": 1}}, "did you mean spark.completion.debounceMs?"),
        ({"nonsense": {"a": 1, "b": 2}}, "Unknown setting spark.nonsense ignored."),
        ({"completion": 5}, "Ignored spark.completion: expected an object"),
        ({"spark": "on"}, "Ignored spark: expected an object"),
    ],
)
def test_unknown_keys_warn_with_their_name(layer: dict[str, Any], fragment: str) -> None:
    settings, warnings = load(layer)
    assert settings == Settings()
    assert len(warnings) == 1 and fragment in warnings[0]


def test_layer_that_is_not_an_object_is_ignored_with_a_warning() -> None:
    settings, warnings = load_settings(["nope"], env=NO_ENV)  # type: ignore[arg-type]
    assert settings == Settings() and "expected an object" in warnings[0]


# --- environment ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "endpoint", "name", "warned"),
    [
        ({"SPARK_LSP_ENDPOINT": "ws://localhost:9"}, "ws://localhost:9", "from-layer", False),
        ({"SPARK_LSP_MODEL": "env-model"}, "wss://layer/v1", "env-model", False),
        ({"SPARK_LSP_ENDPOINT": "ftp://localhost:9"}, "wss://layer/v1", "from-layer", True),
        ({"SPARK_LSP_ENDPOINT": "  "}, "wss://layer/v1", "from-layer", False),
    ],
    ids=["endpoint", "model", "bad-endpoint", "blank-ignored"],
)
def test_environment_overrides_every_layer(
    env: dict[str, str], endpoint: str, name: str, warned: bool
) -> None:
    layer = {"model": {"endpoint": "wss://layer/v1", "name": "from-layer"}}
    settings, warnings = load(layer, env=env)
    assert (settings.model.endpoint, settings.model.name) == (endpoint, name)
    assert bool(warnings) == warned
    if warned:
        assert "spark.model.endpoint (from $SPARK_LSP_ENDPOINT)" in warnings[0]


# --- endpoint resolution and secrets -------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "env", "expected"),
    [
        ({"model.endpoint": "wss://h/v1"}, {"OPENAI_API_KEY": KEY}, ("wss://h/v1", KEY, False)),
        ({"model.endpoint": "ws://127.0.0.1:8"}, {}, ("ws://127.0.0.1:8", None, False)),
        ({}, {"OPENAI_API_KEY": KEY}, (OPENAI_ENDPOINT, KEY, False)),
        ({"model.apiKeyEnv": "MY_KEY"}, {"MY_KEY": KEY}, (OPENAI_ENDPOINT, KEY, False)),
        ({"model.apiKeyEnv": "MY_KEY"}, {"OPENAI_API_KEY": KEY}, (None, None, True)),
        ({}, {"OPENAI_API_KEY": ""}, (None, None, True)),
        ({}, {}, (None, None, True)),
    ],
    ids=["remote", "remote-no-key", "openai", "custom-var", "wrong-var", "empty-key", "bundled"],
)
def test_resolve_endpoint(
    layer: dict[str, Any], env: dict[str, str], expected: tuple[str | None, str | None, bool]
) -> None:
    settings, _ = load(layer)
    assert resolve_endpoint(settings, env) == ResolvedEndpoint(*expected)


def test_api_key_never_in_repr_or_str() -> None:
    resolved = resolve_endpoint(Settings(), {"OPENAI_API_KEY": KEY})
    assert resolved.api_key == KEY
    assert KEY not in repr(resolved) and KEY not in str(resolved)


def test_key_pasted_into_a_setting_is_not_echoed() -> None:
    _, warnings = load({"model": {"apiKeyEnv": KEY}})
    assert len(warnings) == 1 and "spark.model.apiKeyEnv" in warnings[0]
    assert KEY not in warnings[0] and "sk-" not in warnings[0]


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        (f"auth {KEY} failed", [KEY], f"auth {REDACTED} failed"),
        ("abcdefghij abcdefghi", ["abcdefghi", "abcdefghij", None, ""],
         f"{REDACTED} {REDACTED}"),
        ("nothing here", [], "nothing here"),
    ],
)
def test_registered_secrets_are_scrubbed(
    text: str, secrets: list[str | None], expected: str
) -> None:
    """The configured key is hidden by the one scrubber (longest first, so a secret that
    contains another is hidden whole; empty and missing secrets are skipped)."""
    scrubber = Scrubber()
    for secret in secrets:
        scrubber.register(secret)
    assert scrubber.scrub(text) == expected


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "language", "expected"),
    [
        ({}, "python", True),
        ({}, "markdown", False),
        ({"completion.languages": {"*": False, "rust": True}}, "rust", True),
        ({"completion.languages": {"*": False}}, "python", False),
        ({"completion.enabled": False}, "python", False),
    ],
)
def test_language_enabled(layer: dict[str, Any], language: str, expected: bool) -> None:
    settings, _ = load(layer)
    assert language_enabled(settings, language) is expected


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.model.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.completion.languages["python"] = False  # type: ignore[index]
