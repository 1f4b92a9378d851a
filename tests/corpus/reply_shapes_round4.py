# ruff: noqa: E501
"""Reply shapes, round four (issue 24, the held-out probe's families as rules, in more languages).

- at the end of the file the reply may finish the blocks around the cursor: their bodies between
  its closers (brace and keyword languages), or after a dedent that follows a ``return``
  (indentation languages);
- an unknown language that closes its blocks with ``end`` lines reads as a keyword language;
- a ``case`` label may sit at its ``switch``'s column when deciding relative or absolute
  indentation;
- edits: an echoed closer below the region does not set the reply's depth; a bracket that ends
  its line steps into a block (re-stepping 2 to 4 spaces); a method after a blank line keeps the
  class body's column.

Each case failed on main before these rules, except the ``control:`` ones.
"""

from __future__ import annotations

from tests.corpus.harness import CompletionCase as C
from tests.corpus.harness import EditCase as E

COMPLETIONS = [
    C("eof: go loop closed, function goes on", "go", "package main\n\nfunc sum(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n\t\t█\n", "total += x\n\t}\n\treturn total\n}", "total += x\n\t}\n\treturn total\n}"),
    C("eof: rust if and loop closed, function goes on", "rust", "fn count(xs: &[i32]) -> usize {\n    let mut n = 0;\n    for x in xs {\n        █\n", "if *x > 0 {\n            n += 1;\n        }\n    }\n    n\n}", "if *x > 0 {\n            n += 1;\n        }\n    }\n    n\n}"),
    C("eof: ruby guard closed, method goes on", "ruby", "class Stack\n  def push(x)\n    if x.nil?\n      █\n", "raise ArgumentError\n    end\n    @items << x\n  end\nend", "raise ArgumentError\n    end\n    @items << x\n  end\nend"),
    C("eof: julia loop closed, function goes on", "julia", "function total(xs)\n    s = 0\n    for x in xs\n        █\n", "s += x\n    end\n    return s\nend", "s += x\n    end\n    return s\nend"),
    C("eof: elixir if closed, function goes on", "elixir", "defmodule M do\n  def f(x) do\n    if x do\n      █\n", ":ok\n    end\n    x\n  end\nend", ":ok\n    end\n    x\n  end\nend"),
    C("eof: csharp loop closed, method and class go on", "csharp", "class Util\n{\n    static int Sum(int[] xs)\n    {\n        var s = 0;\n        foreach (var x in xs)\n        {\n            █\n", "s += x;\n        }\n        return s;\n    }\n}", "s += x;\n        }\n        return s;\n    }\n}"),
    C("eof: python dedent after a return goes on with the function", "python", "def pick(xs):\n    for x in xs:\n        if x > 0:\n            █\n", "return x\n    return None", "return x\n    return None"),
    C("eof: gdscript dedent after a return goes on with the function", "gdscript", "func pick(xs):\n\tfor x in xs:\n\t\tif x > 0:\n\t\t\t█\n", "return x\n\treturn null", "return x\n\treturn null"),
    C("keywords: crystal case end kept before the method's end", "crystal", "class Num\n  def name(x)\n    case x\n    when 1\n      \"one\"\n    █\n  end\nend\n", "else\n      \"many\"\n    end", "else\n      \"many\"\n    end"),
    C("control: crystal block body ends at its end", "crystal", "def run(xs)\n  xs.each do |x|\n    █\n  end\n  puts \"done\"\nend\n", "puts x\n  end\n  puts \"done\"", "puts x"),
    C("switch: go case at the switch column from column 0", "go", "func name(x int) string {\n\t█\n}\n", "switch x {\ncase 0:\n\treturn \"zero\"\ndefault:\n\treturn \"other\"\n}", "switch x {\n\tcase 0:\n\t\treturn \"zero\"\n\tdefault:\n\t\treturn \"other\"\n\t}"),
    C("switch: c case at the switch column from column 0", "c", "int sign(int x) {\n    █\n}\n", "switch (x) {\ncase 0:\n    return 0;\ndefault:\n    return 1;\n}", "switch (x) {\n    case 0:\n        return 0;\n    default:\n        return 1;\n    }"),
]

EDITS = [
    E("echo closer: rust body at column 0 ends with the fn's }", "rust", "impl Acc {\n    fn add(&mut self, x: i64) {\n        self.total += x;\n    }\n}\n", "edit", 2, 2, "self.count += 1;\nself.total += x;\n}", "impl Acc {\n    fn add(&mut self, x: i64) {\n        self.count += 1;\n        self.total += x;\n    }\n}\n", "count the calls"),
    E("echo closer: java body at column 0 ends with the method's }", "java", "class A {\n    void f(int x) {\n        log(x);\n        use(x);\n    }\n}\n", "edit", 2, 3, "if (x < 0) return;\nlog(x);\nuse(x);\n}", "class A {\n    void f(int x) {\n        if (x < 0) return;\n        log(x);\n        use(x);\n    }\n}\n", "skip negatives"),
    E("echo closer: kotlin body at column 0 ends with the fun's }", "kotlin", "class A {\n    fun f(x: Int) {\n        println(x)\n    }\n}\n", "edit", 2, 2, "require(x >= 0)\nprintln(x)\n}", "class A {\n    fun f(x: Int) {\n        require(x >= 0)\n        println(x)\n    }\n}\n", "check x"),
    E("restep: js call arguments after a bracket that ends the line", "javascript", "function f() {\n    if (ok) {\n        send(a, b);\n    }\n}\n", "edit", 2, 2, "send(\n  a,\n  b,\n);", "function f() {\n    if (ok) {\n        send(\n            a,\n            b,\n        );\n    }\n}\n", "one argument per line"),
    E("restep: jsx element in a paren that ends the line", "javascriptreact", "export const L = ({ xs }) => (\n    <ul>\n        {xs.map((x) => <li>{x}</li>)}\n    </ul>\n);\n", "edit", 2, 2, "{xs.map((x) => (\n  <li key={x}>{x}</li>\n))}", "export const L = ({ xs }) => (\n    <ul>\n        {xs.map((x) => (\n            <li key={x}>{x}</li>\n        ))}\n    </ul>\n);\n", "add a key"),
    E("groups: python method after a blank line keeps the class body's column", "python", "class Box:\n    def put(self, x):\n        self.x = x\n", "edit", 2, 2, "self.items.append(x)\n\n    def take(self):\n        return self.items.pop()", "class Box:\n    def put(self, x):\n        self.items.append(x)\n\n    def take(self):\n        return self.items.pop()\n", "keep a list and add take"),
]
