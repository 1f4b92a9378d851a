"""What a file defines and imports: top-level symbols with signatures, and import specs.

Project context shows the model the *shape* of code it cannot see (signatures and a docstring's
first line, never bodies), so a suggestion calls ``compute_discount(order, rate)`` rather than an
invented name. Shapes come from a tree-sitter walk where a grammar is loaded
(:mod:`spark_lsp.engine.grammars`), and from a line-based fallback for every other language, so
each file yields something. Extraction is pure (text in, tuples out) and runs in the background
index, never on a keystroke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from spark_lsp.engine import grammars

if TYPE_CHECKING:
    from tree_sitter import Node

SymbolKind = Literal["class", "function", "method", "type"]
#: Bounds that keep one generated or minified file from filling the index.
MAX_SYMBOLS_PER_FILE = 400
MAX_SIGNATURE_CHARS = 200
MAX_DOC_CHARS = 120


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition: where it is and what it looks like from outside."""

    name: str
    kind: SymbolKind
    signature: str
    doc: str
    line: int
    container: str = ""


@dataclass(frozen=True, slots=True)
class FileOutline:
    """Symbols (top level, and methods of top-level classes) and raw import specs of one file."""

    symbols: tuple[Symbol, ...]
    imports: tuple[str, ...]

    def members(self, container: str) -> tuple[Symbol, ...]:
        """The methods of class ``container``."""
        return tuple(s for s in self.symbols if s.container == container)

    def top_level(self) -> tuple[Symbol, ...]:
        """Symbols outside any class."""
        return tuple(s for s in self.symbols if not s.container)


# -- tree-sitter walk -----------------------------------------------------------------------------

#: Node types that define something, per grammar family, with the kind they define.
_DEFINITIONS: dict[str, dict[str, SymbolKind]] = {
    "python": {"class_definition": "class", "function_definition": "function"},
    "javascript": {
        "class_declaration": "class",
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "method_definition": "method",
        "interface_declaration": "type",
        "type_alias_declaration": "type",
        "abstract_class_declaration": "class",
    },
    "go": {"function_declaration": "function", "method_declaration": "method", "type_spec": "type"},
    "rust": {
        "function_item": "function",
        "struct_item": "class",
        "enum_item": "type",
        "trait_item": "class",
        "function_signature_item": "method",
    },
    "java": {
        "class_declaration": "class",
        "interface_declaration": "class",
        "enum_declaration": "type",
        "record_declaration": "class",
        "method_declaration": "method",
        "constructor_declaration": "method",
    },
    "c": {
        "function_definition": "function",
        "struct_specifier": "class",
        "class_specifier": "class",
    },
    "ruby": {
        "class": "class",
        "module": "class",
        "method": "function",
        "singleton_method": "function",
    },
    "lua": {"function_declaration": "function"},
}
_FAMILY = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "c",
    "ruby": "ruby",
    "lua": "lua",
}
#: Wrappers whose child is the real definition (decorators, ``export``, Go's ``type`` block).
_TRANSPARENT = {
    "decorated_definition",
    "export_statement",
    "type_declaration",
    "template_declaration",
    "namespace_definition",
    "declaration_list",
    "impl_item",
}
#: Bodies whose definitions are members of the enclosing class.
_CLASS_BODIES = {
    "block",
    "class_body",
    "body_statement",
    "field_declaration_list",
    "declaration_list",
    "interface_body",
    "enum_body",
}
_IMPORT_NODES = {
    "import_statement",
    "import_from_statement",
    "import_declaration",
    "use_declaration",
    "preproc_include",
}
_NAME_TYPES = {
    "identifier",
    "type_identifier",
    "field_identifier",
    "property_identifier",
    "constant",
    "name",
}


def outline(language_id: str, text: str) -> FileOutline:
    """The outline of ``text``: tree-sitter where a grammar loads, the line fallback otherwise."""
    family = _FAMILY.get(grammars.canonical_language(language_id))
    tree = grammars.parse(language_id, text) if family is not None else None
    if tree is None or family is None:
        return plain_outline(text)
    walker = _Walker(text.encode("utf-8", "surrogatepass"), family)
    walker.visit_children(tree.root_node, container="")
    return FileOutline(tuple(walker.symbols), tuple(walker.imports))


class _Walker:
    """Collects definitions at the top level and one class level down; never enters bodies."""

    def __init__(self, source: bytes, family: str) -> None:
        self.source = source
        self.family = family
        self.definitions = _DEFINITIONS[family]
        self.symbols: list[Symbol] = []
        self.imports: list[str] = []

    def visit_children(self, node: Node, container: str) -> None:
        for child in node.named_children:
            if len(self.symbols) >= MAX_SYMBOLS_PER_FILE:
                return
            self.visit(child, container)

    def visit(self, node: Node, container: str) -> None:
        kind = self.definitions.get(node.type)
        if kind is not None:
            self.define(node, kind, container)
        elif node.type in _IMPORT_NODES and not container:
            self.imports.extend(self.import_specs(node))
        elif node.type in _TRANSPARENT or (container and node.type in _CLASS_BODIES):
            self.visit_children(node, container or self.impl_name(node))
        elif node.type == "lexical_declaration" and not container:
            self.arrow_functions(node)

    def define(self, node: Node, kind: SymbolKind, container: str) -> None:
        name = self.name_of(node)
        if not name:
            return
        if container and kind == "function":
            kind = "method"
        self.symbols.append(
            Symbol(name, kind, self.signature(node), self.doc(node), node.start_point[0], container)
        )
        if kind == "class" and not container:
            body = node.child_by_field_name("body")
            self.visit_children(body if body is not None else node, name)

    def arrow_functions(self, node: Node) -> None:
        """``const f = (a, b) => …``: a function in all but syntax."""
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None and value.type in ("arrow_function", "function_expression"):
                name = self.name_of(declarator)
                if name:
                    signature = self.signature(declarator, body=value.child_by_field_name("body"))
                    self.symbols.append(
                        Symbol(name, "function", signature, self.doc(node), node.start_point[0])
                    )

    def impl_name(self, node: Node) -> str:
        """Rust's ``impl Type`` makes its functions methods of ``Type``."""
        if node.type != "impl_item":
            return ""
        target = node.child_by_field_name("type")
        return self.text(target) if target is not None else ""

    def name_of(self, node: Node) -> str:
        named = node.child_by_field_name("name")
        if named is not None:
            return self.text(named)
        declarator = node.child_by_field_name("declarator")
        while declarator is not None:  # C: int *f(int x) → pointer → function → identifier
            if declarator.type in _NAME_TYPES or declarator.type.endswith("identifier"):
                return self.text(declarator)
            inner = declarator.child_by_field_name("declarator")
            if inner is None:
                names = [c for c in declarator.named_children if c.type in _NAME_TYPES]
                return self.text(names[0]) if names else ""
            declarator = inner
        return ""

    def signature(self, node: Node, body: Node | None = None) -> str:
        """The definition's text up to its body, on one line."""
        body = body if body is not None else node.child_by_field_name("body")
        end = body.start_byte if body is not None and body.start_byte > node.start_byte else None
        raw = self.source[node.start_byte : end if end is not None else node.end_byte]
        text = " ".join(raw.decode("utf-8", "replace").split())
        text = text.rstrip("{ ").rstrip()
        if end is None and "\n" in raw.decode("utf-8", "replace"):
            text = self.first_line(node)
        return _clip(text, MAX_SIGNATURE_CHARS)

    def first_line(self, node: Node) -> str:
        line = self.source[node.start_byte : node.end_byte].split(b"\n", 1)[0]
        return line.decode("utf-8", "replace").strip().rstrip("{ ").rstrip()

    def doc(self, node: Node) -> str:
        """A Python docstring's first line, or the comment just above the definition."""
        if self.family == "python":
            body = node.child_by_field_name("body")
            first = body.named_children[0] if body is not None and body.named_children else None
            if first is not None and first.type == "expression_statement":
                string = first.named_children[0] if first.named_children else None
                if string is not None and string.type == "string":
                    return _first_text_line(self.text(string).strip("\"'rbuRBU"))
            return ""
        anchor = node
        while anchor.prev_named_sibling is None and anchor.parent is not None:
            if anchor.parent.type not in _TRANSPARENT:
                break
            anchor = anchor.parent  # ``export function f`` has its comment above the export
        above = anchor.prev_named_sibling
        if (
            above is not None
            and above.type.endswith("comment")
            and above.end_point[0] + 1 >= anchor.start_point[0]
        ):
            return _first_text_line(_COMMENT_MARKS.sub("", self.text(above)))
        return ""

    def import_specs(self, node: Node) -> list[str]:
        """The module an import names, as written (``pkg.mod``, ``./util``, ``fmt``)."""
        if self.family == "python":
            return _python_imports(self.text(node))
        strings = [c for c in _descendants(node) if c.type in _STRING_TYPES]
        if strings:
            keep = strings if self.family == "go" else strings[:1]
            return [self.text(s).strip("\"'`<>") for s in keep]
        named = node.named_children
        return [self.text(named[0]).rstrip(";")] if named else []

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")


_STRING_TYPES = {"string", "string_literal", "interpreted_string_literal", "system_lib_string"}
_COMMENT_MARKS = re.compile(r"^\s*(?:///?|/\*+|\*+/?|#|--)\s?|\s*\*+/\s*$", re.MULTILINE)


def _descendants(node: Node) -> list[Node]:
    found: list[Node] = []
    stack = list(reversed(node.named_children))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(current.named_children))
    return found


def _python_imports(statement: str) -> list[str]:
    """``import a.b, c as d`` → [a.b, c]; ``from .x import y, z`` → [.x.y, .x.z, .x]."""
    flat = " ".join(statement.replace("(", " ").replace(")", " ").replace("\\", " ").split())
    if flat.startswith("from "):
        module, _, names = flat[5:].partition(" import ")
        listed = [n.split(" as ")[0].strip() for n in names.split(",") if n.strip() != "*"]
        join = "" if module.endswith(".") else "."
        return [f"{module}{join}{n}" for n in listed if n] + [module]
    return [part.split(" as ")[0].strip() for part in flat[7:].split(",") if part.strip()]


def _first_text_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return _clip(line.strip(), MAX_DOC_CHARS)
    return ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- plain-text fallback --------------------------------------------------------------------------

_PLAIN_DEFINITION = re.compile(
    r"^(?P<indent>[ \t]*)(?:(?:export|public|private|protected|internal|static|abstract|final|"
    r"async|pub|open|override|data|sealed)\s+)*"
    r"(?P<keyword>def|class|function|func|fn|fun|struct|interface|trait|enum|module|object|sub|"
    r"proc|procedure)\s+(?P<name>[A-Za-z_$][\w$]*)"
)
_PLAIN_CLASS = {"class", "struct", "interface", "trait", "module", "object"}
_PLAIN_IMPORT = re.compile(
    r"^\s*(?:import|from|require|use|using|include|#include)\s+[\"'<]?(?P<spec>[\w./@:-]+)"
)


def plain_outline(text: str) -> FileOutline:
    """Keyword-led definitions (``def``/``class``/``func``/…) at the left margin, one level in."""
    symbols: list[Symbol] = []
    imports: list[str] = []
    container, container_indent = "", -1
    for number, line in enumerate(text.splitlines()):
        if len(symbols) >= MAX_SYMBOLS_PER_FILE:
            break
        imported = _PLAIN_IMPORT.match(line)
        if imported is not None:
            imports.append(imported.group("spec").rstrip(";"))
            continue
        match = _PLAIN_DEFINITION.match(line)
        if match is None:
            continue
        indent = len(match.group("indent").expandtabs(4))
        inside = bool(container) and indent > container_indent
        if indent and not inside:
            continue
        keyword = match.group("keyword")
        kind: SymbolKind = "class" if keyword in _PLAIN_CLASS else "function"
        if inside and kind == "function":
            kind = "method"
        signature = _clip(line.strip().rstrip("{:").rstrip(), MAX_SIGNATURE_CHARS)
        symbols.append(
            Symbol(match.group("name"), kind, signature, "", number, container if inside else "")
        )
        if kind == "class" and not inside:
            container, container_indent = match.group("name"), indent
        elif not inside:
            container = ""
    return FileOutline(tuple(symbols), tuple(imports))
