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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from spark_lsp.engine import grammars

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

SymbolKind = Literal["class", "function", "method", "type", "variable"]
#: Bounds that keep one generated or minified file from filling the index.
MAX_SYMBOLS_PER_FILE = 400
MAX_SIGNATURE_CHARS = 200
#: A constant's or field's line: its name, type and the start of its value, not a whole table.
MAX_VARIABLE_CHARS = 120
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


#: A name an import binds: (local name, module spec as written, imported member or "" for the
#: module itself). ``import * as core from "./core"`` → ("core", "./core", "");
#: ``from .x import y as z`` → ("z", ".x", "y").
Binding = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class FileOutline:
    """Symbols (top level, and methods of top-level classes) and raw import specs of one file.

    ``bindings`` say which local name stands for which import (the receiver of ``core.`` is a
    module); ``reexports`` are the specs a file re-exports whole (``export * from``), so the
    members of an ``index`` module are the members of what it re-exports.
    """

    symbols: tuple[Symbol, ...]
    imports: tuple[str, ...]
    bindings: tuple[Binding, ...] = ()
    reexports: tuple[str, ...] = ()

    def members(self, container: str) -> tuple[Symbol, ...]:
        """The methods of class ``container``."""
        return tuple(s for s in self.symbols if s.container == container)

    def top_level(self) -> tuple[Symbol, ...]:
        """Symbols outside any class."""
        return tuple(s for s in self.symbols if not s.container)


# -- tree-sitter walk -----------------------------------------------------------------------------

#: Node types that define something, per grammar family, with the kind they define.
_DEFINITIONS: dict[str, dict[str, SymbolKind]] = {
    "python": {
        "class_definition": "class",
        "function_definition": "function",
        "type_alias_statement": "type",
    },
    "javascript": {
        "class_declaration": "class",
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "method_definition": "method",
        "interface_declaration": "type",
        "type_alias_declaration": "type",
        "abstract_class_declaration": "class",
        "internal_module": "class",
        "enum_declaration": "type",
        "public_field_definition": "variable",
        "field_definition": "variable",
        "property_signature": "variable",
        "method_signature": "method",
        "abstract_method_signature": "method",
    },
    "go": {
        "function_declaration": "function",
        "method_declaration": "method",
        "type_spec": "type",
        "type_alias": "type",
        "field_declaration": "variable",
        "method_elem": "method",
        "method_spec": "method",
    },
    "rust": {
        "function_item": "function",
        "struct_item": "class",
        "enum_item": "type",
        "trait_item": "class",
        "function_signature_item": "method",
        "const_item": "variable",
        "static_item": "variable",
        "type_item": "type",
    },
    "java": {
        "class_declaration": "class",
        "interface_declaration": "class",
        "enum_declaration": "type",
        "record_declaration": "class",
        "method_declaration": "method",
        "constructor_declaration": "method",
        "field_declaration": "variable",
        "constant_declaration": "variable",
    },
    "c": {
        "function_definition": "function",
        "struct_specifier": "class",
        "class_specifier": "class",
        "preproc_def": "variable",
        "type_definition": "type",
    },
    "ruby": {
        "class": "class",
        "module": "class",
        "method": "function",
        "singleton_method": "function",
    },
    "lua": {"function_declaration": "function"},
}
#: Statements that bind names (constants, module variables, class attributes) rather than define
#: a function or type: each bound name becomes a "variable" symbol.
_BINDINGS: dict[str, frozenset[str]] = {
    "python": frozenset({"expression_statement"}),
    "javascript": frozenset({"lexical_declaration", "variable_declaration"}),
    "go": frozenset({"const_declaration", "var_declaration"}),
    "ruby": frozenset({"assignment"}),
    "lua": frozenset({"variable_declaration"}),
}
#: Types whose members (fields, method signatures) are listed like a class's.
_MEMBER_HOLDERS = frozenset({"interface_declaration", "type_spec", "internal_module"})
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
    "ambient_declaration",
    "preproc_ifdef",
    "preproc_if",
    "preproc_else",
    "preproc_elif",
    "linkage_specification",
}
#: Top-level conditionals whose branches define module symbols (``if TYPE_CHECKING:``, a version
#: check choosing between two definitions): Python only, where they are common.
_GUARDS = {"python": frozenset({"if_statement"})}
_GUARD_BRANCHES = frozenset({"else_clause", "elif_clause"})
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
    parser = grammars.parser_for(language_id) if family is not None else None
    if parser is None or family is None:
        return plain_outline(text)
    walker = _Walker(family)
    for first_line, source, tree in _parsed_pieces(parser, text):
        walker.walk(source, tree.root_node, first_line)
        if walker.full:
            break
    return FileOutline(
        tuple(walker.symbols),
        tuple(walker.imports),
        tuple(walker.bound),
        tuple(walker.reexports),
    )


#: A file longer than this is parsed a piece at a time. A tree-sitter tree holds ~25 bytes per
#: source byte (a 500 kB module: 12 MB at once, the server's memory peak), and the walk reads
#: only the top level and one class level down, which a cut between top-level statements
#: leaves whole. Pieces also end the parse early once the symbol cap is reached.
PIECE_CHARS = 64 * 1024
#: Where a piece may start: a line at the left margin that begins a statement (a word or a
#: decorator), right after a blank line; never a closer (``}``) or a comment (its definition
#: follows it).
_PIECE_START = re.compile(r"\n[ \t]*\n(?=[A-Za-z_@$])")


def _parsed_pieces(parser: Parser, text: str) -> Iterator[tuple[int, bytes, Tree]]:
    """``text`` parsed in pieces of about :data:`PIECE_CHARS`: (first line, bytes, tree).

    A cut can still fall inside a multi-line string whose text has such a line; the piece
    before it then fails to parse, and is parsed again joined to the next one. A piece whose
    error survives the join is the file's own error, kept as tree-sitter recovers it.
    """
    bounds = _piece_bounds(text)
    line, index = 0, 0
    while index < len(bounds) - 1:
        start, end = bounds[index], bounds[index + 1]
        source = text[start:end].encode("utf-8", "surrogatepass")
        tree = parser.parse(source)
        if tree.root_node.has_error and index + 2 < len(bounds):
            joined = text[start : bounds[index + 2]].encode("utf-8", "surrogatepass")
            retry = parser.parse(joined)
            if not retry.root_node.has_error:
                source, tree, end = joined, retry, bounds[index + 2]
                index += 1
        yield line, source, tree
        line += text.count("\n", start, end)
        index += 1


def _piece_bounds(text: str) -> list[int]:
    """Offsets where the pieces start, and the text's end; one piece for a file of ordinary
    size, so its outline is exactly the whole parse's."""
    bounds = [0]
    while len(text) - bounds[-1] > 2 * PIECE_CHARS:
        cut = _PIECE_START.search(text, bounds[-1] + PIECE_CHARS)
        if cut is None:
            break
        bounds.append(cut.end())
    bounds.append(len(text))
    return bounds


class _Walker:
    """Collects definitions at the top level and one class level down; never enters bodies."""

    def __init__(self, family: str) -> None:
        self.source = b""
        self.line_offset = 0
        self.family = family
        self.definitions = _DEFINITIONS[family]
        self.symbols: list[Symbol] = []
        self.imports: list[str] = []
        self.bound: list[Binding] = []
        self.reexports: list[str] = []

    @property
    def full(self) -> bool:
        return len(self.symbols) >= MAX_SYMBOLS_PER_FILE

    def walk(self, source: bytes, root: Node, first_line: int) -> None:
        """Read one parsed piece of the file, which starts at line ``first_line``."""
        self.source, self.line_offset = source, first_line
        self.visit_children(root, container="")

    def visit_children(self, node: Node, container: str) -> None:
        for child in node.named_children:
            if self.full:
                return
            self.visit(child, container)

    def visit(self, node: Node, container: str) -> None:
        kind = self.definitions.get(node.type)
        if kind is not None:
            self.define(node, kind, container)
        elif node.type in _IMPORT_NODES and not container:
            self.imports.extend(self.import_specs(node))
            self.bound.extend(_import_bindings(self.family, node, self.text))
        elif node.type == "export_statement" and not container and self.reexport(node):
            pass
        elif node.type in _TRANSPARENT or (container and node.type in _CLASS_BODIES):
            self.visit_children(node, container or self.impl_name(node))
        elif node.type in _BINDINGS.get(self.family, ()):
            self.bindings(node, container)
        elif not container and node.type in _GUARDS.get(self.family, ()):
            self.guarded(node)

    def define(self, node: Node, kind: SymbolKind, container: str) -> None:
        names = self.names_of(node)
        if not names:
            return
        if node.type == "method_declaration" and self.family == "go":
            container = self.receiver_type(node)
        if container and kind == "function":
            kind = "method"
        body = node.child_by_field_name("body")
        signature = self.signature(node)
        if node.type == "type_spec":  # Go: ``type T struct``, as the source says it
            signature = _clip("type " + signature, MAX_SIGNATURE_CHARS)
            shape = node.child_by_field_name("type")
            if shape is not None and shape.type in ("struct_type", "interface_type"):
                kind = "class"
                fields = shape.named_children[0] if shape.type == "struct_type" else shape
                body = fields if shape.named_children else None
        elif kind == "variable":
            signature = _clip(signature, MAX_VARIABLE_CHARS)
        doc = self.doc(node)
        for name in names:
            self.symbols.append(
                Symbol(name, kind, signature, doc, self.line_of(node), container)
            )
        if (kind == "class" or node.type in _MEMBER_HOLDERS) and not container:
            if body is not None or node.type != "type_spec":
                self.visit_children(body if body is not None else node, names[0])

    def bindings(self, node: Node, container: str) -> None:
        """Constants, module variables, class attributes; ``const f = () => …`` is a function."""
        if self.family == "javascript":
            keyword = self.text(node.children[0]) if node.children else ""
            for declarator in node.named_children:
                value = declarator.child_by_field_name("value")
                named = declarator.child_by_field_name("name")
                if named is None or named.type != "identifier":
                    continue  # a destructuring pattern binds nothing a reader looks up
                if value is not None and value.type in ("arrow_function", "function_expression"):
                    body = value.child_by_field_name("body")
                    signature = f"{keyword} {self.signature(declarator, body=body)}"
                    kind: SymbolKind = "method" if container else "function"
                    self.add(self.text(named), kind, signature, node, container)
                else:
                    signature = f"{keyword} {self.flat(declarator)}"
                    if declarator.child_by_field_name("type") is not None:
                        signature = signature.split(" = ", 1)[0]  # the type says it all
                    self.add(self.text(named), "variable", signature, node, container)
            return
        for name, statement in self.bound_names(node):
            self.add(name, "variable", self.flat(statement), node, container)

    def bound_names(self, node: Node) -> list[tuple[str, Node]]:
        """(name, the text that shows it) of each name a binding statement binds."""
        if self.family == "python":
            assignment = node.named_children[0] if node.named_children else None
            left = assignment.child_by_field_name("left") if assignment is not None else None
            if assignment is None or assignment.type != "assignment" or left is None:
                return []
            return [(self.text(left), node)] if left.type == "identifier" else []
        if self.family == "go":
            keyword = self.text(node.children[0]) if node.children else ""
            specs = [c for c in _descendants(node) if c.type in ("const_spec", "var_spec")]
            return [
                (self.text(n), spec)
                for spec in specs
                for n in spec.children_by_field_name("name")
                if keyword
            ]
        if self.family == "ruby":
            left = node.child_by_field_name("left")
            return [(self.text(left), node)] if left is not None and left.type == "constant" else []
        variables = [c for c in _descendants(node) if c.type == "variable_list"]  # Lua
        return [
            (self.text(n), node)
            for v in variables[:1]
            for n in v.children_by_field_name("name")
            if n.type == "identifier"
        ]

    def add(self, name: str, kind: SymbolKind, signature: str, node: Node, container: str) -> None:
        if kind == "variable" and self.family == "go":  # ``B = 2`` in a block: ``const B = 2``
            keyword = self.text(node.children[0]) if node.children else ""
            signature = signature if signature.startswith(keyword) else f"{keyword} {signature}"
        limit = MAX_VARIABLE_CHARS if kind == "variable" else MAX_SIGNATURE_CHARS
        self.symbols.append(
            Symbol(name, kind, _clip(signature, limit), self.doc(node), self.line_of(node),
                   container)
        )

    def line_of(self, node: Node) -> int:
        return self.line_offset + node.start_point[0]

    def reexport(self, node: Node) -> bool:
        """``export * from "./x"``, ``export { a } from "./x"``: an import the file passes on."""
        source = node.child_by_field_name("source")
        if source is None:
            return False
        spec = self.text(source).strip("\"'`")
        self.imports.append(spec)
        self.reexports.append(spec)
        return True

    def guarded(self, node: Node) -> None:
        """The branches of a top-level conditional define module symbols."""
        for child in node.named_children:
            if child.type == "block":
                self.visit_children(child, "")
            elif child.type in _GUARD_BRANCHES:
                self.guarded(child)

    def flat(self, node: Node) -> str:
        """A node's text on one line, read no further than a variable's line can show."""
        end = min(node.end_byte, node.start_byte + 8 * MAX_VARIABLE_CHARS)
        text = self.source[node.start_byte : end].decode("utf-8", "replace")
        return " ".join(text.split()).rstrip(";")

    def receiver_type(self, node: Node) -> str:
        """Go: the type a method's receiver names (``(c *Command)`` → ``Command``)."""
        receiver = node.child_by_field_name("receiver")
        if receiver is None:
            return ""
        found = [c for c in _descendants(receiver) if c.type == "type_identifier"]
        return self.text(found[0]) if found else ""

    def names_of(self, node: Node) -> list[str]:
        """The names a definition binds: one, or several (Go's ``X, Y int`` field)."""
        several = node.children_by_field_name("name")
        if len(several) > 1:
            return [self.text(n) for n in several]
        name = self.name_of(node)
        if not name and node.type == "type_alias_statement":  # Python 3.12 ``type X = …``
            first = node.named_children[0] if node.named_children else None
            name = self.text(first) if first is not None else ""
        return [name] if name else []

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


def _import_bindings(family: str, node: Node, text: Callable[[Node], str]) -> list[Binding]:
    """The local names an import statement binds, each with its module and member."""
    found: list[Binding] = []
    if family == "python":
        module_node = node.child_by_field_name("module_name")
        module = text(module_node) if module_node is not None else ""
        for named in node.children_by_field_name("name"):
            alias = named.child_by_field_name("alias")
            target = named.child_by_field_name("name") if alias is not None else named
            written = text(target) if target is not None else ""
            if module:  # from module import written [as alias]
                found.append((text(alias) if alias else written, module, written))
            else:  # import a.b [as c]: ``a`` (or ``c``) is a module
                found.append((text(alias), written, "") if alias else (written.split(".")[0],
                             written.split(".")[0], ""))
    elif family == "javascript":
        source = node.child_by_field_name("source")
        spec = text(source).strip("\"'`") if source is not None else ""
        for part in _descendants(node):
            if part.type == "namespace_import" and part.named_children:
                found.append((text(part.named_children[0]), spec, ""))
            elif part.type == "import_clause":
                found += [(text(c), spec, "default") for c in part.named_children
                          if c.type == "identifier"]
            elif part.type == "import_specifier":
                name, alias = part.child_by_field_name("name"), part.child_by_field_name("alias")
                if name is not None:
                    found.append((text(alias or name), spec, text(name)))
    elif family == "go":
        for spec_node in (c for c in _descendants(node) if c.type == "import_spec"):
            path_node = spec_node.child_by_field_name("path")
            name_node = spec_node.child_by_field_name("name")
            path = text(path_node).strip('"`') if path_node is not None else ""
            parts = [p for p in path.split("/") if p]
            if parts and re.fullmatch(r"v\d+", parts[-1]) and len(parts) > 1:
                parts.pop()  # ``github.com/go-chi/chi/v5`` is package ``chi``
            local = text(name_node) if name_node is not None else (parts[-1] if parts else "")
            if local and local not in ("_", "."):
                found.append((local, path, ""))
    return found


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
    r"proc|procedure|const|val|var|let|typealias|type)\s+(?P<name>[A-Za-z_$][\w$]*)"
)
_PLAIN_CLASS = {"class", "struct", "interface", "trait", "module", "object"}
_PLAIN_VARIABLE = {"const", "val", "var", "let"}
_PLAIN_TYPE = {"typealias", "type", "enum"}
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
        if keyword in _PLAIN_VARIABLE or keyword in _PLAIN_TYPE:
            kind = "variable" if keyword in _PLAIN_VARIABLE else "type"
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
