"""Generate the editor clients' settings files from ``spark_lsp/settings_schema.json``.

The schema (VS Code ``contributes.configuration`` form) is the single source of truth; every
editor file derived from it is a *target*: a path plus a function that renders the file's text
from the schema (and, for files that hold more than settings, the file's current text).

    python scripts/gen_editor_settings.py           # rewrite the targets that changed
    python scripts/gen_editor_settings.py --check   # exit 1 when a target is out of date

Other generators import this module and add targets, e.g. the VS Code client's ``package.json``::

    import gen_editor_settings as gen
    gen.main(targets=[*gen.default_targets(), gen.Target(path, render_package_json)])
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "spark_lsp" / "settings_schema.json"
JETBRAINS_DIR = ROOT / "editor-clients" / "jetbrains"
JSON_SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#"

#: Keywords that JSON Schema validators understand; VS Code's extras (scope,
#: patternErrorMessage, enumDescriptions, markdownDescription, order...) are left out.
STANDARD_KEYWORDS = (
    "type", "description", "default", "enum", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "items", "minItems", "maxItems",
    "uniqueItems", "properties", "additionalProperties", "required", "format",
)

Schema = dict[str, Any]
Render = Callable[[Schema, str | None], str]


@dataclass(frozen=True)
class Target:
    """One generated file: ``render(schema, current_text_or_None)`` returns its full text."""

    path: Path
    render: Render


def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    """The settings schema as parsed JSON."""
    schema: Schema = json.loads(path.read_text(encoding="utf-8"))
    return schema


def properties(schema: Schema) -> dict[str, dict[str, Any]]:
    """Dotted setting key (``spark.model.name``) -> its property schema, in schema order."""
    props: dict[str, dict[str, Any]] = schema["properties"]
    return props


def defaults(schema: Schema) -> dict[str, Any]:
    """Dotted setting key -> default value (``None`` for settings whose default is null)."""
    return {key: copy.deepcopy(prop.get("default")) for key, prop in properties(schema).items()}


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``: the shape servers get from workspace/configuration."""
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = copy.deepcopy(value)
    return tree


def standard_property(prop: dict[str, Any]) -> dict[str, Any]:
    """A property schema reduced to standard JSON Schema keywords (recursively)."""
    out: dict[str, Any] = {}
    if "description" not in prop and "markdownDescription" in prop:
        out["description"] = prop["markdownDescription"]
    for keyword in STANDARD_KEYWORDS:
        if keyword not in prop:
            continue
        value = copy.deepcopy(prop[keyword])
        if keyword == "items" and isinstance(value, dict):
            value = standard_property(value)
        elif keyword == "additionalProperties" and isinstance(value, dict):
            value = standard_property(value)
        elif keyword == "properties":
            value = {name: standard_property(sub) for name, sub in value.items()}
        out[keyword] = value
    return out


def render_json(data: Any) -> str:
    """Stable JSON text: two-space indent, key order kept, trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- JetBrains (LSP4IJ user-defined server template) ------------------------------------------


def jetbrains_settings(schema: Schema) -> dict[str, Any]:
    """``settings.json``: every setting at its default, with VS Code-style dotted keys.

    ``template.json`` sets ``expandConfiguration``, so LSP4IJ expands the dotted keys into the
    nested ``spark`` section before it answers ``workspace/configuration``.
    """
    return defaults(schema)


def jetbrains_settings_schema(schema: Schema) -> dict[str, Any]:
    """``settings.schema.json``: the draft-07 schema LSP4IJ uses to check ``settings.json``."""
    return {
        "$schema": JSON_SCHEMA_DRAFT,
        "$id": "LSP4IJ/spark-lsp/settings.schema.json",
        "title": f"{schema.get('title', 'Spark')} (spark-lsp) settings",
        "description": "Settings of the spark-lsp language server, generated from "
        "spark_lsp/settings_schema.json: do not edit by hand.",
        "type": "object",
        "additionalProperties": False,
        "properties": {key: standard_property(prop) for key, prop in properties(schema).items()},
    }


# --- VS Code ----------------------------------------------------------------------------------


def vscode_configuration(schema: Schema) -> dict[str, Any]:
    """``contributes.configuration`` for a VS Code ``package.json`` (the schema as it is)."""
    return {"title": schema.get("title", "Spark"), "properties": copy.deepcopy(properties(schema))}


# --- running the targets ----------------------------------------------------------------------


def json_target(path: Path, build: Callable[[Schema], Any]) -> Target:
    """A target whose whole file is ``build(schema)`` as JSON."""
    return Target(path, lambda schema, _current: render_json(build(schema)))


def default_targets() -> list[Target]:
    """The files this script owns."""
    return [
        json_target(JETBRAINS_DIR / "settings.json", jetbrains_settings),
        json_target(JETBRAINS_DIR / "settings.schema.json", jetbrains_settings_schema),
    ]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def drifted(targets: Sequence[Target], schema: Schema) -> list[Path]:
    """The targets whose file differs from what the schema generates (or is missing)."""
    stale = []
    for target in targets:
        current = _read(target.path)
        if current != target.render(schema, current):
            stale.append(target.path)
    return stale


def write(targets: Sequence[Target], schema: Schema) -> list[Path]:
    """Regenerate the targets; returns the files that changed."""
    changed = []
    for target in targets:
        current = _read(target.path)
        text = target.render(schema, current)
        if text != current:
            target.path.parent.mkdir(parents=True, exist_ok=True)
            target.path.write_text(text, encoding="utf-8")
            changed.append(target.path)
    return changed


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None, targets: Sequence[Target] | None = None) -> int:
    """Command line: write the targets, or with ``--check`` report drift (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    schema = load_schema(args.schema)
    targets = default_targets() if targets is None else targets
    if args.check:
        stale = drifted(targets, schema)
        for path in stale:
            sys.stderr.write(f"out of date: {_shown(path)}\n")
        if stale:
            sys.stderr.write("run: python scripts/gen_editor_settings.py\n")
            return 1
        return 0
    for path in write(targets, schema):
        sys.stdout.write(f"wrote {_shown(path)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
