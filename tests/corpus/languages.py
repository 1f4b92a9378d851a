"""Language cases: exact (fill-in-the-middle) and chat-style replies in the languages editors
send, each with the ghost text expected. Block ends, branches, closers, strings, heredocs,
comments and preprocessor lines are what differ between languages."""

from __future__ import annotations

from tests.corpus.harness import CompletionCase as C

LANGUAGE_CASES: list[C] = [
    # -- TypeScript / JavaScript ----------------------------------------------------------
    C("ts: method body siblings", "typescript", "class A {\n  run(): void {\n    █\n  }\n}\n", "this.start();\n    this.stop();", "this.start();\n    this.stop();"),
    C("ts: else branch closed", "typescript", "function f(x: number) {\n  if (x > 0) {\n    return 1;\n  } else {\n    █\n}\n", "return -1;\n  }\n  return 0;", "return -1;\n  }"),
    C("js: object closed at end of file", "javascript", "const o = {\n  a: 1,\n  █", "b: 2,\n};\nconsole.log(o);", "b: 2,\n};"),
    C("js: template literal at column 0", "javascript", "function page() {\n  const html = █\n}\n", "`\n<div>\n  hi\n</div>\n`;", "`\n<div>\n  hi\n</div>\n`;"),
    C("js: line comment", "javascript", "function f() {\n  // TODO: █\n}\n", "handle the empty case", "handle the empty case"),
    C("ts: arrow body, closer re-typed", "typescript", "const f = (xs: number[]) => {\n  █\n};\n", "return xs.map((x) => x * 2);\n};", "return xs.map((x) => x * 2);"),
    C("tsx: JSX children", "typescriptreact", "export function App() {\n  return (\n    █\n  );\n}\n", "<div>\n      <h1>Hi</h1>\n    </div>", "<div>\n      <h1>Hi</h1>\n    </div>"),
    C("js: stops at the function's end", "javascript", "function a() {\n  █\n}\n\nfunction b() {}\n", "return 1;\n}\n\nfunction c() {\n  return 2;\n}", "return 1;"),
    # -- Go -----------------------------------------------------------------------------------
    C("go: loop and return", "go", "func f(xs []int) int {\n\ttotal := 0\n\t█\n}\n", "for _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total", "for _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total"),
    C("go: case labels", "go", "func k(x int) string {\n\tswitch x {\n\tcase 1:\n\t\t█\n}\n", "return \"one\"\n\tcase 2:\n\t\treturn \"two\"\n\tdefault:\n\t\treturn \"many\"\n\t}", "return \"one\"\n\tcase 2:\n\t\treturn \"two\"\n\tdefault:\n\t\treturn \"many\"\n\t}"),
    C("go: raw string", "go", "var usage = █\n", "`usage: tool [flags]\n\n  -v  verbose\n`", "`usage: tool [flags]\n\n  -v  verbose\n`"),
    C("go: tabs with no indented line near", "go", "package main\n\nfunc main() {█\n", "\n    fmt.Println(\"hi\")\n}", "\n\tfmt.Println(\"hi\")\n}"),
    C("go: comment", "go", "// Package util █\npackage util\n", "provides helpers for strings.", "provides helpers for strings."),
    C("go: else if branch", "go", "func sign(x int) int {\n\tif x < 0 {\n\t\t█\n}\n", "return -1\n\t} else if x > 0 {\n\t\treturn 1\n\t}\n\treturn 0", "return -1\n\t} else if x > 0 {\n\t\treturn 1\n\t}"),
    C("go: struct fields", "go", "type Point struct {\n\t█\n}\n", "X int\n\tY int\n}", "X int\n\tY int"),
    # -- Rust -----------------------------------------------------------------------------------
    C("rust: lifetimes are not quotes", "rust", "fn first<'a>(xs: &'a [String]) -> &'a str {\n    █\n}\n", "let s = &xs[0];\n    s.as_str()\n}", "let s = &xs[0];\n    s.as_str()"),
    C("rust: match arms", "rust", "fn f(x: u8) -> &'static str {\n    match x {\n        █\n    }\n}\n", "0 => \"zero\",\n        1 => \"one\",\n        _ => \"many\",\n    }", "0 => \"zero\",\n        1 => \"one\",\n        _ => \"many\","),
    C("rust: raw string", "rust", "const HELP: &str = █\n", "r#\"\nUsage:\n  tool \"file\"\n\"#;", "r#\"\nUsage:\n  tool \"file\"\n\"#;"),
    C("rust: next method in impl", "rust", "impl P {\n    fn a(&self) {}\n    █\n}\n", "fn b(&self) -> u32 {\n        1\n    }", "fn b(&self) -> u32 {\n        1\n    }"),
    C("rust: braces in char literals", "rust", "fn q(c: char) -> bool {\n    █\n}\n", "c == '{' || c == '}'\n}", "c == '{' || c == '}'"),
    C("rust: doc comment", "rust", "/// Returns the █\nfn f() {}\n", "sum of both numbers.", "sum of both numbers."),
    C("rust: if let body closed", "rust", "fn f(o: Option<u8>) {\n    if let Some(v) = o {█\n}\n", "\n        println!(\"{v}\");\n    }", "\n        println!(\"{v}\");\n    }"),
    # -- C / C++ -----------------------------------------------------------------------------------
    C("c: #ifdef at column 0 in a function", "c", "int f(void) {\n    int x = 0;\n    █\n}\n", "#ifdef DEBUG\n    log(x);\n#endif\n    return x;", "#ifdef DEBUG\n    log(x);\n#endif\n    return x;"),
    C("c: includes", "c", "#include <stdio.h>\n█\n", "#include <stdlib.h>\n#include <string.h>", "#include <stdlib.h>\n#include <string.h>"),
    C("cpp: unindented namespace body", "cpp", "namespace app {\n█\n}  // namespace app\n", "int run();\nint stop();", "int run();\nint stop();"),
    C("cpp: access specifiers", "cpp", "class A {\n public:\n  A();\n  █\n};\n", "~A();\n\n private:\n  int x_;", "~A();\n\n private:\n  int x_;"),
    C("cpp: raw string", "cpp", "const char* q = █\n", "R\"(\nSELECT *\nFROM t;\n)\";", "R\"(\nSELECT *\nFROM t;\n)\";"),
    C("c: block comment", "c", "/*\n * Copyright █\n", "2024 Example Inc.\n * All rights reserved.\n */", "2024 Example Inc.\n * All rights reserved.\n */"),
    C("c: license header is not an indent unit", "c", "/*\n * Licensed under MIT.\n */\nint main(void) {█\n", "\n    return 0;\n}", "\n    return 0;\n}"),
    C("c: if/else closed", "c", "int f(int x) {\n    if (x) {\n        █\n}\n", "return 1;\n    } else {\n        return 0;\n    }", "return 1;\n    } else {\n        return 0;\n    }"),
    C("c: switch cases", "c", "void f(int c) {\n    switch (c) {\n    case 1:\n        █", "g();\n        break;\n    case 2:\n        h();\n        break;\n    }", "g();\n        break;\n    case 2:\n        h();\n        break;\n    }"),
    # -- Java -----------------------------------------------------------------------------------
    C("java: try/catch/finally", "java", "public class A {\n    void run() {\n        █\n    }\n}\n", "try {\n            go();\n        } catch (Exception e) {\n            log(e);\n        } finally {\n            done();\n        }", "try {\n            go();\n        } catch (Exception e) {\n            log(e);\n        } finally {\n            done();\n        }"),
    C("java: javadoc", "java", "class A {\n    /**\n     * Returns █\n", "the sum.\n     */", "the sum.\n     */"),
    C("java: annotated method", "java", "class A {\n    █\n}\n", "@Override\n    public String toString() {\n        return \"A\";\n    }\n}", "@Override\n    public String toString() {\n        return \"A\";\n    }"),
    C("java: text block", "java", "class A {\n    String s = █\n}\n", "\"\"\"\n  hello\n\"\"\";", "\"\"\"\n  hello\n\"\"\";"),
    C("java: enum constants", "java", "enum Color {\n    █\n}\n", "RED,\n    GREEN,\n    BLUE;\n}", "RED,\n    GREEN,\n    BLUE;"),
    # -- Ruby -----------------------------------------------------------------------------------
    C("ruby: elsif/else", "ruby", "def sign(x)\n  if x < 0\n    █\n  end\nend\n", "-1\n  elsif x > 0\n    1\n  else\n    0", "-1\n  elsif x > 0\n    1\n  else\n    0"),
    C("ruby: rescue", "ruby", "def load\n  █\nend\n", "File.read(path)\nrescue Errno::ENOENT\n  nil", "File.read(path)\nrescue Errno::ENOENT\n  nil"),
    C("ruby: when", "ruby", "case x\nwhen 1\n  █", "\"one\"\nwhen 2\n  \"two\"\nelse\n  \"many\"\nend", "\"one\"\nwhen 2\n  \"two\"\nelse\n  \"many\"\nend"),
    C("ruby: squiggly heredoc", "ruby", "def help\n  █\nend\n", "<<~TEXT\n    Usage: tool [options]\n  TEXT", "<<~TEXT\n    Usage: tool [options]\n  TEXT"),
    C("ruby: heredoc at column 0", "ruby", "def sql\n  q = █\nend\n", "<<SQL\nSELECT *\nFROM users\nSQL\n  q.strip", "<<SQL\nSELECT *\nFROM users\nSQL\n  q.strip"),
    C("ruby: do block", "ruby", "items.each do |item|\n  █\nend\n", "puts item\nend", "puts item"),
    C("ruby: modifier if opens nothing", "ruby", "def f(x)\n  █\nend\n", "return 0 if x.nil?\n  x * 2\nend", "return 0 if x.nil?\n  x * 2"),
    C("ruby: comment", "ruby", "# Returns the █\ndef f; end\n", "number of users.", "number of users."),
    # -- Lua -----------------------------------------------------------------------------------
    C("lua: elseif/else", "lua", "function s(x)\n  if x < 0 then\n    █\n  end\nend\n", "return -1\n  elseif x > 0 then\n    return 1\n  else\n    return 0", "return -1\n  elseif x > 0 then\n    return 1\n  else\n    return 0"),
    C("lua: repeat/until", "lua", "local i = 0\nrepeat\n  █", "i = i + 1\nuntil i > 10", "i = i + 1\nuntil i > 10"),
    C("lua: comment", "lua", "-- Computes the █\nlocal function f() end\n", "sum of the list.", "sum of the list."),
    C("lua: long string", "lua", "local s = █\n", "[[\nline one\nline two\n]]", "[[\nline one\nline two\n]]"),
    C("lua: nested end", "lua", "local function f(t)\n  █\nend\n", "for k, v in pairs(t) do\n    print(k, v)\n  end\nend", "for k, v in pairs(t) do\n    print(k, v)\n  end"),
    C("lua: table fields", "lua", "local t = {\n  █\n}\n", "a = 1,\n  b = 2,\n}", "a = 1,\n  b = 2,"),
    # -- shell -----------------------------------------------------------------------------------
    C("sh: else and fi", "shellscript", "if [ -f \"$1\" ]; then\n  █", "cat \"$1\"\nelse\n  echo missing\nfi", "cat \"$1\"\nelse\n  echo missing\nfi"),
    C("sh: done", "shellscript", "for f in *.log; do\n  █", "gzip \"$f\"\ndone", "gzip \"$f\"\ndone"),
    C("sh: case arms and esac", "shellscript", "case \"$1\" in\n  start)\n    █", "run\n    ;;\n  stop)\n    halt\n    ;;\nesac", "run\n    ;;\n  stop)\n    halt\n    ;;\nesac"),
    C("sh: heredoc", "shellscript", "usage() {\n  █\n}\n", "cat <<EOF\nUsage: tool [-v]\nEOF\n}", "cat <<EOF\nUsage: tool [-v]\nEOF"),
    C("sh: comment", "shellscript", "# Deploys the █\nset -e\n", "application to production.", "application to production."),
    C("sh: done re-typed", "shellscript", "while read -r line; do\n  █\ndone\n", "echo \"$line\"\ndone", "echo \"$line\""),
    C("sh: # in a parameter expansion", "shellscript", "name=█\n", "${file#./}\necho \"$name\"", "${file#./}\necho \"$name\""),
    # -- HTML -----------------------------------------------------------------------------------
    C("html: closing tag kept", "html", "<ul>\n  █", "<li>One</li>\n  <li>Two</li>\n</ul>", "<li>One</li>\n  <li>Two</li>\n</ul>"),
    C("html: closing tag re-typed", "html", "<div>\n  █\n</div>\n", "<p>Hello</p>\n</div>", "<p>Hello</p>"),
    C("html: nested element", "html", "<body>\n  █\n</body>\n", "<main>\n    <h1>Title</h1>\n  </main>", "<main>\n    <h1>Title</h1>\n  </main>"),
    C("html: void elements", "html", "<form>\n  █\n</form>\n", "<input name=\"q\">\n  <br>\n  <button>Go</button>", "<input name=\"q\">\n  <br>\n  <button>Go</button>"),
    C("html: comment", "html", "<!-- Navigation █\n", "links for the header -->", "links for the header -->"),
    C("html: script body", "html", "<script>\n  █\n</script>\n", "const x = 1;\n  console.log(x);\n</script>", "const x = 1;\n  console.log(x);"),
    # -- YAML -----------------------------------------------------------------------------------
    C("yaml: mapping body", "yaml", "services:\n  web:\n    █", "image: nginx\n    ports:\n      - \"80:80\"", "image: nginx\n    ports:\n      - \"80:80\""),
    C("yaml: list at the key's indent", "yaml", "steps:\n█", "- run: make\n- run: make test", "- run: make\n- run: make test"),
    C("yaml: block scalar", "yaml", "script: █\n", "|\n  echo one\n  echo two", "|\n  echo one\n  echo two"),
    C("yaml: next key re-typed", "yaml", "a:\n  b: 1\n  █\nc: 3\n", "d: 2\nc: 3", "d: 2"),
    C("yaml: comment", "yaml", "# Settings for the █\nkey: 1\n", "production server.", "production server."),
    C("yaml: # inside a string", "yaml", "color: █\n", "\"#fff\"", "\"#fff\""),
    # -- Markdown -----------------------------------------------------------------------------------
    C("md: list items", "markdown", "- one\n- █\n", "two\n- three", "two\n- three"),
    C("md: fenced code is content", "markdown", "Example:\n\n█\n", "```python\nprint(1)\n```", "```python\nprint(1)\n```"),
    C("md: paragraph and heading", "markdown", "# Title\n\n█\n", "Intro paragraph.\n\n## Usage", "Intro paragraph.\n\n## Usage"),
    C("md: prose with a colon", "markdown", "Steps: █\n", "install it, then run it.", "install it, then run it."),
    # -- CSS / SCSS / Sass -----------------------------------------------------------------------------------
    C("css: rule body", "css", ".a {\n  █\n}\n", "color: red;\n  margin: 0;\n}", "color: red;\n  margin: 0;"),
    C("scss: nested rule closed", "scss", ".a {\n  &:hover {\n    █", "color: blue;\n  }\n}", "color: blue;\n  }\n}"),
    C("sass: # is a colour, not a comment", "sass", "a\n  █", "color: #fff\n  margin: 0", "color: #fff\n  margin: 0"),
    C("sass: comment", "sass", "// Theme colors for the █\n", "dark mode.", "dark mode."),
    C("css: block comment", "css", "/* Layout for the █\n", "main page */", "main page */"),
    C("css: media query", "css", "@media (max-width: 600px) {\n  █\n}\n", ".a {\n    display: none;\n  }\n}", ".a {\n    display: none;\n  }"),
    C("sass: nested block ends by indentation", "sass", ".nav\n  ul\n    █", "margin: 0\n    padding: 0\n  li\n    display: inline", "margin: 0\n    padding: 0"),
    # -- Makefile / Python extras -------------------------------------------------------------------
    C("make: recipe lines are tabs", "makefile", "all: build\n\nbuild:█\n", "\n    go build ./...", "\n\tgo build ./..."),
    C("python: triple-quoted string at column 0", "python", "def usage():\n    █\n", "text = \"\"\"\nUsage: tool\n\"\"\"\n    return text", "text = \"\"\"\nUsage: tool\n\"\"\"\n    return text"),
    C("python: elif/else", "python", "def s(x):\n    if x < 0:\n        █\n", "return -1\n    elif x > 0:\n        return 1\n    else:\n        return 0", "return -1\n    elif x > 0:\n        return 1\n    else:\n        return 0"),
    C("python: try/except/finally", "python", "def f():\n    try:\n        █\n", "go()\n    except OSError:\n        pass\n    finally:\n        done()", "go()\n    except OSError:\n        pass\n    finally:\n        done()"),
    C("python: open bracket continues", "python", "def f():\n    x = call(\n        █\n", "a,\n    b,\n)\n    return x", "a,\n    b,\n    )\n    return x"),
]
