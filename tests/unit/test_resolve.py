"""Import resolution for TypeScript/JavaScript and Go (Python's is the index's own)."""

from __future__ import annotations

from pathlib import Path

from spark_lsp.engine.sources.imports import resolved_imports, resolver_of
from spark_lsp.engine.sources.index import WorkspaceIndex
from spark_lsp.shared.privacy import ExclusionPolicy


def workspace(root: Path, files: dict[str, str]) -> WorkspaceIndex:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    index = WorkspaceIndex(root.resolve(), ExclusionPolicy(root).reason)
    index.build()
    return index


TYPESCRIPT = {
    "tsconfig.json": '{\n  // comments are allowed\n  "compilerOptions": {"baseUrl": ".",'
    ' "paths": {"@lib/*": ["src/lib/*"]},},\n}\n',
    "package.json": '{"name": "mypkg", "exports": {"./v4": {"types": "./src/v4/index.ts"}}}',
    "src/types/options.ts": "export interface Options { a: number }\n",
    "src/core/index.ts": 'export * from "./schemas.js";\n',
    "src/core/schemas.ts": "export const $ZodString = 1;\n",
    "src/lib/util.ts": "export function clamp(x: number) { return x }\n",
    "src/v4/index.ts": "export const v4 = 1;\n",
    "src/app.ts": "",
}


def test_typescript_esm_index_paths_and_package_exports(tmp_path: Path) -> None:
    index = workspace(tmp_path, TYPESCRIPT)
    resolver = resolver_of(index)
    assert resolver.files("./types/options.js", "src/app.ts", "typescript") == [
        "src/types/options.ts"]
    assert resolver.files("./core", "src/app.ts", "typescript") == ["src/core/index.ts"]
    assert resolver.files("@lib/util", "src/app.ts", "typescript") == ["src/lib/util.ts"]
    assert resolver.files("mypkg/v4", "src/app.ts", "typescript") == ["src/v4/index.ts"]
    assert resolver.files("src/lib/util", "src/app.ts", "typescript") == ["src/lib/util.ts"]
    assert resolver.files("react", "src/app.ts", "typescript") == []
    specs = ["./types/options.js", "./core/index.js", "react"]
    assert resolved_imports(index, specs, "src/app.ts") == [
        "src/types/options.ts", "src/core/index.ts"]


def test_go_module_path_and_packages_as_directories(tmp_path: Path) -> None:
    index = workspace(tmp_path, {
        "go.mod": "module github.com/go-chi/chi/v5\n\ngo 1.14\n",
        "chi.go": "package chi\nfunc NewRouter() {}\n",
        "mux.go": "package chi\ntype Mux struct{}\n",
        "mux_test.go": "package chi\n",
        "middleware/logger.go": 'package middleware\nimport "github.com/go-chi/chi/v5"\n',
    })
    resolver = resolver_of(index)
    assert resolver.files("github.com/go-chi/chi/v5", "middleware/logger.go", "go") == [
        "chi.go", "mux.go"]
    assert resolver.files("github.com/go-chi/chi/v5/middleware", "chi.go", "go") == [
        "middleware/logger.go"]
    assert resolver.files("net/http", "chi.go", "go") == []


def test_python_resolution_is_the_index_own(tmp_path: Path) -> None:
    index = workspace(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": "X = 1\n"})
    assert resolver_of(index).files(".mod", "pkg/__init__.py", "python") == ["pkg/mod.py"]
