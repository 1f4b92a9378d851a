"""The LSP4IJ template in ``editor-clients/jetbrains``.

No JetBrains IDE runs here, so the files are checked against the fields LSP4IJ reads
(``ServerTemplateJsonDeserializer``, ``LanguageServerTemplateDeserializer``), the settings are
passed through a port of LSP4IJ's ``SettingsHelper`` (``expandConfiguration`` + section lookup)
and the command line in ``template.json`` is started and spoken to over stdio.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.clients.conftest import BIN_DIR, REPO
from tests.clients.lsp_stdio import LspProcess

TEMPLATE_DIR = REPO / "editor-clients" / "jetbrains"
GENERATOR = REPO / "scripts" / "gen_editor_settings.py"
#: Top-level keys LSP4IJ's template deserializers read (anything else is silently ignored).
TEMPLATE_KEYS = {"id", "name", "url", "dev", "programArgs", "env", "workingDir",
                 "fileTypeMappings", "languageMappings", "expandConfiguration",
                 "disablePromotionFor"}
OS_KEYS = {"default", "windows", "mac", "unix"}


def _json(name: str) -> Any:
    return json.loads((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_editor_settings", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --- a port of LSP4IJ's SettingsHelper (parseJson with expand, findSettings) -----------------


def _flatten(element: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(element, dict):
        return {prefix: element}
    flat: dict[str, Any] = {}
    for key, value in element.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
    return flat


def lsp4ij_parse(text: str, expand: bool) -> Any:
    """``SettingsHelper.parseJson``: dotted keys become nested objects when ``expand``."""
    parsed = json.loads(text)
    if not expand or not isinstance(parsed, dict) or not any("." in k for k in parsed):
        return parsed
    root: dict[str, Any] = {}
    for dotted, value in _flatten(parsed).items():
        node = root
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return root


def lsp4ij_find_settings(section: str, parent: dict[str, Any]) -> Any:
    """``SettingsHelper.findSettings``: what LSP4IJ answers for ``workspace/configuration``."""
    if section in parent:
        return parent[section]
    current: Any = parent
    for part in section.split("."):
        if not isinstance(current, dict) or part not in current:
            break
        current = current[part]
    else:
        return current
    parts = section.split(".")
    kept = {k: v for k, v in parent.items() if k.split(".")[: len(parts)] == parts}
    return kept or None


# --- a small JSON Schema (draft-07 subset) check for settings.json --------------------------

_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def schema_errors(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Why ``value`` breaks ``schema`` (the keywords the generated schema uses)."""
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types
    if types and not any(_TYPES[t](value) for t in types):
        return [f"{where}: {value!r} is not {types}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                errors += schema_errors(item, props[key], f"{where}.{key}")
            elif extra is False:
                errors.append(f"{where}: unknown key {key!r}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, f"{where}.{key}")
    return errors


# --- the files --------------------------------------------------------------------------------


def test_template_has_the_fields_lsp4ij_reads() -> None:
    template = _json("template.json")
    assert set(template) <= TEMPLATE_KEYS, set(template) - TEMPLATE_KEYS
    assert isinstance(template["id"], str) and re.fullmatch(r"[a-z0-9-]+", template["id"])
    assert isinstance(template["name"], str) and template["name"].strip()
    args = template["programArgs"]
    assert set(args) <= OS_KEYS and isinstance(args.get("default"), str), args
    assert all(isinstance(v, str) and v.strip() for v in args.values())
    assert shlex.split(args["windows"], posix=False) == ["spark-lsp.exe", "--stdio"]
    env = template["env"]
    assert isinstance(env["includeSystemEnvironmentVariables"], bool)
    assert env["includeSystemEnvironmentVariables"], "the key comes from the user's environment"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in env["variables"].items())
    assert template["expandConfiguration"] is True, "settings.json uses dotted keys"


def test_template_maps_common_languages_once() -> None:
    template = _json("template.json")
    owner: dict[str, str] = {}
    language_ids = set()
    for mapping in template["fileTypeMappings"]:
        file_type = mapping["fileType"]
        assert isinstance(file_type, dict) and ("patterns" in file_type or "name" in file_type)
        language_id = mapping["languageId"]
        assert isinstance(language_id, str) and re.fullmatch(r"[a-z0-9]+", language_id)
        language_ids.add(language_id)
        for pattern in file_type.get("patterns", []):
            assert isinstance(pattern, str) and pattern.strip(), mapping
            assert owner.setdefault(pattern, language_id) == language_id, f"{pattern} twice"
    for mapping in template.get("languageMappings", []):
        assert isinstance(mapping["language"], str) and isinstance(mapping["languageId"], str)
    common = {"python", "java", "kotlin", "javascript", "typescript", "go", "rust", "c", "cpp"}
    assert common <= language_ids, common - language_ids


def test_settings_json_conforms_to_settings_schema_json() -> None:
    settings, schema = _json("settings.json"), _json("settings.schema.json")
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(settings) == set(schema["properties"]), "settings.json lists every setting"
    assert schema_errors(settings, schema, "settings") == []
    bad = {**settings, "spark.completion.maxOutputTokens": 1, "spark.model.endpoint": "ftp://x"}
    assert len(schema_errors(bad, schema, "settings")) == 2, "the schema check can fail"
    assert schema_errors({"spark.typo": 1}, schema, "settings") == ["settings: unknown key "
                                                                    "'spark.typo'"]


def test_initialization_options_is_a_json_object() -> None:
    assert isinstance(_json("initializationOptions.json"), dict)


def test_generated_settings_are_up_to_date() -> None:
    proc = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                          text=True, timeout=30, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_drift_is_detected(tmp_path: Path) -> None:
    gen = _generator()
    schema = gen.load_schema()
    schema["properties"]["spark.completion.maxOutputTokens"]["default"] = 99
    changed = tmp_path / "settings_schema.json"
    changed.write_text(json.dumps(schema), encoding="utf-8")
    assert gen.main(["--check", "--schema", str(changed)]) == 1
    assert gen.drifted(gen.default_targets(), schema) == [
        TEMPLATE_DIR / "settings.json", TEMPLATE_DIR / "settings.schema.json"]
    assert gen.drifted(gen.default_targets(), gen.load_schema()) == []


def test_generator_targets_render_the_schema() -> None:
    gen = _generator()
    schema = gen.load_schema()
    # Machine-scoped settings never come from workspace/configuration: not in settings.json.
    keys = [k for k, prop in schema["properties"].items() if prop.get("scope") != "machine"]
    assert "spark.model.endpoint" not in keys and "spark.model.apiKeyCommand" not in keys
    assert list(gen.jetbrains_settings(schema)) == keys
    assert list(gen.jetbrains_settings_schema(schema)["properties"]) == keys
    assert gen.vscode_configuration(schema)["properties"] == schema["properties"]
    assert gen.nested({"spark.a.b": 1, "spark.a.c": 2}) == {"spark": {"a": {"b": 1, "c": 2}}}


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def template_server(client_env: dict[str, str], workspace: Path) -> Any:
    """The server started from ``programArgs.default``, as LSP4IJ would on Linux/macOS."""
    argv = shlex.split(_json("template.json")["programArgs"]["default"])
    assert argv[0] == "spark-lsp" and (BIN_DIR / "spark-lsp").exists()
    server = LspProcess(argv, client_env, workspace)
    yield server
    tail = server.stderr_tail()
    assert server.close() == 0, tail


def test_template_command_starts_the_server(template_server: LspProcess, workspace: Path) -> None:
    capabilities = {
        "workspace": {"configuration": True, "workspaceFolders": True},
        "textDocument": {"inlineCompletion": {"dynamicRegistration": False},
                         "completion": {}, "codeAction": {"resolveSupport": {"properties":
                                                                             ["edit"]}}},
    }
    result = template_server.request("initialize", {
        "processId": None, "rootUri": workspace.as_uri(), "capabilities": capabilities,
        "workspaceFolders": [{"uri": workspace.as_uri(), "name": "workspace"}],
    })
    assert result["serverInfo"]["name"] == "spark-lsp"
    server_capabilities = result["capabilities"]
    assert "inlineCompletionProvider" in server_capabilities
    assert "completionProvider" in server_capabilities, "the fallback for JetBrains' own client"


def test_lsp4ij_settings_reach_the_server(template_server: LspProcess, workspace: Path) -> None:
    """What a user edits in LSP4IJ's Configuration tab is what the server uses."""
    edited = _json("settings.json")
    edited["spark.completion.maxOutputTokens"] = 64
    edited["spark.completion.languages"] = {"*": True, "python": False}
    store = lsp4ij_parse(json.dumps(edited), expand=_json("template.json")["expandConfiguration"])

    def configuration(request: dict[str, Any]) -> Any:
        assert request["method"] == "workspace/configuration"
        return [lsp4ij_find_settings(item.get("section", ""), store)
                for item in request["params"]["items"]]

    template_server.request("initialize", {
        "processId": None, "rootUri": workspace.as_uri(),
        "capabilities": {"workspace": {"configuration": True}},
    })
    template_server.notify("initialized", {})
    deadline = time.monotonic() + 10
    while True:
        stats = template_server.request("spark/stats", None, on_request=configuration)
        if stats["settings"]["completion"]["maxOutputTokens"] == 64:
            break
        assert time.monotonic() < deadline, stats["settings"]
        time.sleep(0.1)
    assert stats["settings"]["completion"]["languages"]["python"] is False
    assert stats["settings"]["model"]["name"] == edited["spark.model.name"]
    warnings = [n["params"]["message"] for n in template_server.notifications
                if n["method"] == "window/showMessage"]
    assert warnings == [], "LSP4IJ's settings produced warnings"
