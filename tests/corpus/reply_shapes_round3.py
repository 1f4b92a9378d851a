"""Reply shapes, round three (issue 24): the families a fresh probe found, each in several languages.

1. prose that quotes code (backticks, brackets) after the code;
2. relative versus absolute indentation decided per line group (a new top-level definition after
   blank lines; the model's repeat of the next lines at the document's columns);
3. brace languages without a grammar row (Zig, Solidity, V, Odin, Groovy…);
4. JSX elements as blocks;
5. a closer that closes what the reply (or the line above) opened is not an echo of the next line;
6. edits that end in a closer, and replies in 2-space steps for a 4-space file;
7. a unified diff as the reply;
8. a one-line reply for one line of a multi-line region.

Documents mark the cursor with ``█``.
"""

from __future__ import annotations

from tests.corpus.harness import CompletionCase as C
from tests.corpus.harness import EditCase as E

COMPLETIONS: list[C] = [
    # -- 1. prose that quotes code -----------------------------------------------------------
    C("prose: python comprehension in backticks", "python", "def truthy(xs):\n    █\n", "return [x for x in xs if x]\n\nThe comprehension `[x for x in xs if x]` drops every falsy item.", "return [x for x in xs if x]"),
    C("prose: interval in brackets after js", "javascript", "function clamp(x, lo, hi) {\n  █\n}\n", "return Math.min(Math.max(x, lo), hi);\n\nThis keeps x within [lo, hi].", "return Math.min(Math.max(x, lo), hi);"),
    C("prose: php variable in backticks", "php", "<?php\nfunction total($items) {\n    $sum = 0;\n    █\n}\n", "foreach ($items as $item) {\n    $sum += $item;\n}\nreturn $sum;\n\nThe loop variable was misspelled as `$itme`.", "foreach ($items as $item) {\n        $sum += $item;\n    }\n    return $sum;"),
    C("prose: go generic in backticks", "go", "func Sum(xs []int) int {\n\ttotal := 0\n\t█\n}\n", "for _, x := range xs {\n\ttotal += x\n}\nreturn total\n\nThis ranges over `xs` and returns the `total`; note `_` ignores the index.", "for _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total"),
    C("prose: rust reference in backticks", "rust", "fn len(v: &Vec<u8>) -> usize {\n    █\n}\n", "v.len()\n\nTaking `&Vec<u8>` borrows the vector instead of moving it.", "v.len()"),
    C("prose: ruby block in backticks", "ruby", "def names(users)\n  █\nend\n", "users.map(&:name)\n\nThe `&:name` shorthand calls `name` on each user.", "users.map(&:name)"),
    C("prose: c pointer in backticks", "c", "int first(int *xs, int n) {\n    █\n}\n", "return n > 0 ? xs[0] : -1;\n\nReturns `xs[0]` or -1 when the array is empty.", "return n > 0 ? xs[0] : -1;"),
    C("prose: kotlin lambda in backticks", "kotlin", "fun evens(xs: List<Int>): List<Int> {\n    █\n}\n", "return xs.filter { it % 2 == 0 }\n\n`filter { it % 2 == 0 }` keeps the even numbers only.", "return xs.filter { it % 2 == 0 }"),
    # -- 2. indentation per line group -------------------------------------------------------
    C("groups: python def after the with block", "python", "import json\n\n\ndef load(path):\n    with open(path) as fh:\n        █\n", "return json.load(fh)\n\n\ndef save(path, data):\n    with open(path, \"w\") as fh:\n        json.dump(data, fh)", "return json.load(fh)\n\n\ndef save(path, data):\n    with open(path, \"w\") as fh:\n        json.dump(data, fh)"),
    C("groups: zig pub fn after the body", "zig", "const std = @import(\"std\");\n\npub fn add(a: i32, b: i32) i32 {\n    █\n", "return a + b;\n}\n\npub fn sub(a: i32, b: i32) i32 {\n    return a - b;\n}", "return a + b;\n}\n\npub fn sub(a: i32, b: i32) i32 {\n    return a - b;\n}"),
    C("groups: js list closer echoed at the file's columns", "javascript", "module.exports = {\n  plugins: [\n    █\n  ],\n};\n", "react(),\nlint(),\n  ],\n};", "react(),\n    lint(),"),
    C("groups: python list closer echoed at the file's columns", "python", "SETTINGS = {\n    \"apps\": [\n        █\n    ],\n}\n", "\"auth\",\n\"admin\",\n    ],\n}", "\"auth\",\n        \"admin\","),
    C("groups: python top-level function after two blank lines", "python", "class Cart:\n    def total(self):\n        █\n", "return sum(self.items)\n\n\ndef empty_cart():\n    return Cart()", "return sum(self.items)\n\n\ndef empty_cart():\n    return Cart()"),
    C("groups: nim proc after the body", "nim", "proc add(a, b: int): int =\n  █\n", "result = a + b\n\n\nproc sub(a, b: int): int =\n  result = a - b", "result = a + b\n\n\nproc sub(a, b: int): int =\n  result = a - b"),
    C("groups: rust vec closer echoed at the file's columns", "rust", "fn f() -> Vec<u8> {\n    vec![\n        █\n    ]\n}\n", "1,\n2,\n    ]\n}", "1,\n        2,"),
    C("groups: json array closer echoed at the file's columns", "json", "{\n  \"a\": [\n    █\n  ],\n  \"b\": 1\n}\n", "1,\n2\n  ],\n  \"b\": 1", "1,\n    2"),
    C("groups: c initializer closer echoed at column 0", "c", "int xs[] = {\n    █\n};\n", "1,\n2,\n};", "1,\n    2,"),
    # -- 3. brace languages without a grammar row -----------------------------------------------
    C("braces: zig closers at the end of the file", "zig", "pub fn main() void {\n    for (items) |item| {\n        █", "use(item);\n    }\n}", "use(item);\n    }\n}"),
    C("braces: solidity closers at the end of the file", "solidity", "contract Counter {\n    uint count;\n\n    function inc() public {\n        █", "count += 1;\n    }\n}", "count += 1;\n    }\n}"),
    C("braces: v relative closer echoes the next line", "v", "fn main() {\n\tfor n in nums {\n\t\t█\n\t}\n}\n", "println(n)\n}", "println(n)"),
    C("braces: odin closers at the end of the file", "odin", "package main\n\nmain :: proc() {\n\tfor i in 0..<3 {\n\t\t█", "fmt.println(i)\n\t}\n}", "fmt.println(i)\n\t}\n}"),
    C("braces: hcl relative closer echoes the next line", "hcl", "resource \"aws_instance\" \"web\" {\n  tags = {\n    █\n  }\n}\n", "Name = \"web\"\n}", "Name = \"web\""),
    C("braces: gleam relative closers echo the next lines", "gleam", "pub fn main() {\n  case x {\n    █\n  }\n}\n", "1 -> \"one\"\n_ -> \"many\"\n}\n}", "1 -> \"one\"\n    _ -> \"many\""),
    # -- 4. JSX elements as blocks -------------------------------------------------------------
    C("jsx: relative element in return", "javascriptreact", "export function App() {\n  return (\n    █\n  );\n}\n", "<div className=\"app\">\n  <h1>Hello</h1>\n  <p>Welcome</p>\n</div>", "<div className=\"app\">\n      <h1>Hello</h1>\n      <p>Welcome</p>\n    </div>"),
    C("tsx: relative element in return", "typescriptreact", "export function List({ items }: Props) {\n  return (\n    █\n  );\n}\n", "<ul>\n  {items.map((i) => (\n    <li key={i}>{i}</li>\n  ))}\n</ul>", "<ul>\n      {items.map((i) => (\n        <li key={i}>{i}</li>\n      ))}\n    </ul>"),
    C("jsx: nested relative elements", "javascriptreact", "const Card = () => (\n  <section>\n    █\n  </section>\n);\n", "<header>\n  <h2>Title</h2>\n</header>\n<footer>\n  <small>x</small>\n</footer>", "<header>\n      <h2>Title</h2>\n    </header>\n    <footer>\n      <small>x</small>\n    </footer>"),
    C("jsx: js file with jsx", "javascript", "function Nav() {\n  return (\n    █\n  );\n}\n", "<nav>\n  <a href=\"/\">Home</a>\n</nav>", "<nav>\n      <a href=\"/\">Home</a>\n    </nav>"),
    C("tsx: fragment relative", "typescriptreact", "export const Page = () => {\n  return (\n    █\n  );\n};\n", "<>\n  <Header />\n  <Main />\n</>", "<>\n      <Header />\n      <Main />\n    </>"),
    C("jsx: element with props on several lines", "javascriptreact", "function B() {\n  return (\n    █\n  );\n}\n", "<button\n  type=\"button\"\n  onClick={go}\n>\n  Go\n</button>", "<button\n      type=\"button\"\n      onClick={go}\n    >\n      Go\n    </button>"),
    # -- 5. a closer that closes what is open ------------------------------------------------
    C("balance: ruby end of an open if", "ruby", "def grade(score)\n  if score >= 90\n    \"A\"\n  █\nend\n", "elsif score >= 80\n    \"B\"\n  else\n    \"C\"\n  end", "elsif score >= 80\n    \"B\"\n  else\n    \"C\"\n  end"),
    C("balance: lua end of an open if", "lua", "function sign(x)\n  if x < 0 then\n    return -1\n  █\nend\n", "elseif x > 0 then\n    return 1\n  end", "elseif x > 0 then\n    return 1\n  end"),
    C("balance: elixir end of an open if", "elixir", "defmodule M do\n  def f(x) do\n    if x do\n      1\n    █\n  end\nend\n", "else\n      0\n    end", "else\n      0\n    end"),
    C("balance: shell fi of an open inner if", "shellscript", "if [ -n \"$a\" ]; then\n  if [ -n \"$b\" ]; then\n    echo ab\n  █\nfi\n", "else\n    echo a\n  fi", "else\n    echo a\n  fi"),
    C("balance: html closing tag of the inner div", "html", "<div class=\"outer\">\n  <div class=\"inner\">\n    <p>a</p>\n    █\n</div>\n", "<p>b</p>\n  </div>", "<p>b</p>\n  </div>"),
    C("balance: julia end of an open if", "julia", "function f(x)\n    if x > 0\n        1\n    █\nend\n", "else\n        0\n    end", "else\n        0\n    end"),
]

_RUST = "fn name(x: u8) -> &'static str {\n    match x {\n        0 => \"zero\",\n        _ => \"many\"\n    }\n}\n"
_GO = "func f(x int) int {\n\tif x > 0 {\n\t\treturn 1\n\t}\n\treturn 0\n}\n"
_JAVA = "class A {\n    void f(int x) {\n        if (x > 0) {\n            log(x)\n        }\n    }\n}\n"
_GO_IF = "func f(x int) {\n\tif x > 0 {\n\t\tlog(1)\n\t}\n}\n"
_PY_LONG = "def f(a,\n      b,\n      c)\n    return a + b + c\n"

EDITS: list[E] = [
    # -- 1. prose that quotes code, in an edit ---------------------------------------------------
    E("prose: php sentence with a variable", "php", "<?php\nfunction f($items) {\n    foreach ($items as $itme) {\n        echo $item;\n    }\n}\n", "fix", 2, 2, "foreach ($items as $item) {\n\nThe loop variable was misspelled as `$itme`.", "<?php\nfunction f($items) {\n    foreach ($items as $item) {\n        echo $item;\n    }\n}\n"),
    E("prose: python sentence at column 0 with brackets", "python", "class A:\n    def f(self, xs):\n        return xs[0\n", "fix", 2, 2, "        return xs[0]\n\nThe index expression `xs[0` lacked its closing `]`.", "class A:\n    def f(self, xs):\n        return xs[0]\n"),
    E("prose: js sentence quoting an arrow", "javascript", "const f = (xs) => {\n  return xs.map(x => x * 2;\n};\n", "fix", 1, 1, "  return xs.map((x) => x * 2);\n\nThe call to `map(x => ...)` was missing its `)`.", "const f = (xs) => {\n  return xs.map((x) => x * 2);\n};\n"),
    E("prose: ruby sentence with a hash", "ruby", "def f(h)\n  h.fetch(:a\nend\n", "fix", 1, 1, "  h.fetch(:a)\n\nThe `fetch` call on `h = {a: 1}` needs its closing `)`.", "def f(h)\n  h.fetch(:a)\nend\n"),
    # -- 6. closing braces and steps -------------------------------------------------------------
    E("closer: rust match answered whole", "rust", _RUST, "fix", 1, 4, "    match x {\n        0 => \"zero\",\n        _ => \"many\",\n    }", _RUST.replace("\"many\"\n", "\"many\",\n")),
    E("closer: go if answered whole", "go", _GO_IF, "fix", 1, 3, "\tif x > 0 {\n\t\tlog(2)\n\t}", _GO_IF.replace("log(1)", "log(2)")),
    E("closer: java if answered whole", "java", _JAVA, "fix", 2, 4, "if (x > 0) {\n    log(x);\n}", _JAVA.replace("log(x)\n", "log(x);\n")),
    E("closer: ruby if answered whole", "ruby", "def f(x)\n  if x\n    1\n  end\nend\n", "edit", 1, 3, "  if x\n    2\n  end", "def f(x)\n  if x\n    2\n  end\nend\n"),
    E("closer: c while answered whole", "c", "void f(int n) {\n    while (n > 0) {\n        n--\n    }\n}\n", "fix", 1, 3, "while (n > 0) {\n    n--;\n}", "void f(int n) {\n    while (n > 0) {\n        n--;\n    }\n}\n"),
    E("closer: kotlin if answered whole", "kotlin", "fun f(x: Int) {\n    if (x > 0) {\n        prnt(x)\n    }\n}\n", "fix", 1, 3, "    if (x > 0) {\n        println(x)\n    }", "fun f(x: Int) {\n    if (x > 0) {\n        println(x)\n    }\n}\n"),
    E("closer: lua if answered whole", "lua", "function f(x)\n  if x then\n    prnt(x)\n  end\nend\n", "fix", 1, 3, "  if x then\n    print(x)\n  end", "function f(x)\n  if x then\n    print(x)\n  end\nend\n"),
    E("steps: 2-space reply in a 4-space rust file", "rust", "fn f(xs: &[u8]) {\n    for x in xs {\n        log(x);\n    }\n}\n", "edit", 1, 3, "    for x in xs {\n      if *x > 0 {\n        log(x);\n      }\n    }", "fn f(xs: &[u8]) {\n    for x in xs {\n        if *x > 0 {\n            log(x);\n        }\n    }\n}\n"),
    E("steps: 2-space reply in a 4-space java file", "java", "class A {\n    void f(int x) {\n        log(x);\n    }\n}\n", "edit", 2, 2, "        if (x > 0) {\n          log(x);\n        }", "class A {\n    void f(int x) {\n        if (x > 0) {\n            log(x);\n        }\n    }\n}\n"),
    E("steps: 4-space reply in a 2-space ruby file", "ruby", "def f(xs)\n  xs.each do |x|\n    puts x\n  end\nend\n", "edit", 2, 2, "    if x\n        puts x\n    end", "def f(xs)\n  xs.each do |x|\n    if x\n      puts x\n    end\n  end\nend\n"),
    E("steps: 2-space reply in a 4-space python file", "python", "def f(xs):\n    for x in xs:\n        print(x)\n", "edit", 1, 2, "for x in xs:\n  if x:\n    print(x)", "def f(xs):\n    for x in xs:\n        if x:\n            print(x)\n"),
    E("steps: 2-space reply in a 4-space js file", "javascript", "function f(xs) {\n    for (const x of xs) {\n        log(x);\n    }\n}\n", "edit", 1, 3, "for (const x of xs) {\n  if (x) {\n    log(x);\n  }\n}", "function f(xs) {\n    for (const x of xs) {\n        if (x) {\n            log(x);\n        }\n    }\n}\n"),
    # -- 7. unified diffs --------------------------------------------------------------------------
    E("diff: python hunk applied", "python", "def area(w, h)\n    return w * h\n", "fix", 0, 0, "```diff\n--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,2 @@\n-def area(w, h)\n+def area(w, h):\n     return w * h\n```", "def area(w, h):\n    return w * h\n"),
    E("diff: js hunk without file headers", "javascript", "function f(a) {\n  const x = g(a;\n  return x;\n}\n", "fix", 1, 1, "@@ -1,4 +1,4 @@\n function f(a) {\n-  const x = g(a;\n+  const x = g(a);\n   return x;\n }", "function f(a) {\n  const x = g(a);\n  return x;\n}\n"),
    E("diff: go hunk fenced", "go", _GO, "fix", 2, 2, "```diff\n@@ -2,3 +2,3 @@\n \tif x > 0 {\n-\t\treturn 1\n+\t\treturn 2\n \t}\n```", _GO.replace("return 1", "return 2")),
    E("diff: rust hunk", "rust", _RUST, "fix", 3, 3, "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,3 +3,3 @@\n         0 => \"zero\",\n-        _ => \"many\"\n+        _ => \"many\",\n     }", _RUST.replace("\"many\"\n", "\"many\",\n")),
    E("diff: ruby hunk", "ruby", "def f(x)\n  puts x\nedn\n", "fix", 2, 2, "```diff\n@@ -1,3 +1,3 @@\n def f(x)\n   puts x\n-edn\n+end\n```", "def f(x)\n  puts x\nend\n"),
    E("diff: c hunk", "c", "int f(void) {\n    return 1\n}\n", "fix", 1, 1, "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n int f(void) {\n-    return 1\n+    return 1;\n }", "int f(void) {\n    return 1;\n}\n"),
    # -- 8. one line of a multi-line region ------------------------------------------------------
    E("one line: python third line of a call", "python", _PY_LONG, "fix", 0, 2, "      c):", _PY_LONG.replace("c)\n", "c):\n")),
    E("one line: js middle line", "javascript", "const o = {\n  a: 1\n  b: 2,\n};\n", "fix", 0, 3, "  a: 1,", "const o = {\n  a: 1,\n  b: 2,\n};\n"),
    E("one line: go last line of a range", "go", "func f() {\n\tx := 1\n\ty := 2\n\treturn x + z\n}\n", "fix", 1, 3, "\treturn x + y", "func f() {\n\tx := 1\n\ty := 2\n\treturn x + y\n}\n"),
    E("one line: rust first line", "rust", "fn f() -> u8 {\n    let x = 1\n    let y = 2;\n    x + y\n}\n", "fix", 1, 3, "    let x = 1;", "fn f() -> u8 {\n    let x = 1;\n    let y = 2;\n    x + y\n}\n"),
    E("one line: ruby middle line", "ruby", "def f\n  a = 1\n  b = a +\n  a + b\nend\n", "fix", 1, 3, "  b = a + 1", "def f\n  a = 1\n  b = a + 1\n  a + b\nend\n"),
    E("one line: java last line", "java", "class A {\n    int f() {\n        int a = 1;\n        int b = 2;\n        return a + c;\n    }\n}\n", "fix", 2, 4, "return a + b;", "class A {\n    int f() {\n        int a = 1;\n        int b = 2;\n        return a + b;\n    }\n}\n"),
]
