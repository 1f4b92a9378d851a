"""Settings: one typed, defaulted tree, validated against ``settings_schema.json``.

The JSON schema is the single source of truth: it will generate the VS Code
``contributes.configuration``, the JetBrains LSP4IJ settings schema and the docs, so types, ranges
and defaults are read from it here rather than restated per field. The frozen dataclasses below
give the rest of the server typed attribute access; a unit test keeps them and the schema in step.

Editors send settings in every shape (nested, dotted, wrapped in ``"spark"``) and users make
mistakes. A bad value must never stop completions, so loading never raises: each problem becomes
one warning naming the full key, and the value from the previous layer stays in force.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from spark_lsp.errors import ConfigError
from spark_lsp.shared.scrub import MAX_KEY_CHARS, key_problem, register_secret
from spark_lsp.shared.user_config import read_user_config

PREFIX = "spark"
SCHEMA_FILE = "settings_schema.json"
#: Where requests go when no endpoint is configured but an API key is available.
OPENAI_ENDPOINT = "wss://api.openai.com/v1/responses"
#: Environment variables applied after every settings layer, for scripts, CI and benchmarks.
ENV_OVERRIDES: Mapping[str, str] = MappingProxyType(
    {
        "SPARK_LSP_ENDPOINT": "spark.model.endpoint",
        "SPARK_LSP_MODEL": "spark.model.name",
        "SPARK_LSP_TRANSPORT": "spark.model.transport",
        "SPARK_LSP_API": "spark.model.api",
    }
)

#: How a key read by ``spark.model.apiKeyCommand`` is named in messages about it.
KEY_COMMAND_SOURCE = "the output of spark.model.apiKeyCommand"

#: The ``initializationOptions`` key under which a client names the spark extensions it
#: supports (``{"experimental": {"nextEdit": true}}``); it holds no settings.
CLIENT_OPTIONS_KEY = "experimental"

LogLevel = Literal["error", "warning", "info", "debug"]

_SHOW_LIMIT = 80
# Strings that look like credentials are never echoed back in warnings: users do paste their
# key into ``apiKeyEnv`` or into an endpoint's query string.
_SECRET_LIKE = re.compile(r"sk-[A-Za-z0-9_-]{8,}|[A-Za-z0-9_+/=-]{32,}")


#: The model asked for when nothing else is configured (the settings' and the wire's default).
DEFAULT_MODEL = "gpt-5.3-codex-spark"


@dataclass(frozen=True)
class ModelSettings:
    """Which model to talk to and how to keep the WebSocket session healthy."""

    endpoint: str | None = None
    name: str = DEFAULT_MODEL
    reasoning_effort: str | None = "low"
    reasoning_tokens: int = 512
    api_key_env: str = "OPENAI_API_KEY"
    api_key_command: str | None = None
    connections: int = 2
    rotate_after_seconds: int = 3300
    stall_timeout_ms: int = 10_000
    connect_timeout_ms: int = 5_000
    transport: Literal["auto", "websocket", "http"] = "auto"
    api: Literal["responses", "chat"] = "responses"
    proxy: str | None = None
    ca_file: str | None = None


def _default_languages() -> Mapping[str, bool]:
    return MappingProxyType(
        {"*": True, "plaintext": False, "text": False, "markdown": False, "mdx": False}
    )


@dataclass(frozen=True)
class CompletionSettings:
    """Inline completions; ``debounce_ms=None`` means adaptive."""

    enabled: bool = True
    debounce_ms: int | None = None
    max_output_tokens: int = 128
    multiline: bool = True
    languages: Mapping[str, bool] = field(default_factory=_default_languages)
    context_tokens: int = 2048
    prefetch_on_accept: bool = True
    trigger: Literal["automatic", "manual"] = "automatic"
    #: Suggestions asked for on an explicit request (the editor's trigger key), to cycle through.
    alternatives: int = 3
    #: How long a request may wait on the model before the status says "thinking".
    thinking_after_ms: int = 400


@dataclass(frozen=True)
class ContextSettings:
    """What may be sent to the model, and how much of it."""

    max_tokens: int = 128_000
    exclude: tuple[str, ...] = ()
    cross_file: bool = True
    edit_tokens: int = 8192
    project: bool = True
    project_tokens: int = 8192


@dataclass(frozen=True)
class ActionSettings:
    """AI code actions (quick fixes and rewrites)."""

    enabled: bool = True
    syntax_diagnostics: bool = False
    custom: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class NextEditSettings:
    """Next-edit predictions; ``debounce_ms=None`` means the learned typing rhythm."""

    enabled: bool = True
    window_lines: int = 40
    debounce_ms: int | None = None


@dataclass(frozen=True)
class LogSettings:
    """Verbosity of the server log."""

    level: LogLevel = "info"


@dataclass(frozen=True)
class Settings:
    """The whole settings tree; ``Settings()`` is the defaults."""

    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)
    log: LogSettings = field(default_factory=LogSettings)


@dataclass(frozen=True)
class ResolvedEndpoint:
    """Where to connect and with which key; ``bundled`` means start the local model server.

    The key is kept out of ``repr``/``str`` so logging this object cannot leak it (but
    ``dataclasses.asdict`` would include it: do not serialise this object).
    """

    url: str | None
    api_key: str | None = field(default=None, repr=False)
    bundled: bool = False


# --- schema --------------------------------------------------------------------------------------


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("spark_lsp").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def settings_schema() -> dict[str, Any]:
    """Return a copy of the settings schema, for generating editor manifests and docs."""
    return copy.deepcopy(_schema())


def _properties() -> Mapping[str, Mapping[str, Any]]:
    props: Mapping[str, Mapping[str, Any]] = _schema()["properties"]
    return props


@cache
def machine_keys() -> frozenset[str]:
    """Settings with ``"scope": "machine"``: they run a program or decide where the key goes.

    They are read only from the environment, ``initializationOptions`` and the user config
    file, never from the workspace's settings, which a cloned repository can supply.
    """
    return frozenset(k for k, schema in _properties().items() if schema.get("scope") == "machine")


@cache
def _groups() -> frozenset[str]:
    """Every key that names a group of settings (``spark``, ``spark.model``, ...)."""
    return frozenset(key.rpartition(".")[0] for key in _properties()) | {PREFIX}


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _field_path(key: str) -> tuple[str, str]:
    """``spark.completion.debounceMs`` -> ``("completion", "debounce_ms")``."""
    _, group, name = key.split(".")
    return _snake(group), _snake(name)


# --- validation, driven by the schema -----------------------------------------------------------


def _is_integer(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


_TYPE_CHECKS: Mapping[str, Callable[[Any], bool]] = MappingProxyType(
    {
        "null": lambda v: v is None,
        "boolean": lambda v: isinstance(v, bool),
        "integer": _is_integer,
        "number": _is_number,
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, list | tuple),
        "object": lambda v: isinstance(v, Mapping),
    }
)


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _json_type(value: Any) -> str:
    names = (name for name, check in _TYPE_CHECKS.items() if check(value))
    return next(names, type(value).__name__)


def _check(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Return why ``value`` breaks ``schema``, or None when it conforms."""
    types = _types(schema)
    if types and not any(_TYPE_CHECKS[t](value) for t in types):
        return f"expected {' or '.join(types)}, got {_json_type(value)}"
    checks = (
        _check_range,
        _check_enum,
        _check_string,
        _check_items,
        _check_entries,
        _check_properties,
    )
    return next((reason for check in checks if (reason := check(value, schema))), None)


def _check_range(value: Any, schema: Mapping[str, Any]) -> str | None:
    if not _is_number(value):
        return None
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and value < low:
        return f"must be at least {low}"
    if high is not None and value > high:
        return f"must be at most {high}"
    return None


def _check_enum(value: Any, schema: Mapping[str, Any]) -> str | None:
    allowed = schema.get("enum")
    if allowed is None or value in allowed:
        return None
    return "must be one of " + ", ".join(json.dumps(a) for a in allowed)


def _check_string(value: Any, schema: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return None
    if len(value) < schema.get("minLength", 0):
        return "must not be empty" if schema["minLength"] == 1 else "is too short"
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        return str(schema.get("patternErrorMessage", f"must match {pattern}"))
    return None


def _check_items(value: Any, schema: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list | tuple) or "items" not in schema:
        return None
    for index, item in enumerate(value):
        if reason := _check(item, schema["items"]):
            return f"item {index} ({_show(item)}) {reason}"
    return None


def _check_entries(value: Any, schema: Mapping[str, Any]) -> str | None:
    extra = schema.get("additionalProperties")
    if not isinstance(value, Mapping) or not isinstance(extra, Mapping):
        return None
    for name, entry in value.items():
        if reason := _check(entry, schema["additionalProperties"]):
            return f"entry {json.dumps(str(name))} ({_show(entry)}) {reason}"
    return None


def _check_properties(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Objects with declared properties: required ones present, each valid, no unknown ones."""
    if not isinstance(value, Mapping) or "properties" not in schema:
        return None
    properties: Mapping[str, Any] = schema["properties"]
    missing = [name for name in schema.get("required", ()) if name not in value]
    if missing:
        return f"needs {', '.join(missing)}"
    for name, entry in value.items():
        if name not in properties:
            return f"has an unknown key {json.dumps(str(name))}"
        if reason := _check(entry, properties[name]):
            return f"{name} {reason}"
    return None


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """Turn valid JSON into the dataclass's immutable form (tuples, read-only mappings, ints)."""
    if isinstance(value, float) and "integer" in _types(schema):
        return int(value)
    if isinstance(value, list | tuple):
        return tuple(_coerce(item, schema.get("items", {})) for item in value)
    if isinstance(value, Mapping):
        extra = schema.get("additionalProperties", {})
        entry_schema = extra if isinstance(extra, Mapping) else {}
        properties = schema.get("properties", {})
        return MappingProxyType(
            {str(k): _coerce(v, properties.get(k, entry_schema)) for k, v in value.items()}
        )
    return value


def _to_wire(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_wire(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _to_wire(item) for key, item in value.items()}
    return value


def _show(value: Any) -> str:
    """Render a user's value for a warning: JSON, truncated, never a secret."""
    text = json.dumps(_to_wire(value), ensure_ascii=False, default=repr)
    if _SECRET_LIKE.search(text):
        return "<hidden: looks like a secret>"
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 1] + "…"


# --- merging layers ------------------------------------------------------------------------------


def _entries(layer: Mapping[Any, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Yield ``(full key, value)`` whatever mix of nesting, dots and ``"spark"`` wrapping is used.

    Recursion stops at a known setting (so object-valued settings arrive whole) and at unknown
    keys (so a misspelt group yields one warning, not one per leaf).
    """
    for raw, value in layer.items():
        if not path and raw == CLIENT_OPTIONS_KEY:
            continue  # what the client supports, not a setting
        parts = path + tuple(str(raw).split("."))
        if parts[0] == PREFIX:
            parts = parts[1:]
        key = ".".join((PREFIX, *parts))
        if key in _groups() and key not in _properties() and isinstance(value, Mapping):
            yield from _entries(value, parts)
        else:
            yield key, value


def _normalised(key: str) -> str:
    return key.replace("_", "").lower()


def _suggest(key: str) -> str | None:
    """Name the setting the user probably meant (snake_case or a typo)."""
    known = list(_properties())
    exact = [k for k in known if _normalised(k) == _normalised(key)]
    if exact:
        return exact[0]
    # Compare without the shared "spark." so it cannot make unrelated names look alike.
    names = {k.removeprefix(PREFIX + "."): k for k in known}
    close = difflib.get_close_matches(key.removeprefix(PREFIX + "."), names, n=1, cutoff=0.7)
    return names[close[0]] if close else None


#: Where a value came from, as ``doctor`` reports it.
DEFAULT_ORIGIN = "default"
INIT_ORIGIN = "initializationOptions"
WORKSPACE_ORIGIN = "workspace settings"
#: Lists a workspace may add to but never shorten: a cloned repository's settings that replaced
#: ``spark.context.exclude`` would drop the user's own patterns (their notes, their ``*.local``
#: secrets) and send those files to the model.
EXTENDED_BY_WORKSPACE = frozenset({"spark.context.exclude"})


class _Merger:
    """Accumulates validated values layer by layer, collecting warnings instead of raising."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {
            key: _coerce(schema.get("default"), schema) for key, schema in _properties().items()
        }
        self.origins: dict[str, str] = dict.fromkeys(self.values, DEFAULT_ORIGIN)
        self.warnings: list[str] = []
        #: Machine-scoped values the workspace tried to set, judged once every layer is in.
        self.from_workspace: dict[str, Any] = {}

    def apply_layer(self, layer: Any, origin: str = INIT_ORIGIN, *, trusted: bool = True) -> None:
        if layer is None:
            return
        if not isinstance(layer, Mapping):
            self.warnings.append(f"Ignored settings: expected an object, got {_json_type(layer)}.")
            return
        for key, value in _entries(layer):
            if not trusted and key in machine_keys():
                self.from_workspace[key] = value
                continue
            extend = not trusted and key in EXTENDED_BY_WORKSPACE
            self.apply(key, value, origin=origin, extend=extend)

    def apply_env(self, env: Mapping[str, str]) -> None:
        for var, key in ENV_OVERRIDES.items():
            if value := env.get(var, "").strip():
                self.apply(key, value, origin=f"${var}", shown=f" (from ${var})")

    def apply(
        self, key: str, value: Any, origin: str = INIT_ORIGIN, shown: str = "", extend: bool = False
    ) -> None:
        schema = _properties().get(key)
        if schema is None:
            self.warnings.append(self._unknown(key, value))
            return
        if value is None and "null" not in _types(schema):
            return  # Clients send null for "not set"; the previous layer's value stands.
        if reason := _check(value, schema):
            bad, kept = _show(value), _show(self.values[key])
            self.warnings.append(
                f"Invalid value {bad} for {key}{shown}: {reason}; using {kept} instead."
            )
            return
        new = _coerce(value, schema)
        previous = self.values[key]
        if extend:  # the earlier layers' entries stay, the workspace's come after them
            new = (*previous, *(item for item in new if item not in previous))
            if self.origins[key] != DEFAULT_ORIGIN:
                origin = f"{self.origins[key]} + {origin}"
        self.values[key] = self._merged(previous, new)
        self.origins[key] = origin

    def ignored_from_workspace(self) -> tuple[str, ...]:
        """The machine-scoped keys whose workspace value differs from the one in force.

        A client that sends every setting (the user's own included) repeats the machine value:
        that is no attempt to change it and deserves no warning. ``null`` means "not set".
        """
        ignored = []
        for key, value in self.from_workspace.items():
            if value is None:
                continue
            schema = _properties()[key]
            same = _check(value, schema) is None and _coerce(value, schema) == self.values[key]
            if not same:
                ignored.append(key)
        return tuple(sorted(ignored))

    @staticmethod
    def _merged(previous: Any, new: Any) -> Any:
        """Object settings merge key by key, so users list only the entries they change."""
        if isinstance(previous, Mapping) and isinstance(new, Mapping):
            return MappingProxyType({**previous, **new})
        return new

    @staticmethod
    def _unknown(key: str, value: Any) -> str:
        if key in _groups():
            return f"Ignored {key}: expected an object of settings, got {_json_type(value)}."
        suggestion = _suggest(key)
        hint = f"; did you mean {suggestion}?" if suggestion else "."
        return f"Unknown setting {key} ignored{hint}"

    def build(self) -> Settings:
        groups: dict[str, dict[str, Any]] = {}
        for key, value in self.values.items():
            group, name = _field_path(key)
            groups.setdefault(group, {})[name] = value
        group_types = typing.get_type_hints(Settings)
        return Settings(**{group: group_types[group](**kw) for group, kw in groups.items()})


# --- public API ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedSettings:
    """The merged settings and what a person may need to know about them."""

    settings: Settings
    warnings: list[str]
    #: Full key -> where its value came from (``default``, the user config file's path,
    #: ``initializationOptions``, ``workspace settings`` or ``$VARIABLE``).
    origins: Mapping[str, str]
    #: Machine-scoped keys the workspace's settings tried to change (ignored).
    ignored: tuple[str, ...] = ()
    user_config: Path | None = None


def load_settings_traced(
    *layers: Mapping[str, Any] | None,
    workspace: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Merge every source, lowest priority first, remembering where each value came from.

    Order: defaults < the user config file (``$XDG_CONFIG_HOME/spark-lsp/config.json``) <
    ``layers`` (``initializationOptions``) < ``workspace`` (the ``workspace/configuration``
    answer) < environment overrides. ``workspace`` never sets a machine-scoped key (see
    :func:`machine_keys`): one a repository could supply would run its program or send the key
    to its server. ``env`` defaults to ``os.environ``; never raises on user input.
    """
    environ = os.environ if env is None else env
    merger = _Merger()
    user = read_user_config(environ)
    if user.problem is not None:
        merger.warnings.append(user.problem[0].upper() + user.problem[1:] + ".")
    merger.apply_layer(user.layer, str(user.path))
    for layer in layers:
        merger.apply_layer(layer)
    merger.apply_layer(workspace, WORKSPACE_ORIGIN, trusted=False)
    merger.apply_env(environ)
    return LoadedSettings(
        merger.build(),
        merger.warnings,
        MappingProxyType(merger.origins),
        merger.ignored_from_workspace(),
        user.path,
    )


def load_settings(
    *layers: Mapping[str, Any] | None,
    workspace: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Settings, list[str]]:
    """:func:`load_settings_traced`, returning only the settings and the warnings."""
    loaded = load_settings_traced(*layers, workspace=workspace, env=env)
    return loaded.settings, loaded.warnings


def ignored_machine_warning(keys: Iterable[str], user_config: Path | None) -> str:
    """The one warning for workspace values of machine-scoped keys (never their values)."""
    where = str(user_config) if user_config is not None else "~/.config/spark-lsp/config.json"
    names = ", ".join(keys)
    return (
        f"Ignored {names} from the workspace settings: settings that run a program or decide "
        "where your API key goes are read only from the environment, initializationOptions "
        f"or {where}, never from a project's settings."
    )


#: Shown instead of the key command's text: it may carry a vault path or the key itself.
HIDDEN_COMMAND = "(set; hidden)"
_PROXY_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*://)?)[^/@]*@")


def settings_to_wire(settings: Settings) -> dict[str, Any]:
    """The settings as nested camelCase JSON (``spark/stats``, ``doctor``); holds no secrets.

    The key command is replaced by a placeholder, and a proxy's ``user:password@`` is dropped
    whether or not the proxy is written with a scheme (the scrubber only knows URLs with one).
    """
    wire: dict[str, dict[str, Any]] = {}
    for key in _properties():
        _, group, name = key.split(".")
        value = getattr(getattr(settings, _snake(group)), _snake(name))
        wire.setdefault(group, {})[name] = _to_wire(value)
    model = wire["model"]
    if model["apiKeyCommand"] is not None:
        model["apiKeyCommand"] = HIDDEN_COMMAND
    if model["proxy"] is not None:
        model["proxy"] = _PROXY_USERINFO.sub(r"\1[redacted]@", model["proxy"])
    return dict(wire)


def language_enabled(settings: Settings, language_id: str) -> bool:
    """Whether to offer completions in ``language_id``: the master switch, then the per-language
    map, then its ``"*"`` entry."""
    languages = settings.completion.languages
    return settings.completion.enabled and languages.get(language_id, languages.get("*", True))


def client_supports(init_options: Any, extension: str) -> bool:
    """Whether the client announced ``extension`` under ``initializationOptions.experimental``.

    spark-lsp's own protocol extensions (``spark/nextEdit``) are off for clients that did not
    ask for them, so a client without support never receives their notifications.
    """
    if not isinstance(init_options, Mapping):
        return False
    announced = init_options.get(CLIENT_OPTIONS_KEY)
    return isinstance(announced, Mapping) and announced.get(extension) is True


def resolve_endpoint(
    settings: Settings, env: Mapping[str, str] | None = None, api_key: str | None = None
) -> ResolvedEndpoint:
    """Decide where to connect: the configured URL, else OpenAI when a key exists, else bundled.

    The key is ``api_key`` (read by ``spark.model.apiKeyCommand``) or comes from the environment
    variable named by ``spark.model.apiKeyEnv`` (defaults to ``os.environ``), so it never passes
    through settings, logs or status output. A key with a control or invisible character raises
    ConfigError naming the variable.
    """
    environ = os.environ if env is None else env
    if api_key is not None:
        source, raw_key = KEY_COMMAND_SOURCE, api_key
    else:
        source = "$" + settings.model.api_key_env
        raw_key = environ.get(settings.model.api_key_env, "")
    # One check for every source: too long, or a control/invisible character (named, never
    # shown). A key too long to be one is not registered (that would cost seconds per MB).
    problem = key_problem(source, raw_key)
    if len(raw_key) <= MAX_KEY_CHARS:
        register_secret(raw_key)  # hidden from every message in every form, even a damaged one
    if problem is not None:
        raise ConfigError(problem)
    api_key = raw_key.strip() or None
    if settings.model.endpoint:
        return ResolvedEndpoint(settings.model.endpoint, api_key)
    if api_key:
        return ResolvedEndpoint(OPENAI_ENDPOINT, api_key)
    return ResolvedEndpoint(None, None, bundled=True)

