"""Reply shapes: the ways a chat model answers, each with what the user must end up with.

Documents mark the cursor with ``█``. Every shape runs as written (LF) and again with the
document, the reply and the expected text in CRLF (see ``test_corpus.py``).
"""

from __future__ import annotations

from tests.corpus.harness import CompletionCase as C
from tests.corpus.harness import EditCase as E

CALL = "def total(items):\n    result = compute_█\n"
LOOP = "def process(items):\n    for item in items:\n        █\n"
LOOP_BODY = "if item.valid:\n            handle(item)"
TABS = "def f(x):\n\tif x:\n\t\t█\n"
OPENER = "def area(w, h):█\n"
PRINT = 'print(█)\n'
NEXT = "def f(a):\n    if a:\n        █\n    return a\n"
JS_ADD = "function add(a, b) {\n  return a + █\n}\n"
CLASS = "class Cart:\n    def __init__(self):\n        self.items = []\n\n    █\n"
KW = "def load(path):\n    with open(path) as fh:\n        data = js█\n"

COMPLETIONS: list[C] = [
    # -- echoes of the text before the cursor --------------------------------------------
    C("exact continuation", "python", CALL, "total(items)", "total(items)"),
    C("partial word echoed", "python", CALL, "compute_total(items)", "total(items)"),
    C("whole line echoed", "python", CALL, "result = compute_total(items)", "total(items)"),
    C("line echoed with indent", "python", CALL, "    result = compute_total(items)", "total(items)"),
    C("restart at line above", "python", CALL, "def total(items):\n    result = compute_total(items)", "total(items)"),
    C("restart above, dedented", "python", CALL, "def total(items):\nresult = compute_total(items)", "total(items)"),
    C("only echo of the prefix", "python", CALL, "compute_", None),
    C("only echo of the line", "python", CALL, "    result = compute_", None),
    C("echo of a keyword", "python", KW, "json.load(fh)", "on.load(fh)"),
    C("echo of the whole statement", "python", KW, "data = json.load(fh)", "on.load(fh)"),
    C("whitespace prefix echoed", "python", LOOP, "        handle(item)", "handle(item)"),
    C("rewrite of the whole function", "python", LOOP, "def process(items):\n    for item in items:\n        if item.valid:\n            handle(item)", LOOP_BODY),
    C("rewrite starting at the loop, relative", "python", LOOP, "for item in items:\n    if item.valid:\n        handle(item)", LOOP_BODY),
    C("only repeats the lines above", "python", LOOP, "for item in items:", None),
    C("only repeats the function", "python", LOOP, "def process(items):\n    for item in items:", None),
    C("echo of the opener line", "python", OPENER, "def area(w, h):\n    return w * h", "\n    return w * h"),
    # -- fences and backticks --------------------------------------------------------------
    C("fenced", "python", CALL, "```python\ncompute_total(items)\n```", "total(items)"),
    C("fenced without language", "python", CALL, "```\ntotal(items)\n```", "total(items)"),
    C("tilde fence", "python", CALL, "~~~py\ntotal(items)\n~~~", "total(items)"),
    C("prose with colon before fence", "python", CALL, "Here is the completion:\n```python\ncompute_total(items)\n```", "total(items)"),
    C("prose without colon before fence", "python", CALL, "The completed line\n```python\ncompute_total(items)\n```", "total(items)"),
    C("prose and blank before fence", "python", CALL, "Sure! This finishes the call.\n\n```python\ntotal(items)\n```", "total(items)"),
    C("prose after the fence", "python", CALL, "```python\ntotal(items)\n```\nThis sums the items.", "total(items)"),
    C("unclosed fence", "python", CALL, "```python\ntotal(items)", "total(items)"),
    C("single backticks", "python", CALL, "`compute_total(items)`", "total(items)"),
    C("single backticks around FIM text", "python", CALL, "`total(items)`", "total(items)"),
    C("fenced relative block", "python", LOOP, "```python\nif item.valid:\n    handle(item)\n```", LOOP_BODY),
    C("indented fence", "python", LOOP, "  ```python\n  if item.valid:\n      handle(item)\n  ```", LOOP_BODY),
    # -- prose -----------------------------------------------------------------------------
    C("stock chatter line", "python", CALL, "Here's the completion:\ntotal(items)", "total(items)"),
    C("chatter without colon", "python", CALL, "Sure, here you go.\ntotal(items)", "total(items)"),
    C("explanation after a blank line", "python", CALL, "total(items)\n\nThis calls compute_total on every item.", "total(items)"),
    C("explanation right after the code", "python", LOOP, "if item.valid:\n    handle(item)\nThis skips invalid items.", LOOP_BODY),
    C("prose before and after", "python", LOOP, "Sure! Here's the loop body:\n\nif item.valid:\n    handle(item)\n\nThis handles only valid items.", LOOP_BODY),
    C("note line at the end", "python", CALL, "total(items)\n\nNote: compute_total must be imported.", "total(items)"),
    C("prose in a comment is kept", "python", "# This function computes the █\n", "total of all items in the list.", "total of all items in the list."),
    C("prose in a docstring is kept", "python", 'def f():\n    """█\n', "Return the answer to everything.", "Return the answer to everything."),
    C("prose in markdown is kept", "markdown", "# Plan\n\nFirst we █\n", "read the file. Here is the plan: parse it.", "read the file. Here is the plan: parse it."),
    C("colon in code is not prose", "python", LOOP, "if item.valid:\n    handle(item)", LOOP_BODY),
    # -- indentation -----------------------------------------------------------------------
    C("relative body", "python", LOOP, "if item.valid:\n    handle(item)", LOOP_BODY),
    C("absolute body with echoed indent", "python", LOOP, "        if item.valid:\n            handle(item)", LOOP_BODY),
    C("fill-in-the-middle body", "python", LOOP, "if item.valid:\n            handle(item)", LOOP_BODY),
    C("leading newline on a blank line", "python", LOOP, "\nif item.valid:\n    handle(item)", LOOP_BODY),
    C("leading blank lines and indent", "python", LOOP, "\n\n        if item.valid:\n            handle(item)", LOOP_BODY),
    C("relative siblings", "python", LOOP, "check(item)\nhandle(item)", "check(item)\n        handle(item)"),
    C("spaces in a tab file", "python", TABS, "y = x\n        return y", "y = x\n\t\treturn y"),
    C("relative spaces in a tab file", "python", TABS, "y = x\nreturn y", "y = x\n\t\treturn y"),
    C("two-space model in a tab file", "python", TABS, "if y:\n  z()", "if y:\n\t\t\tz()"),
    C("tabs in a space file", "python", LOOP, "if item.valid:\n\thandle(item)", LOOP_BODY),
    C("method in a class, relative", "python", CLASS, "def add(self, item):\n    self.items.append(item)", "def add(self, item):\n        self.items.append(item)"),
    C("method in a class, absolute", "python", CLASS, "    def add(self, item):\n        self.items.append(item)", "def add(self, item):\n        self.items.append(item)"),
    # -- scope and repetition ----------------------------------------------------------------
    C("runs past the block", "python", LOOP, "handle(item)\n    return items\n\ndef other():\n    pass", "handle(item)"),
    C("loops", "python", LOOP, "x = 1\nx = 1\nx = 1\nx = 1", "x = 1"),
    C("single-line mode", "python", LOOP, "if item.valid:\n    handle(item)", "if item.valid:", False),
    # -- text after the cursor ---------------------------------------------------------------
    C("rest of line re-typed", "python", PRINT, '"hello")', '"hello"'),
    C("whole call re-typed", "python", PRINT, 'print("hello")', '"hello"'),
    C("suffix-only reply", "python", PRINT, ")", None),
    C("next line re-typed", "python", NEXT, "a += 1\n    return a", "a += 1"),
    C("next line re-typed, relative", "python", NEXT, "a += 1\nreturn a", "a += 1"),
    C("only the next line", "python", NEXT, "    return a", None),
    # -- empty, whitespace, non-ASCII ----------------------------------------------------------
    C("empty reply", "python", CALL, "", None),
    C("whitespace reply", "python", CALL, "   \n  \n", None),
    C("fence with nothing inside", "python", CALL, "```python\n```", None),
    C("non-ASCII before the cursor", "python", 'text = "日本語" + tra█\n', 'text = "日本語" + translate(x)', "nslate(x)"),
    C("non-ASCII in the reply", "python", "message = █\n", '"naïve café ☕"', '"naïve café ☕"'),
    C("emoji before the cursor", "python", 'tag = "🚀" + na█\n', 'name', "me"),
    # -- C-family shapes ------------------------------------------------------------------------
    C("js: exact", "javascript", JS_ADD, "b;", "b;"),
    C("js: statement echoed", "javascript", JS_ADD, "return a + b;", "b;"),
    C("js: closer re-typed", "javascript", JS_ADD, "b;\n}", "b;"),
    C("js: whole function fenced", "javascript", JS_ADD, "```js\nfunction add(a, b) {\n  return a + b;\n}\n```", "b;"),
    C("js: prose then code", "javascript", JS_ADD, "You can finish it like this:\nreturn a + b;", "b;"),
    C("ts: body relative", "typescript", "function f(xs: number[]) {\n    for (const x of xs) {\n        █\n    }\n}\n", "if (x > 0) {\n    log(x);\n}", "if (x > 0) {\n            log(x);\n        }"),
    C("ts: body absolute", "typescript", "function f(xs: number[]) {\n    for (const x of xs) {\n        █\n    }\n}\n", "if (x > 0) {\n            log(x);\n        }", "if (x > 0) {\n            log(x);\n        }"),
    C("go: relative spaces become tabs", "go", "func f(xs []int) {\n\tfor _, x := range xs {\n\t\t█\n\t}\n}\n", "if x > 0 {\n    log(x)\n}", "if x > 0 {\n\t\t\tlog(x)\n\t\t}"),
    C("rust: echo of fn line", "rust", "fn area(w: u32, h: u32) -> u32 {\n    █\n}\n", "fn area(w: u32, h: u32) -> u32 {\n    w * h\n}", "w * h"),
    C("c: chatter and fence", "c", "int sq(int x) {\n    return █\n}\n", "Here's the fix:\n```c\nreturn x * x;\n```", "x * x;"),
    C("java: markdown bold prose", "java", "class A {\n    int f() {\n        return █\n    }\n}\n", "**Completion:**\n```java\nreturn 42;\n```", "42;"),
    C("ruby: echo and end re-typed", "ruby", "def greet(name)\n  puts █\nend\n", "puts \"Hello, #{name}\"\nend", "\"Hello, #{name}\""),
    C("shell: fenced bash", "shellscript", "for f in *.txt; do\n  █\ndone\n", "```bash\necho \"$f\"\n```", 'echo "$f"'),
    C("lua: echo of the line above", "lua", "function f(x)\n  █\nend\n", "function f(x)\n  return x * 2\nend", "return x * 2"),
]

_FIX_DOC = "import re\n\n\ndef area(width, height)\n    return width * height\n"
_FIXED = "import re\n\n\ndef area(width, height):\n    return width * height\n"
_METHOD = "class Shape:\n    def area(self)\n        return self.w * self.h\n\n    def name(self):\n        return 'shape'\n"
_METHOD_FIXED = _METHOD.replace("def area(self)\n", "def area(self):\n")
_TAB_DOC = "class Shape:\n\tdef area(self)\n\t\treturn self.w * self.h\n"
_TAB_FIXED = _TAB_DOC.replace("(self)\n", "(self):\n")
_JS_DOC = "function f(a) {\n  const x = g(a;\n  return x;\n}\n"
_JS_FIXED = _JS_DOC.replace("g(a;", "g(a);")
_SIMPLIFY_DOC = "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x * 2)\n    return out\n"

EDITS: list[E] = [
    E("fix: whole function answered", "python", _FIX_DOC, "fix", 3, 3, "def area(width, height):\n    return width * height", _FIXED),
    E("fix: exact line", "python", _FIX_DOC, "fix", 3, 3, "def area(width, height):", _FIXED),
    E("fix: fenced with prose", "python", _FIX_DOC, "fix", 3, 3, "Here is the fixed code:\n```python\ndef area(width, height):\n    return width * height\n```\nI added the missing colon.", _FIXED),
    E("fix: prose without fence", "python", _FIX_DOC, "fix", 3, 3, "The function header lacks a colon.\n\ndef area(width, height):", _FIXED),
    E("fix: echo of lines above", "python", _FIX_DOC, "fix", 3, 3, "import re\n\n\ndef area(width, height):", _FIXED),
    E("fix: whole file answered", "python", _FIX_DOC, "fix", 3, 3, _FIXED, _FIXED),
    E("fix: region markers echoed", "python", _FIX_DOC, "fix", 3, 3, "<region>\ndef area(width, height):\n</region>", _FIXED),
    E("fix: single backticks", "python", _FIX_DOC, "fix", 3, 3, "`def area(width, height):`", _FIXED),
    E("syntax: only the fixed line", "python", _FIX_DOC, "syntax", 3, 3, "def area(width, height):", _FIXED),
    E("syntax: whole region", "python", _FIX_DOC, "syntax", 3, 3, "\ndef area(width, height):\n    return width * height", _FIXED),
    E("syntax: function without blank line", "python", _FIX_DOC, "syntax", 3, 3, "def area(width, height):\n    return width * height", _FIXED),
    E("fix: method dedented to column 0", "python", _METHOD, "fix", 1, 1, "def area(self):\n    return self.w * self.h", _METHOD_FIXED),
    E("fix: method line dedented", "python", _METHOD, "fix", 1, 1, "def area(self):", _METHOD_FIXED),
    E("fix: method with class echoed", "python", _METHOD, "fix", 1, 1, "class Shape:\n    def area(self):\n        return self.w * self.h", _METHOD_FIXED),
    E("syntax: method, only the line", "python", _METHOD, "syntax", 1, 1, "    def area(self):", _METHOD_FIXED),
    E("fix: spaces in a tab file", "python", _TAB_DOC, "fix", 1, 1, "    def area(self):\n        return self.w * self.h", _TAB_FIXED),
    E("fix: unchanged reply", "python", _FIXED, "fix", 3, 3, "def area(width, height):", _FIXED),
    E("js: fix with the statement only", "javascript", _JS_DOC, "fix", 1, 1, "const x = g(a);", _JS_FIXED),
    E("js: fix with the whole function", "javascript", _JS_DOC, "fix", 1, 1, "function f(a) {\n  const x = g(a);\n  return x;\n}", _JS_FIXED),
    E("js: syntax, line dedented", "javascript", _JS_DOC, "syntax", 1, 1, "const x = g(a);", _JS_FIXED),
    E("simplify: shorter reply replaces the selection", "python", _SIMPLIFY_DOC, "simplify", 1, 4, "    return [x * 2 for x in xs]", "def f(xs):\n    return [x * 2 for x in xs]\n"),
    E("simplify: dedented reply", "python", _SIMPLIFY_DOC, "simplify", 1, 4, "return [x * 2 for x in xs]", "def f(xs):\n    return [x * 2 for x in xs]\n"),
    E("docstring: function echoed with docstring", "python", _SIMPLIFY_DOC, "docstring", 0, 4, 'def f(xs):\n    """Double every item."""\n    out = []\n    for x in xs:\n        out.append(x * 2)\n    return out', _SIMPLIFY_DOC.replace("(xs):\n", '(xs):\n    """Double every item."""\n')),
    E("edit: body only with trailing prose", "python", _SIMPLIFY_DOC, "edit", 3, 3, "        out.append(x * 3)\n\nThis triples each item.", _SIMPLIFY_DOC.replace("x * 2", "x * 3")),
    E("edit: last line without newline", "python", "x = 1\ny = 2", "edit", 1, 1, "y = 3", "x = 1\ny = 3"),
    E("fix: the line above changed too", "python", "def area(w, h):\n    return width * h\n", "fix", 1, 1, "def area(width, h):\n    return width * h", "def area(width, h):\n    return width * h\n"),
    E("js: fix with the header above changed", "javascript", "function f(a) {\n  return b;\n}\n", "fix", 1, 1, "function f(b) {\n  return b;", "function f(b) {\n  return b;\n}\n"),
    E("edit: a line added after one like the line above", "python", "x = 0\nx = 1\n", "edit", 1, 1, "x = 1\ny = 2", "x = 0\nx = 1\ny = 2\n"),
    E("edit: non-ASCII kept", "python", "name = 'café'\nprint(nme)\n", "fix", 1, 1, "print(name)", "name = 'café'\nprint(name)\n"),
]
