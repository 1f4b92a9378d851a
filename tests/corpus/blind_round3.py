# Outside (blind) cases for issue 24: reply shapes of chat models, eight families plus controls.
# Written without reading the implementation.
#
# Conventions
#  * COMPLETIONS: "document" contains exactly one CURSOR; "expected" is the ghost text inserted at
#    the cursor (compare after stripping trailing whitespace/newlines), or None for "show nothing".
#  * EDITS: "first"/"last" are 0-based inclusive line numbers of the region; "expected" is the whole
#    document after accepting (compare modulo a trailing newline).  A case with "refused": True
#    expects the edit to be refused (document unchanged, a clear message to the user).
#  * family: 1..8 as numbered in issue 24, or "control" (then "control_of" names the family whose
#    naive fix would get the case wrong).
#  * _splice below only builds expected documents from the region; the values are plain strings.

CURSOR = "█"


def _splice(doc, first, last, new_text):
    lines = doc.split("\n")
    return "\n".join(lines[:first] + new_text.split("\n") + lines[last + 1:])


COMPLETIONS = []
EDITS = []

# ---------------------------------------------------------------------------------------------
# Family 1: an explanation that quotes code is prose, not code
# ---------------------------------------------------------------------------------------------

COMPLETIONS += [
    {
        "name": "py_clamp_fenced_echo_then_backtick_prose",
        "family": 1, "language": "python",
        "document": "def clamp(x, lo, hi):\n    █\n",
        "reply": "```python\ndef clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n```\n\nThis keeps `x` within `[lo, hi]` by applying `min` first and then `max`.",
        "expected": "return max(lo, min(x, hi))",
    },
    {
        "name": "php_foreach_body_then_dollar_prose",
        "family": 1, "language": "php",
        "document": "<?php\nfunction total(array $items): float {\n    $sum = 0.0;\n    foreach ($items as $item) {\n        █\n    }\n    return $sum;\n}\n",
        "reply": "$sum += $item['price'] * $item['qty'];\n\nThe loop variable was misspelled as `$itme`; using `$item` fixes the undefined variable.",
        "expected": "$sum += $item['price'] * $item['qty'];",
    },
    {
        "name": "go_http_error_then_note",
        "family": 1, "language": "go",
        "document": "func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\tif r.Method != http.MethodPost {\n\t\t█\n\t}\n",
        "reply": "http.Error(w, \"method not allowed\", http.StatusMethodNotAllowed)\n\t\treturn\n\nNote: `return` is needed so the handler stops after `http.Error` writes the 405 response.",
        "expected": "http.Error(w, \"method not allowed\", http.StatusMethodNotAllowed)\n\t\treturn",
    },
    {
        "name": "rust_parse_then_generic_prose",
        "family": 1, "language": "rust",
        "document": "use std::num::ParseIntError;\n\nfn parse_port(s: &str) -> Result<u16, ParseIntError> {\n    █\n}\n",
        "reply": "s.trim().parse::<u16>()\n\nThe `?` operator isn't needed here; `parse::<u16>()` already returns `Result<u16, ParseIntError>`.",
        "expected": "s.trim().parse::<u16>()",
    },
    {
        "name": "ruby_heres_then_safe_nav_prose",
        "family": 1, "language": "ruby",
        "document": "class Order\n  def customer_email\n    █\n  end\nend\n",
        "reply": "Here's the completion:\n\n    user&.email || \"unknown@example.com\"\n\nUses `&.` so a nil `user` returns `nil` instead of raising, then falls back with `||`.",
        "expected": "user&.email || \"unknown@example.com\"",
    },
    {
        "name": "bash_if_block_then_prose_with_redirect",
        "family": 1, "language": "shellscript",
        "document": "#!/usr/bin/env bash\nset -euo pipefail\n\nfor f in \"$@\"; do\n  █\ndone\n",
        "reply": "if [[ -f \"$f\" ]]; then\n    wc -l < \"$f\"\n  fi\n\n`[[ -f ]]` skips arguments that aren't regular files; `wc -l < \"$f\"` prints only the count.",
        "expected": "if [[ -f \"$f\" ]]; then\n    wc -l < \"$f\"\n  fi",
    },
    {
        "name": "js_reduce_then_prose",
        "family": 1, "language": "javascript",
        "document": "export function sumBy(items, key) {\n  █\n}\n",
        "reply": "return items.reduce((acc, it) => acc + it[key], 0);\n\nThis uses `Array.prototype.reduce` with an initial value of `0`, so an empty array returns `0` instead of throwing.",
        "expected": "return items.reduce((acc, it) => acc + it[key], 0);",
    },
    {
        "name": "c_safe_div_then_unquoted_symbol_prose",
        "family": 1, "language": "c",
        "document": "int safe_div(int a, int b, int *out)\n{\n    █\n}\n",
        "reply": "if (b == 0) {\n        return -1;\n    }\n    *out = a / b;\n    return 0;\n\nThis returns -1 when b == 0 & leaves *out untouched; otherwise it stores a / b in *out.",
        "expected": "if (b == 0) {\n        return -1;\n    }\n    *out = a / b;\n    return 0;",
    },
    {
        "name": "kotlin_elvis_then_prose",
        "family": 1, "language": "kotlin",
        "document": "fun displayName(user: User?): String {\n    █\n}\n",
        "reply": "return user?.nickname ?: user?.name ?: \"guest\"\n\nThe chain of `?:` falls back from `nickname` to `name` and finally to `\"guest\"` when `user` is null.",
        "expected": "return user?.nickname ?: user?.name ?: \"guest\"",
    },
    # controls: lines with backticks / prose that really are code
    {
        "name": "ctrl_go_raw_string_usage_text",
        "family": "control", "control_of": 1, "language": "go",
        "document": "package main\n\nimport \"fmt\"\n\nconst usage = █\n\nfunc main() {\n\tfmt.Print(usage)\n}\n",
        "reply": "`Usage: mytool [flags] <file>\n\nReads <file> and prints a summary.\n\nFlags:\n  -v    verbose output\n  -o    write to the given file instead of stdout\n`",
        "expected": "`Usage: mytool [flags] <file>\n\nReads <file> and prints a summary.\n\nFlags:\n  -v    verbose output\n  -o    write to the given file instead of stdout\n`",
    },
    {
        "name": "ctrl_sh_backtick_command_substitution",
        "family": "control", "control_of": 1, "language": "shellscript",
        "document": "#!/bin/sh\n# legacy script: keep it POSIX sh\ntoday=█\n",
        "reply": "`date +%Y-%m-%d`\nlogfile=\"/var/log/backup-$today.log\"\ntar czf \"/backups/home-$today.tgz\" /home >> \"$logfile\" 2>&1",
        "expected": "`date +%Y-%m-%d`\nlogfile=\"/var/log/backup-$today.log\"\ntar czf \"/backups/home-$today.tgz\" /home >> \"$logfile\" 2>&1",
    },
    {
        "name": "ctrl_py_docstring_prose_with_backticks",
        "family": "control", "control_of": 1, "language": "python",
        "document": "def clamp(x, lo, hi):\n    \"\"\"█\n",
        "reply": "Return `x` limited to the closed interval [lo, hi].\n\n    Raises `ValueError` if lo > hi.\n    \"\"\"\n    if lo > hi:\n        raise ValueError(\"lo > hi\")\n    return max(lo, min(x, hi))",
        "expected": "Return `x` limited to the closed interval [lo, hi].\n\n    Raises `ValueError` if lo > hi.\n    \"\"\"\n    if lo > hi:\n        raise ValueError(\"lo > hi\")\n    return max(lo, min(x, hi))",
    },
    {
        "name": "ctrl_js_template_literal_prose_lines",
        "family": "control", "control_of": 1, "language": "javascript",
        "document": "function welcomeEmail(user) {\n  return `█\n}\n",
        "reply": "Hi ${user.name},\n\nThanks for signing up. Your trial ends on ${user.trialEnd}.\n\n— The Team`;",
        "expected": "Hi ${user.name},\n\nThanks for signing up. Your trial ends on ${user.trialEnd}.\n\n— The Team`;",
    },
    {
        "name": "ctrl_markdown_prose_is_the_content",
        "family": "control", "control_of": 1, "language": "markdown",
        "document": "# Setup\n\nInstall the dependencies with `npm install`, then █\n",
        "reply": "run `npm run dev` to start the server on port 3000.",
        "expected": "run `npm run dev` to start the server on port 3000.",
    },
    {
        "name": "ctrl_jsx_text_children_look_like_prose",
        "family": "control", "control_of": 1, "language": "javascriptreact",
        "document": "export function About() {\n  return (\n    <section>\n      <h1>About us</h1>\n      <p>\n        █\n      </p>\n    </section>\n  );\n}\n",
        "reply": "We build tools for small teams.\nFounded in 2019, we're based in Lisbon.",
        "expected": "We build tools for small teams.\n        Founded in 2019, we're based in Lisbon.",
    },
]

_kt_cart = """\
class Cart(private val items: List<Item>) {
    fun total(): Double {
        var sum = 0.0
        for (item in items) {
            sum += itme.price * item.qty
        }
        return sum
    }
}
"""

_js_users = """\
const express = require("express");
const app = express();

app.get("/users/:id", (req, res) => {
  const user = db.find(req.params.id);
  res.json(user);
});

app.listen(3000);
"""

_c_clamp = """\
#include <stdio.h>

int clamp(int x, int lo, int hi)
{
    if (x < lo)
        return lo;
    if (x > hi)
        return lo;
    return x;
}
"""

_sql_groupby = """\
SELECT c.id,
       c.name,
       COUNT(o.id) AS orders
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id
GROUP BY c.id
ORDER BY orders DESC;
"""

_py_inventory = """\
class Inventory:
    def __init__(self):
        self.items = {}

    def remove(self, name, qty):
        if self.items[name] < qty:
            raise ValueError("not enough stock")
        self.items[name] -= qty
"""

_go_tags = """\
package api

type User struct {
\tID    int    `json:"id"`
\tName  string `json:"name"`
\tEmail string `json:"emial"`
}
"""

EDITS += [
    {
        "name": "kt_for_loop_col0_prose_before_and_after",
        "family": 1, "language": "kotlin", "document": _kt_cart, "kind": "quickfix",
        "first": 3, "last": 5, "message": "Unresolved reference: itme",
        "reply": "Here's the fix:\n\n```kotlin\nfor (item in items) {\n    sum += item.price * item.qty\n}\n```\n\nThe loop variable was misspelled as `itme`; using `item` fixes the unresolved reference.",
        "expected": _splice(_kt_cart, 3, 5, "        for (item in items) {\n            sum += item.price * item.qty\n        }"),
    },
    {
        "name": "js_404_guard_trailing_prose_with_braces",
        "family": 1, "language": "javascript", "document": _js_users, "kind": "rewrite",
        "first": 4, "last": 5, "message": "return 404 when the user is not found",
        "reply": "  const user = db.find(req.params.id);\n  if (!user) {\n    return res.status(404).json({ error: \"not found\" });\n  }\n  res.json(user);\n\nNow `GET /users/:id` responds with `404` and `{ error: \"not found\" }` when `db.find` returns `undefined`.",
        "expected": _splice(_js_users, 4, 5, "  const user = db.find(req.params.id);\n  if (!user) {\n    return res.status(404).json({ error: \"not found\" });\n  }\n  res.json(user);"),
    },
    {
        "name": "c_clamp_unquoted_interval_prose",
        "family": 1, "language": "c", "document": _c_clamp, "kind": "rewrite",
        "first": 6, "last": 7, "message": "fix the upper bound",
        "reply": "    if (x > hi)\n        return hi;\n\nThis keeps x within [lo, hi]; before, values above hi were clamped to lo.",
        "expected": _splice(_c_clamp, 6, 7, "    if (x > hi)\n        return hi;"),
    },
    {
        "name": "sql_group_by_fenced_then_backtick_prose",
        "family": 1, "language": "sql", "document": _sql_groupby, "kind": "quickfix",
        "first": 5, "last": 5,
        "message": "column \"c.name\" must appear in the GROUP BY clause or be used in an aggregate function",
        "reply": "```sql\nGROUP BY c.id, c.name\n```\n\n`c.name` is selected without an aggregate, so it must be listed in `GROUP BY`.",
        "expected": _splice(_sql_groupby, 5, 5, "GROUP BY c.id, c.name"),
    },
    {
        "name": "py_method_body_relative_with_prose_around",
        "family": 1, "language": "python", "document": _py_inventory, "kind": "rewrite",
        "first": 5, "last": 7, "message": "raise a KeyError with a clear message for unknown items",
        "reply": "Here's the updated method body:\n\n```python\nif name not in self.items:\n    raise KeyError(f\"unknown item: {name}\")\nif self.items[name] < qty:\n    raise ValueError(\"not enough stock\")\nself.items[name] -= qty\n```\n\nThe check uses `name not in self.items`, so a missing key raises `KeyError` with a clear message instead of `self.items[name]` failing.",
        "expected": _splice(_py_inventory, 5, 7, "        if name not in self.items:\n            raise KeyError(f\"unknown item: {name}\")\n        if self.items[name] < qty:\n            raise ValueError(\"not enough stock\")\n        self.items[name] -= qty"),
    },
    {
        "name": "ctrl_go_struct_tag_backticks_kept_prose_dropped",
        "family": "control", "control_of": 1, "language": "go", "document": _go_tags, "kind": "rewrite",
        "first": 5, "last": 5, "message": "fix the JSON tag typo",
        "reply": "\tEmail string `json:\"email\"`\n\nThe tag was misspelled as `emial`.",
        "expected": _splice(_go_tags, 5, 5, "\tEmail string `json:\"email\"`"),
    },
]

# ---------------------------------------------------------------------------------------------
# Family 2: relative vs absolute indentation decided per line group
# ---------------------------------------------------------------------------------------------

COMPLETIONS += [
    {
        "name": "py_with_body_then_new_toplevel_def",
        "family": 2, "language": "python",
        "document": "import json\n\n\ndef load_config(path):\n    with open(path) as f:\n        █\n",
        "reply": "return json.load(f)\n\n\ndef save_config(path, cfg):\n    with open(path, \"w\") as f:\n        json.dump(cfg, f, indent=2)",
        "expected": "return json.load(f)\n\n\ndef save_config(path, cfg):\n    with open(path, \"w\") as f:\n        json.dump(cfg, f, indent=2)",
    },
    {
        "name": "zig_finish_fn_then_pub_fn",
        "family": 2, "language": "zig",
        "document": "const std = @import(\"std\");\n\nfn add(a: i32, b: i32) i32 {\n    █",
        "reply": "return a + b;\n}\n\npub fn sub(a: i32, b: i32) i32 {\n    return a - b;\n}",
        "expected": "return a + b;\n}\n\npub fn sub(a: i32, b: i32) i32 {\n    return a - b;\n}",
    },
    {
        "name": "js_babel_presets_relative_first_absolute_echo",
        "family": 2, "language": "javascript",
        "document": "module.exports = {\n  presets: [\n    \"@babel/preset-env\",\n    █\n  ],\n  plugins: [],\n};\n",
        "reply": "\"@babel/preset-typescript\",\n  ],\n  plugins: [],\n};",
        "expected": "\"@babel/preset-typescript\",",
    },
    {
        "name": "py_dict_list_item_then_echo_of_closers",
        "family": 2, "language": "python",
        "document": "CONFIG = {\n    \"name\": \"svc\",\n    \"hosts\": [\n        \"a.example.com\",\n        █\n    ],\n    \"port\": 8080,\n}\n",
        "reply": "\"b.example.com\",\n        \"c.example.com\",\n    ],\n    \"port\": 8080,\n}",
        "expected": "\"b.example.com\",\n        \"c.example.com\",",
    },
    {
        "name": "go_finish_max_then_func_min",
        "family": 2, "language": "go",
        "document": "package mathx\n\n// Max returns the larger of a and b.\nfunc Max(a, b int) int {\n\tif a > b {\n\t\treturn a\n\t}\n\t█",
        "reply": "return b\n}\n\n// Min returns the smaller of a and b.\nfunc Min(a, b int) int {\n\tif a < b {\n\t\treturn a\n\t}\n\treturn b\n}",
        "expected": "return b\n}\n\n// Min returns the smaller of a and b.\nfunc Min(a, b int) int {\n\tif a < b {\n\t\treturn a\n\t}\n\treturn b\n}",
    },
    {
        "name": "lua_finish_fn_then_next_fn_and_return_M",
        "family": 2, "language": "lua",
        "document": "local M = {}\n\nfunction M.is_empty(t)\n  █",
        "reply": "return next(t) == nil\nend\n\nfunction M.count(t)\n  local n = 0\n  for _ in pairs(t) do\n    n = n + 1\n  end\n  return n\nend\n\nreturn M",
        "expected": "return next(t) == nil\nend\n\nfunction M.count(t)\n  local n = 0\n  for _ in pairs(t) do\n    n = n + 1\n  end\n  return n\nend\n\nreturn M",
    },
    {
        "name": "ruby_finish_method_then_sibling_method",
        "family": 2, "language": "ruby",
        "document": "class Stack\n  def initialize\n    @items = []\n  end\n\n  def push(x)\n    █",
        "reply": "@items.push(x)\n    self\n  end\n\n  def pop\n    @items.pop\n  end\nend",
        "expected": "@items.push(x)\n    self\n  end\n\n  def pop\n    @items.pop\n  end\nend",
    },
    {
        "name": "c_finish_fn_then_static_fn",
        "family": 2, "language": "c",
        "document": "#include <string.h>\n\nstatic int is_blank(const char *s)\n{\n    while (*s) {\n        if (*s != ' ' && *s != '\\t')\n            return 0;\n        s++;\n    }\n    █",
        "reply": "return 1;\n}\n\nstatic size_t trim_len(const char *s)\n{\n    size_t n = strlen(s);\n    while (n > 0 && s[n - 1] == ' ')\n        n--;\n    return n;\n}",
        "expected": "return 1;\n}\n\nstatic size_t trim_len(const char *s)\n{\n    size_t n = strlen(s);\n    while (n > 0 && s[n - 1] == ' ')\n        n--;\n    return n;\n}",
    },
    {
        "name": "elixir_finish_def_then_sibling_def",
        "family": 2, "language": "elixir",
        "document": "defmodule Temp do\n  def c_to_f(c) do\n    █",
        "reply": "c * 9 / 5 + 32\n  end\n\n  def f_to_c(f) do\n    (f - 32) * 5 / 9\n  end\nend",
        "expected": "c * 9 / 5 + 32\n  end\n\n  def f_to_c(f) do\n    (f - 32) * 5 / 9\n  end\nend",
    },
    {
        "name": "py_method_then_sibling_method_at_col4",
        "family": 2, "language": "python",
        "document": "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        █\n",
        "reply": "self.y = y\n\n    def norm(self):\n        return (self.x ** 2 + self.y ** 2) ** 0.5",
        "expected": "self.y = y\n\n    def norm(self):\n        return (self.x ** 2 + self.y ** 2) ** 0.5",
    },
    # controls: column-0 lines that are relative to the cursor
    {
        "name": "ctrl_py_fully_relative_block_no_blank_lines",
        "family": "control", "control_of": 2, "language": "python",
        "document": "class Report:\n    def rows(self, data):\n        █\n",
        "reply": "result = []\nfor row in data:\n    if row.get(\"active\"):\n        result.append(row)\nreturn result",
        "expected": "result = []\n        for row in data:\n            if row.get(\"active\"):\n                result.append(row)\n        return result",
    },
    {
        "name": "ctrl_kotlin_relative_with_blank_line_then_col0_statement",
        "family": "control", "control_of": 2, "language": "kotlin",
        "document": "fun main() {\n    val names = listOf(\"a\", \"b\")\n    █\n}\n",
        "reply": "for (n in names) {\n    println(n)\n}\n\nprintln(\"done\")",
        "expected": "for (n in names) {\n        println(n)\n    }\n\n    println(\"done\")",
    },
    {
        "name": "ctrl_ts_relative_after_blank_line_inside_method",
        "family": "control", "control_of": 2, "language": "typescript",
        "document": "export class Queue<T> {\n  private items: T[] = [];\n\n  drain(handler: (item: T) => void): number {\n    █\n  }\n}\n",
        "reply": "let n = 0;\n\nwhile (this.items.length > 0) {\n  handler(this.items.shift()!);\n  n++;\n}\n\nreturn n;",
        "expected": "let n = 0;\n\n    while (this.items.length > 0) {\n      handler(this.items.shift()!);\n      n++;\n    }\n\n    return n;",
    },
]

_py_register = """\
import re


def register(email, password):
    if not re.match(r"[^@]+@[^@]+\\.[^@]+", email):
        raise ValueError("bad email")
    return save_user(email, password)"""

_zig_parse = """\
const std = @import("std");

pub fn parseLevel(s: []const u8) !u8 {
    const n = std.fmt.parseInt(u8, s, 10);
    return n;
}

pub fn main() !void {
    const lvl = try parseLevel("3");
    std.debug.print("{d}\\n", .{lvl});
}
"""

EDITS += [
    {
        "name": "py_body_relative_then_new_toplevel_helper_after_return",
        "family": 2, "language": "python", "document": _py_register, "kind": "rewrite",
        "first": 4, "last": 6, "message": "extract the email check into a helper is_valid_email",
        "reply": "if not is_valid_email(email):\n    raise ValueError(\"bad email\")\nreturn save_user(email, password)\n\n\ndef is_valid_email(email):\n    return re.match(r\"[^@]+@[^@]+\\.[^@]+\", email) is not None",
        "expected": _splice(_py_register, 4, 6, "    if not is_valid_email(email):\n        raise ValueError(\"bad email\")\n    return save_user(email, password)\n\n\ndef is_valid_email(email):\n    return re.match(r\"[^@]+@[^@]+\\.[^@]+\", email) is not None"),
    },
    {
        "name": "zig_body_relative_first_line_absolute_rest",
        "family": 2, "language": "zig", "document": _zig_parse, "kind": "rewrite",
        "first": 3, "last": 4, "message": "use try and reject levels above 5",
        "reply": "```zig\nconst n = try std.fmt.parseInt(u8, s, 10);\n    if (n > 5) return error.Overflow;\n    return n;\n```",
        "expected": _splice(_zig_parse, 3, 4, "    const n = try std.fmt.parseInt(u8, s, 10);\n    if (n > 5) return error.Overflow;\n    return n;"),
    },
]

# ---------------------------------------------------------------------------------------------
# Family 3: brace languages without a grammar (Zig, Solidity, Groovy, Dart, Swift, C#, Scala,
# PHP, V, Odin, Kotlin)
# ---------------------------------------------------------------------------------------------

COMPLETIONS += [
    {
        "name": "solidity_body_then_echo_of_two_closers",
        "family": 3, "language": "solidity",
        "document": "contract Vault {\n    mapping(address => uint256) public balances;\n\n    function withdraw(uint256 amount) external {\n        require(balances[msg.sender] >= amount, \"insufficient\");\n        █\n    }\n}\n",
        "reply": "balances[msg.sender] -= amount;\n        payable(msg.sender).transfer(amount);\n    }\n}",
        "expected": "balances[msg.sender] -= amount;\n        payable(msg.sender).transfer(amount);",
    },
    {
        "name": "zig_for_body_eof_needs_both_closers",
        "family": 3, "language": "zig",
        "document": "const std = @import(\"std\");\n\npub fn main() !void {\n    const stdout = std.io.getStdOut().writer();\n    const items = [_]u8{ 1, 2, 3 };\n    for (items) |item| {\n        █",
        "reply": "try stdout.print(\"{d}\\n\", .{item});\n    }\n}",
        "expected": "try stdout.print(\"{d}\\n\", .{item});\n    }\n}",
    },
    {
        "name": "groovy_jenkins_steps_then_echo_of_closers",
        "family": 3, "language": "groovy",
        "document": "pipeline {\n    agent any\n    stages {\n        stage('Build') {\n            steps {\n                █\n            }\n        }\n    }\n}\n",
        "reply": "sh './gradlew build'\n                archiveArtifacts artifacts: 'build/libs/*.jar'\n            }\n        }\n    }\n}",
        "expected": "sh './gradlew build'\n                archiveArtifacts artifacts: 'build/libs/*.jar'",
    },
    {
        "name": "dart_relative_if_block_two_space_doc",
        "family": 3, "language": "dart",
        "document": "class Counter {\n  int _value = 0;\n\n  void increment({int by = 1}) {\n    █\n  }\n}\n",
        "reply": "if (by <= 0) {\n  throw ArgumentError.value(by, 'by', 'must be positive');\n}\n_value += by;",
        "expected": "if (by <= 0) {\n      throw ArgumentError.value(by, 'by', 'must be positive');\n    }\n    _value += by;",
    },
    {
        "name": "swift_computed_property_eof_closers",
        "family": 3, "language": "swift",
        "document": "struct Temperature {\n    var celsius: Double\n\n    var fahrenheit: Double {\n        █",
        "reply": "return celsius * 9 / 5 + 32\n    }\n}",
        "expected": "return celsius * 9 / 5 + 32\n    }\n}",
    },
    {
        "name": "csharp_relative_closer_echoes_next_line",
        "family": 3, "language": "csharp",
        "document": "public class Greeter\n{\n    public string Greet(string name)\n    {\n        if (string.IsNullOrEmpty(name))\n        {\n            █\n        }\n        return $\"Hello, {name}!\";\n    }\n}\n",
        "reply": "return \"Hello, stranger!\";\n}",
        "expected": "return \"Hello, stranger!\";",
    },
    {
        "name": "scala_else_block_eof_three_closers",
        "family": 3, "language": "scala",
        "document": "object Stats {\n  def mean(xs: Seq[Double]): Double = {\n    if (xs.isEmpty) 0.0\n    else {\n      █",
        "reply": "xs.sum / xs.size\n    }\n  }\n}",
        "expected": "xs.sum / xs.size\n    }\n  }\n}",
    },
    {
        "name": "php_if_closer_needed_foreach_closer_echo",
        "family": 3, "language": "php",
        "document": "<?php\n\nclass UserRepository\n{\n    public function find(int $id): ?User\n    {\n        foreach ($this->users as $user) {\n            █\n        }\n        return null;\n    }\n}\n",
        "reply": "if ($user->id === $id) {\n                return $user;\n            }\n        }",
        "expected": "if ($user->id === $id) {\n                return $user;\n            }",
    },
    {
        "name": "v_tabs_relative_if_block",
        "family": 3, "language": "v",
        "document": "fn main() {\n\tnums := [1, 2, 3]\n\tfor n in nums {\n\t\t█\n\t}\n}\n",
        "reply": "if n % 2 == 0 {\n\tprintln(n)\n}",
        "expected": "if n % 2 == 0 {\n\t\t\tprintln(n)\n\t\t}",
    },
    {
        "name": "odin_for_body_eof_closers",
        "family": 3, "language": "odin",
        "document": "package main\n\nimport \"core:fmt\"\n\nmain :: proc() {\n\tfor i in 0..<3 {\n\t\t█",
        "reply": "fmt.println(i)\n\t}\n}",
        "expected": "fmt.println(i)\n\t}\n}",
    },
    {
        "name": "ctrl_zig_closer_of_reply_if_is_needed",
        "family": "control", "control_of": 3, "language": "zig",
        "document": "fn find(xs: []const u32, target: u32) ?usize {\n    for (xs, 0..) |x, i| {\n        █\n    }\n    return null;\n}\n",
        "reply": "if (x == target) {\n            return i;\n        }",
        "expected": "if (x == target) {\n            return i;\n        }",
    },
    {
        "name": "ctrl_kotlin_one_line_lambda_braces_balanced",
        "family": "control", "control_of": 3, "language": "kotlin",
        "document": "fun evens(xs: List<Int>): List<Int> {\n    return █\n}\n",
        "reply": "xs.filter { it % 2 == 0 }\n}",
        "expected": "xs.filter { it % 2 == 0 }",
    },
]

_sol_counter = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Counter {
    uint256 public count;

    function decrement() external {
        count -= 1;
    }
}
"""

_groovy_retry = """\
def retry(int times, Closure body) {
    for (int i = 0; i < times; i++) {
        try {
            return body()
        } catch (Exception e) {
            println "attempt ${i + 1} failed"
        }
    }
}
"""

EDITS += [
    {
        "name": "solidity_guard_fenced_absolute",
        "family": 3, "language": "solidity", "document": _sol_counter, "kind": "rewrite",
        "first": 7, "last": 7, "message": "guard against underflow with a require",
        "reply": "```solidity\n        require(count > 0, \"underflow\");\n        count -= 1;\n```",
        "expected": _splice(_sol_counter, 7, 7, "        require(count > 0, \"underflow\");\n        count -= 1;"),
    },
    {
        "name": "groovy_catch_block_relative_starting_with_closer",
        "family": 3, "language": "groovy", "document": _groovy_retry, "kind": "rewrite",
        "first": 4, "last": 6, "message": "rethrow the exception on the last attempt",
        "reply": "} catch (Exception e) {\n    if (i == times - 1) throw e\n    println \"attempt ${i + 1} failed\"\n}",
        "expected": _splice(_groovy_retry, 4, 6, "        } catch (Exception e) {\n            if (i == times - 1) throw e\n            println \"attempt ${i + 1} failed\"\n        }"),
    },
]

# ---------------------------------------------------------------------------------------------
# Family 4: JSX/TSX elements are blocks
# ---------------------------------------------------------------------------------------------

COMPLETIONS += [
    {
        "name": "tsx_map_item_relative_element",
        "family": 4, "language": "typescriptreact",
        "document": "export function List({ items }: Props) {\n  return (\n    <ul>\n      {items.map((item) => (\n        █\n      ))}\n    </ul>\n  );\n}\n",
        "reply": "<li key={item.id}>\n  <span>{item.name}</span>\n</li>",
        "expected": "<li key={item.id}>\n          <span>{item.name}</span>\n        </li>",
    },
    {
        "name": "jsx_return_card_relative",
        "family": 4, "language": "javascriptreact",
        "document": "export default function Card({ title, children }) {\n  return (\n    █\n  );\n}\n",
        "reply": "<div className=\"card\">\n  <h2>{title}</h2>\n  <div className=\"card-body\">{children}</div>\n</div>",
        "expected": "<div className=\"card\">\n      <h2>{title}</h2>\n      <div className=\"card-body\">{children}</div>\n    </div>",
    },
    {
        "name": "tsx_conditional_span_relative",
        "family": 4, "language": "typescriptreact",
        "document": "function Toolbar({ user }: { user?: User }) {\n  return (\n    <nav>\n      <Logo />\n      {user && (\n        █\n      )}\n    </nav>\n  );\n}\n",
        "reply": "<span className=\"user\">\n  <img src={user.avatar} alt=\"\" />\n  {user.name}\n</span>",
        "expected": "<span className=\"user\">\n          <img src={user.avatar} alt=\"\" />\n          {user.name}\n        </span>",
    },
    {
        "name": "js_file_jsx_routes_fenced_multiline_props",
        "family": 4, "language": "javascript",
        "document": "const App = () => (\n  <Router>\n    <Routes>\n      █\n    </Routes>\n  </Router>\n);\n",
        "reply": "```jsx\n<Route path=\"/\" element={<Home />} />\n<Route path=\"/about\" element={<About />} />\n<Route\n  path=\"*\"\n  element={<NotFound />}\n/>\n```",
        "expected": "<Route path=\"/\" element={<Home />} />\n      <Route path=\"/about\" element={<About />} />\n      <Route\n        path=\"*\"\n        element={<NotFound />}\n      />",
    },
    {
        "name": "tsx_fragment_children_relative",
        "family": 4, "language": "typescriptreact",
        "document": "export const Empty = ({ onRetry }: Props) => (\n  <>\n    █\n  </>\n);\n",
        "reply": "<p>Nothing here yet.</p>\n<button type=\"button\" onClick={onRetry}>\n  Try again\n</button>",
        "expected": "<p>Nothing here yet.</p>\n    <button type=\"button\" onClick={onRetry}>\n      Try again\n    </button>",
    },
    {
        "name": "tsx_echo_of_closing_tags_dropped",
        "family": 4, "language": "typescriptreact",
        "document": "export function Form() {\n  return (\n    <form>\n      <label htmlFor=\"email\">Email</label>\n      █\n    </form>\n  );\n}\n",
        "reply": "<input\n  id=\"email\"\n  type=\"email\"\n  required\n/>\n</form>\n);\n}",
        "expected": "<input\n        id=\"email\"\n        type=\"email\"\n        required\n      />",
    },
    {
        "name": "vue_template_li_relative",
        "family": 4, "language": "vue",
        "document": "<template>\n  <ul class=\"todos\">\n    █\n  </ul>\n</template>\n",
        "reply": "<li v-for=\"t in todos\" :key=\"t.id\">\n  {{ t.title }}\n</li>",
        "expected": "<li v-for=\"t in todos\" :key=\"t.id\">\n      {{ t.title }}\n    </li>",
    },
    {
        "name": "svelte_each_row_relative",
        "family": 4, "language": "svelte",
        "document": "<script>\n  export let items = [];\n</script>\n\n{#each items as item}\n  █\n{/each}\n",
        "reply": "<div class=\"row\">\n  <span>{item.label}</span>\n</div>",
        "expected": "<div class=\"row\">\n    <span>{item.label}</span>\n  </div>",
    },
    {
        "name": "ctrl_tsx_generic_arrow_is_not_a_tag",
        "family": "control", "control_of": 4, "language": "typescriptreact",
        "document": "export const first = <T,>(xs: T[]): T | undefined => {\n  █\n};\n",
        "reply": "if (xs.length === 0) {\n  return undefined;\n}\nreturn xs[0];",
        "expected": "if (xs.length === 0) {\n    return undefined;\n  }\n  return xs[0];",
    },
    {
        "name": "ctrl_js_comparisons_not_tags",
        "family": "control", "control_of": 4, "language": "javascript",
        "document": "function inRange(x, lo, hi) {\n  █\n}\n",
        "reply": "if (x < lo ||\n    x > hi) {\n  return false;\n}\nreturn true;",
        "expected": "if (x < lo ||\n      x > hi) {\n    return false;\n  }\n  return true;",
    },
]

_tsx_list = """\
import React from "react";

type Props = { items: string[] };

export function List({ items }: Props) {
  return (
    <ul>
      {items.map((item) => <li>{item}</li>)}
    </ul>
  );
}
"""

_jsx_modal = """\
export function Modal({ open, onClose, children }) {
  if (!open) return null;
  return (
    <div className="backdrop">
      <div className="modal">{children}</div>
    </div>
  );
}
"""

EDITS += [
    {
        "name": "tsx_key_prop_relative_multiline_jsx",
        "family": 4, "language": "typescriptreact", "document": _tsx_list, "kind": "quickfix",
        "first": 7, "last": 7, "message": "Each child in a list should have a unique \"key\" prop.",
        "reply": "```tsx\n{items.map((item) => (\n  <li key={item}>\n    {item}\n  </li>\n))}\n```",
        "expected": _splice(_tsx_list, 7, 7, "      {items.map((item) => (\n        <li key={item}>\n          {item}\n        </li>\n      ))}"),
    },
    {
        "name": "jsx_modal_close_button_relative",
        "family": 4, "language": "javascriptreact", "document": _jsx_modal, "kind": "rewrite",
        "first": 4, "last": 4, "message": "add a close button above the children",
        "reply": "<div className=\"modal\">\n  <button className=\"close\" onClick={onClose}>\n    ×\n  </button>\n  {children}\n</div>",
        "expected": _splice(_jsx_modal, 4, 4, "      <div className=\"modal\">\n        <button className=\"close\" onClick={onClose}>\n          ×\n        </button>\n        {children}\n      </div>"),
    },
]

# ---------------------------------------------------------------------------------------------
# Family 5: a closer that closes what the reply opened is not an echo of the next line
# ---------------------------------------------------------------------------------------------

COMPLETIONS += [
    {
        "name": "ruby_elsif_else_end_for_open_if",
        "family": 5, "language": "ruby",
        "document": "def grade(score)\n  if score >= 90\n    \"A\"\n  █\nend\n",
        "reply": "  elsif score >= 80\n    \"B\"\n  else\n    \"C\"\n  end",
        "expected": "elsif score >= 80\n    \"B\"\n  else\n    \"C\"\n  end",
    },
    {
        "name": "lua_relative_if_chain_end_equals_next_line",
        "family": 5, "language": "lua",
        "document": "local function classify(n)\n  █\nend\n",
        "reply": "if n < 0 then\n  return \"negative\"\nelseif n == 0 then\n  return \"zero\"\nelse\n  return \"positive\"\nend",
        "expected": "if n < 0 then\n    return \"negative\"\n  elseif n == 0 then\n    return \"zero\"\n  else\n    return \"positive\"\n  end",
    },
    {
        "name": "elixir_case_end_inside_def",
        "family": 5, "language": "elixir",
        "document": "defmodule Http do\n  def status_text(code) do\n    █\n  end\nend\n",
        "reply": "case code do\n      200 -> \"OK\"\n      404 -> \"Not Found\"\n      _ -> \"Unknown\"\n    end",
        "expected": "case code do\n      200 -> \"OK\"\n      404 -> \"Not Found\"\n      _ -> \"Unknown\"\n    end",
    },
    {
        "name": "bash_inner_for_done_inside_outer_for",
        "family": 5, "language": "shellscript",
        "document": "#!/usr/bin/env bash\nfor dir in */; do\n  █\ndone\n",
        "reply": "for f in \"$dir\"*.log; do\n    gzip \"$f\"\n  done",
        "expected": "for f in \"$dir\"*.log; do\n    gzip \"$f\"\n  done",
    },
    {
        "name": "c_while_closer_inside_function",
        "family": 5, "language": "c",
        "document": "#include <stdlib.h>\n\nvoid free_list(struct node *head)\n{\n    █\n}\n",
        "reply": "while (head) {\n        struct node *next = head->next;\n        free(head);\n        head = next;\n    }",
        "expected": "while (head) {\n        struct node *next = head->next;\n        free(head);\n        head = next;\n    }",
    },
    {
        "name": "rust_relative_match_closer_equals_fn_closer",
        "family": 5, "language": "rust",
        "document": "fn describe(n: i32) -> &'static str {\n    █\n}\n",
        "reply": "match n {\n    i32::MIN..=-1 => \"negative\",\n    0 => \"zero\",\n    _ => \"positive\",\n}",
        "expected": "match n {\n        i32::MIN..=-1 => \"negative\",\n        0 => \"zero\",\n        _ => \"positive\",\n    }",
    },
    {
        "name": "kotlin_relative_when_closer_equals_fn_closer",
        "family": 5, "language": "kotlin",
        "document": "fun label(x: Int): String {\n    █\n}\n",
        "reply": "return when {\n    x < 0 -> \"neg\"\n    x == 0 -> \"zero\"\n    else -> \"pos\"\n}",
        "expected": "return when {\n        x < 0 -> \"neg\"\n        x == 0 -> \"zero\"\n        else -> \"pos\"\n    }",
    },
    {
        "name": "ruby_relative_do_block_end_equals_def_end",
        "family": 5, "language": "ruby",
        "document": "def print_all(items)\n  █\nend\n",
        "reply": "items.each do |item|\n  puts item\nend",
        "expected": "items.each do |item|\n    puts item\n  end",
    },
    {
        "name": "swift_guard_and_if_closers",
        "family": 5, "language": "swift",
        "document": "func validate(_ name: String) -> Bool {\n    █\n}\n",
        "reply": "if name.isEmpty {\n    return false\n}\nreturn name.count <= 32",
        "expected": "if name.isEmpty {\n        return false\n    }\n    return name.count <= 32",
    },
    # controls: closers that really are echoes of the document's next lines
    {
        "name": "ctrl_lua_final_end_is_function_end_echo",
        "family": "control", "control_of": 5, "language": "lua",
        "document": "local function classify(n)\n  █\nend\n",
        "reply": "if n < 0 then\n    return \"negative\"\n  end\n  return \"non-negative\"\nend",
        "expected": "if n < 0 then\n    return \"negative\"\n  end\n  return \"non-negative\"",
    },
    {
        "name": "ctrl_ruby_def_end_echo",
        "family": "control", "control_of": 5, "language": "ruby",
        "document": "class Person\n  def full_name\n    █\n  end\nend\n",
        "reply": "[first_name, last_name].compact.join(\" \")\n  end\nend",
        "expected": "[first_name, last_name].compact.join(\" \")",
    },
    {
        "name": "ctrl_c_if_closer_kept_loop_and_fn_echo_dropped",
        "family": "control", "control_of": 5, "language": "c",
        "document": "int find(const int *a, int n, int x)\n{\n    for (int i = 0; i < n; i++) {\n        █\n    }\n    return -1;\n}\n",
        "reply": "if (a[i] == x) {\n            return i;\n        }\n    }\n    return -1;\n}",
        "expected": "if (a[i] == x) {\n            return i;\n        }",
    },
]

_rb_shipping = """\
class Shipping
  def cost(weight)
    if weight < 1
      5
    elsif weight < 10
      12
  end
end
"""

_lua_save = """\
local function save(path, data)
  local f = assert(io.open(path, "w"))
  f:write(data)
  f:close()
end

return save
"""

EDITS += [
    {
        "name": "ruby_if_missing_end_reply_closes_it",
        "family": 5, "language": "ruby", "document": _rb_shipping, "kind": "quickfix",
        "first": 2, "last": 5, "message": "syntax error, unexpected end-of-input, expecting `end'",
        "reply": "    if weight < 1\n      5\n    elsif weight < 10\n      12\n    else\n      25\n    end",
        "expected": _splice(_rb_shipping, 2, 5, "    if weight < 1\n      5\n    elsif weight < 10\n      12\n    else\n      25\n    end"),
    },
    {
        "name": "lua_if_block_relative_end_equals_function_end",
        "family": 5, "language": "lua", "document": _lua_save, "kind": "rewrite",
        "first": 1, "last": 3, "message": "don't assert; only write when the file could be opened",
        "reply": "local f = io.open(path, \"w\")\nif f then\n  f:write(data)\n  f:close()\nend",
        "expected": _splice(_lua_save, 1, 3, "  local f = io.open(path, \"w\")\n  if f then\n    f:write(data)\n    f:close()\n  end"),
    },
]

# ---------------------------------------------------------------------------------------------
# Family 6: edits must not swallow the closing brace below the region; re-step indentation
# ---------------------------------------------------------------------------------------------

_rs_area = """\
enum Shape {
    Circle(f64),
    Square(f64),
}

fn area(s: &Shape) -> f64 {
    match s {
        Shape::Circle(r) => 3.14 * r * r,
        Shape::Square(a) => a * a,
    }
}

fn main() {
    println!("{}", area(&Shape::Circle(1.0)));
}
"""

_go_sign = """\
package mathx

func sign(x int) int {
\tif x > 0 {
\t\treturn 1
\t} else if x < 0 {
\t\treturn -1
\t}
\treturn 0
}
"""

_java_accounts = """\
import java.util.HashMap;
import java.util.Map;

public class Accounts {
    private final Map<String, Long> balances = new HashMap<>();

    public void withdraw(String id, long amount) {
        long current = balances.get(id);
        balances.put(id, current - amount);
    }
}
"""

_c_matrix = """\
#include <stdio.h>

void print_matrix(int rows, int cols, int m[rows][cols])
{
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++)
            printf("%d ", m[i][j]);
    }
}
"""

_cs_parser = """\
public class Parser
{
    public int ParseOrDefault(string s)
    {
        return int.Parse(s);
    }
}
"""

_js_retry = """\
function retry(fn, times) {
  for (let i = 0; i < times; i++) {
    try {
      return fn();
    } catch (e) {
      if (i === times - 1) throw e;
    }
  }
}

module.exports = { retry };
"""

_php_cache = """\
<?php

class Cache
{
    private array $data = [];

    public function get(string $key)
    {
        return $this->data[$key];
    }
}
"""

_swift_stack = """\
struct Stack<Element> {
    private var items: [Element] = []

    mutating func push(_ x: Element) {
        items.append(x)
    }

    mutating func pop() -> Element {
        return items.removeLast()
    }
}
"""

_kt_missing_brace = """\
fun main() {
    val xs = listOf(1, 2, 3)
    for (x in xs) {
        println(x)
}
"""

_ts_handler = """\
export async function handler(event: Event): Promise<Response> {
    const body = JSON.parse(event.body);
    if (!body.id) {
        return { status: 400 };
    }
}
"""

EDITS += [
    {
        "name": "rust_match_incl_closer_keeps_fn_closer",
        "family": 6, "language": "rust", "document": _rs_area, "kind": "rewrite",
        "first": 6, "last": 9, "message": "use std::f64::consts::PI instead of 3.14",
        "reply": "```rust\n    match s {\n        Shape::Circle(r) => std::f64::consts::PI * r * r,\n        Shape::Square(a) => a * a,\n    }\n```",
        "expected": _splice(_rs_area, 6, 9, "    match s {\n        Shape::Circle(r) => std::f64::consts::PI * r * r,\n        Shape::Square(a) => a * a,\n    }"),
    },
    {
        "name": "rust_match_arms_region_reply_echoes_match_closer",
        "family": 6, "language": "rust", "document": _rs_area, "kind": "rewrite",
        "first": 7, "last": 8, "message": "use std::f64::consts::PI instead of 3.14",
        "reply": "        Shape::Circle(r) => std::f64::consts::PI * r * r,\n        Shape::Square(a) => a * a,\n    }",
        "expected": _splice(_rs_area, 7, 8, "        Shape::Circle(r) => std::f64::consts::PI * r * r,\n        Shape::Square(a) => a * a,"),
    },
    {
        "name": "go_switch_rewrite_ends_in_tab_closer",
        "family": 6, "language": "go", "document": _go_sign, "kind": "rewrite",
        "first": 3, "last": 8, "message": "use a switch statement",
        "reply": "\tswitch {\n\tcase x > 0:\n\t\treturn 1\n\tcase x < 0:\n\t\treturn -1\n\tdefault:\n\t\treturn 0\n\t}",
        "expected": _splice(_go_sign, 3, 8, "\tswitch {\n\tcase x > 0:\n\t\treturn 1\n\tcase x < 0:\n\t\treturn -1\n\tdefault:\n\t\treturn 0\n\t}"),
    },
    {
        "name": "java_two_space_reply_in_four_space_file",
        "family": 6, "language": "java", "document": _java_accounts, "kind": "rewrite",
        "first": 7, "last": 8, "message": "throw IllegalStateException when funds are insufficient",
        "reply": "```java\nlong current = balances.getOrDefault(id, 0L);\nif (current < amount) {\n  throw new IllegalStateException(\"insufficient funds\");\n}\nbalances.put(id, current - amount);\n```",
        "expected": _splice(_java_accounts, 7, 8, "        long current = balances.getOrDefault(id, 0L);\n        if (current < amount) {\n            throw new IllegalStateException(\"insufficient funds\");\n        }\n        balances.put(id, current - amount);"),
    },
    {
        "name": "c_for_loop_rewrite_keeps_fn_closer",
        "family": 6, "language": "c", "document": _c_matrix, "kind": "rewrite",
        "first": 4, "last": 7, "message": "print a newline after each row",
        "reply": "    for (int i = 0; i < rows; i++) {\n        for (int j = 0; j < cols; j++)\n            printf(\"%d \", m[i][j]);\n        putchar('\\n');\n    }",
        "expected": _splice(_c_matrix, 4, 7, "    for (int i = 0; i < rows; i++) {\n        for (int j = 0; j < cols; j++)\n            printf(\"%d \", m[i][j]);\n        putchar('\\n');\n    }"),
    },
    {
        "name": "csharp_method_two_space_allman_keeps_class_closer",
        "family": 6, "language": "csharp", "document": _cs_parser, "kind": "rewrite",
        "first": 2, "last": 5, "message": "return 0 when s is not a valid integer",
        "reply": "  public int ParseOrDefault(string s)\n  {\n    return int.TryParse(s, out var n) ? n : 0;\n  }",
        "expected": _splice(_cs_parser, 2, 5, "    public int ParseOrDefault(string s)\n    {\n        return int.TryParse(s, out var n) ? n : 0;\n    }"),
    },
    {
        "name": "js_for_loop_rewrite_keeps_fn_closer",
        "family": 6, "language": "javascript", "document": _js_retry, "kind": "rewrite",
        "first": 1, "last": 7, "message": "log each failed attempt",
        "reply": "  for (let i = 0; i < times; i++) {\n    try {\n      return fn();\n    } catch (e) {\n      console.warn(`attempt ${i + 1} failed:`, e);\n      if (i === times - 1) throw e;\n    }\n  }",
        "expected": _splice(_js_retry, 1, 7, "  for (let i = 0; i < times; i++) {\n    try {\n      return fn();\n    } catch (e) {\n      console.warn(`attempt ${i + 1} failed:`, e);\n      if (i === times - 1) throw e;\n    }\n  }"),
    },
    {
        "name": "php_method_rewrite_keeps_class_closer",
        "family": 6, "language": "php", "document": _php_cache, "kind": "rewrite",
        "first": 6, "last": 9, "message": "return null for missing keys",
        "reply": "Sure:\n\n```php\n    public function get(string $key): mixed\n    {\n        return $this->data[$key] ?? null;\n    }\n```",
        "expected": _splice(_php_cache, 6, 9, "    public function get(string $key): mixed\n    {\n        return $this->data[$key] ?? null;\n    }"),
    },
    {
        "name": "swift_method_two_space_relative_keeps_struct_closer",
        "family": 6, "language": "swift", "document": _swift_stack, "kind": "rewrite",
        "first": 7, "last": 9, "message": "return nil when the stack is empty",
        "reply": "mutating func pop() -> Element? {\n  guard !items.isEmpty else { return nil }\n  return items.removeLast()\n}",
        "expected": _splice(_swift_stack, 7, 9, "    mutating func pop() -> Element? {\n        guard !items.isEmpty else { return nil }\n        return items.removeLast()\n    }"),
    },
    {
        "name": "ts_missing_return_two_space_reply_four_space_file",
        "family": 6, "language": "typescript", "document": _ts_handler, "kind": "quickfix",
        "first": 2, "last": 4, "message": "Function lacks ending return statement and return type does not include 'undefined'.",
        "reply": "  if (!body.id) {\n    return { status: 400 };\n  }\n  return { status: 200, body: JSON.stringify(body) };",
        "expected": _splice(_ts_handler, 2, 4, "    if (!body.id) {\n        return { status: 400 };\n    }\n    return { status: 200, body: JSON.stringify(body) };"),
    },
    {
        "name": "ctrl_kotlin_missing_brace_reply_closer_is_needed",
        "family": "control", "control_of": 6, "language": "kotlin", "document": _kt_missing_brace, "kind": "quickfix",
        "first": 2, "last": 3, "message": "Expecting '}'",
        "reply": "    for (x in xs) {\n        println(x)\n    }",
        "expected": _splice(_kt_missing_brace, 2, 3, "    for (x in xs) {\n        println(x)\n    }"),
    },
]

# ---------------------------------------------------------------------------------------------
# Family 7: unified diffs are applied (or refused), never pasted
# ---------------------------------------------------------------------------------------------

_py_read = """\
import os


def read_lines(path):
    with open(path) as f:
        return f.readlines()


def main():
    for line in read_lines(os.environ["INPUT"]):
        print(line)
"""

_js_debounce = """\
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}
"""

_go_main = """\
package main

import (
\t"fmt"
\t"os"
)

func main() {
\tdata, err := os.ReadFile("config.json")
\tfmt.Println(string(data))
}
"""

_rs_wc = """\
use std::collections::HashMap;

fn word_count(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for w in text.split_whitespace() {
        counts[w] += 1;
    }
    counts
}
"""

_rb_user = """\
class User
  attr_reader :first, :last

  def initialize(first, last)
    @first = first
    @last = last
  end

  def name
    first + " " + last
  end
end
"""

_c_queue = """\
void drain(struct queue *q)
{
    while (q->count > 0) {
        pop(q);
        q->count--;
    }
}
"""

_java_temp = """\
public class Temp {
    public static double toF(double c) {
        return c * 9 / 5 + 32;
    }
}
"""

_kt_point = """\
data class Point(val x: Int, val y: Int)

fun parse(s: String): Point {
    val parts = s.split(",")
    return Point(parts[0].toInt(), parts[1].toInt())
}
"""

_hs_stats = """\
module Stats where

-- | Arithmetic mean of a list.
mean :: [Double] -> Double
mean xs = sum xs / length xs
"""

_lua_greet = """\
local function greet(name)
  print("hello " .. name)
end

greet()
"""

_md_notes = """\
# Release checklist

- bump the version in `package.json`
- run the test suite
- tag the release
"""

EDITS += [
    {
        "name": "py_unified_diff_with_headers",
        "family": 7, "language": "python", "document": _py_read, "kind": "rewrite",
        "first": 3, "last": 5, "message": "strip trailing newlines from the lines",
        "reply": "--- a/app.py\n+++ b/app.py\n@@ -4,3 +4,3 @@\n def read_lines(path):\n     with open(path) as f:\n-        return f.readlines()\n+        return [line.rstrip(\"\\n\") for line in f]",
        "expected": _splice(_py_read, 3, 5, "def read_lines(path):\n    with open(path) as f:\n        return [line.rstrip(\"\\n\") for line in f]"),
    },
    {
        "name": "js_fenced_diff_hunk_only",
        "family": 7, "language": "javascript", "document": _js_debounce, "kind": "rewrite",
        "first": 2, "last": 5, "message": "pass the arguments through to fn",
        "reply": "```diff\n@@ -3,4 +3,4 @@\n   return (...args) => {\n     clearTimeout(t);\n-    t = setTimeout(fn, ms);\n+    t = setTimeout(() => fn(...args), ms);\n   };\n```",
        "expected": _splice(_js_debounce, 2, 5, "  return (...args) => {\n    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };"),
    },
    {
        "name": "go_diff_with_tabs_pure_insertion",
        "family": 7, "language": "go", "document": _go_main, "kind": "quickfix",
        "first": 8, "last": 9, "message": "declared and not used: err",
        "reply": "--- a/main.go\n+++ b/main.go\n@@ -9,2 +9,6 @@\n \tdata, err := os.ReadFile(\"config.json\")\n+\tif err != nil {\n+\t\tfmt.Fprintln(os.Stderr, err)\n+\t\tos.Exit(1)\n+\t}\n \tfmt.Println(string(data))",
        "expected": _splice(_go_main, 8, 9, "\tdata, err := os.ReadFile(\"config.json\")\n\tif err != nil {\n\t\tfmt.Fprintln(os.Stderr, err)\n\t\tos.Exit(1)\n\t}\n\tfmt.Println(string(data))"),
    },
    {
        "name": "rust_headerless_diff_with_prose_around",
        "family": 7, "language": "rust", "document": _rs_wc, "kind": "quickfix",
        "first": 5, "last": 5, "message": "cannot borrow data in an index of `HashMap<&str, usize>` as mutable",
        "reply": "The index operator can't insert; use the entry API:\n\n```diff\n-        counts[w] += 1;\n+        *counts.entry(w).or_insert(0) += 1;\n```\n\nThis inserts `0` the first time a word is seen.",
        "expected": _splice(_rs_wc, 5, 5, "        *counts.entry(w).or_insert(0) += 1;"),
    },
    {
        "name": "ruby_two_hunk_diff",
        "family": 7, "language": "ruby", "document": _rb_user, "kind": "rewrite",
        "first": 3, "last": 10, "message": "strip whitespace from names and use string interpolation",
        "reply": "@@ -4,4 +4,4 @@\n   def initialize(first, last)\n-    @first = first\n-    @last = last\n+    @first = first.strip\n+    @last = last.strip\n   end\n@@ -9,3 +9,3 @@\n   def name\n-    first + \" \" + last\n+    \"#{first} #{last}\"\n   end",
        "expected": _splice(_rb_user, 3, 10, "  def initialize(first, last)\n    @first = first.strip\n    @last = last.strip\n  end\n\n  def name\n    \"#{first} #{last}\"\n  end"),
    },
    {
        "name": "c_diff_removing_a_decrement_line",
        "family": 7, "language": "c", "document": _c_queue, "kind": "rewrite",
        "first": 2, "last": 5, "message": "pop() already decrements count; stop double-decrementing",
        "reply": "```diff\n--- a/queue.c\n+++ b/queue.c\n@@ -3,4 +3,3 @@\n     while (q->count > 0) {\n         pop(q);\n-        q->count--;\n     }\n```",
        "expected": _splice(_c_queue, 2, 5, "    while (q->count > 0) {\n        pop(q);\n    }"),
    },
    {
        "name": "kotlin_diff_change_then_context",
        "family": 7, "language": "kotlin", "document": _kt_point, "kind": "rewrite",
        "first": 3, "last": 4, "message": "trim whitespace around the numbers",
        "reply": "--- Point.kt\n+++ Point.kt\n@@ -4,2 +4,2 @@\n-    val parts = s.split(\",\")\n+    val parts = s.split(\",\").map { it.trim() }\n     return Point(parts[0].toInt(), parts[1].toInt())",
        "expected": _splice(_kt_point, 3, 4, "    val parts = s.split(\",\").map { it.trim() }\n    return Point(parts[0].toInt(), parts[1].toInt())"),
    },
    {
        "name": "java_diff_does_not_match_region_refused",
        "family": 7, "language": "java", "document": _java_temp, "kind": "rewrite",
        "first": 2, "last": 2, "message": "round the result to one decimal",
        "reply": "```diff\n@@ -3 +3 @@\n-        return c * 1.8 + 32;\n+        return Math.round((c * 1.8 + 32) * 10) / 10.0;\n```",
        "expected": _java_temp, "refused": True,
    },
    # controls: lines that look like diff syntax but are code
    {
        "name": "ctrl_haskell_comment_lines_are_code",
        "family": "control", "control_of": 7, "language": "haskell", "document": _hs_stats, "kind": "quickfix",
        "first": 4, "last": 4, "message": "Couldn't match expected type ‘Double’ with actual type ‘Int’",
        "reply": "-- length returns Int; convert it before dividing\nmean xs = sum xs / fromIntegral (length xs)",
        "expected": _splice(_hs_stats, 4, 4, "-- length returns Int; convert it before dividing\nmean xs = sum xs / fromIntegral (length xs)"),
    },
    {
        "name": "ctrl_lua_double_dash_comment_kept",
        "family": "control", "control_of": 7, "language": "lua", "document": _lua_greet, "kind": "rewrite",
        "first": 1, "last": 1, "message": "default name to 'world' when nil",
        "reply": "  -- fall back when called without a name\n  name = name or \"world\"\n  print(\"hello \" .. name)",
        "expected": _splice(_lua_greet, 1, 1, "  -- fall back when called without a name\n  name = name or \"world\"\n  print(\"hello \" .. name)"),
    },
    {
        "name": "ctrl_markdown_list_items_are_not_removals",
        "family": "control", "control_of": 7, "language": "markdown", "document": _md_notes, "kind": "rewrite",
        "first": 2, "last": 4, "message": "add a step to update the changelog before tagging",
        "reply": "- bump the version in `package.json`\n- run the test suite\n- update `CHANGELOG.md`\n- tag the release",
        "expected": _splice(_md_notes, 2, 4, "- bump the version in `package.json`\n- run the test suite\n- update `CHANGELOG.md`\n- tag the release"),
    },
]

COMPLETIONS += [
    {
        "name": "ctrl_c_prefix_decrement_increment_lines",
        "family": "control", "control_of": 7, "language": "c",
        "document": "void step_back(struct cursor *c)\n{\n    █\n}\n",
        "reply": "--c->pos;\n    ++c->moves;\n    c->offset = c->line_start\n        - c->indent\n        + c->tab_adjust;",
        "expected": "--c->pos;\n    ++c->moves;\n    c->offset = c->line_start\n        - c->indent\n        + c->tab_adjust;",
    },
    {
        "name": "ctrl_sql_comment_and_col0_clauses",
        "family": "control", "control_of": 7, "language": "sql",
        "document": "-- monthly revenue report\nSELECT date_trunc('month', created_at) AS month,\n       █",
        "reply": "SUM(amount) AS revenue\n-- only paid orders count\nFROM orders\nWHERE status = 'paid'\nGROUP BY 1\nORDER BY 1;",
        "expected": "SUM(amount) AS revenue\n-- only paid orders count\nFROM orders\nWHERE status = 'paid'\nGROUP BY 1\nORDER BY 1;",
    },
    {
        "name": "ctrl_markdown_changelog_list_completion",
        "family": "control", "control_of": 7, "language": "markdown",
        "document": "## Changelog\n\n### 1.2.0\n\n- Added `--json` flag to `export`\n█",
        "reply": "- Fixed crash when `config.toml` is empty\n- Dropped support for Node 16",
        "expected": "- Fixed crash when `config.toml` is empty\n- Dropped support for Node 16",
    },
    {
        "name": "ctrl_yaml_steps_list_relative",
        "family": "control", "control_of": 7, "language": "yaml",
        "document": "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      █",
        "reply": "- uses: actions/setup-node@v4\n  with:\n    node-version: 20\n- run: npm ci\n- run: npm test",
        "expected": "- uses: actions/setup-node@v4\n        with:\n          node-version: 20\n      - run: npm ci\n      - run: npm test",
    },
]

# ---------------------------------------------------------------------------------------------
# Family 8: a one-line reply for a multi-line region replaces only the line it corresponds to
# ---------------------------------------------------------------------------------------------

_py_fetch = """\
import requests


def fetch(url, token):
    resp = requests.get(
        url,
        headers={"Authorization": f"Bearer {token}"}
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()
"""

_rs_config = """\
struct Config {
    host: String,
    port: u16,
    verbose: bool,
}

fn default_config() -> Config {
    Config {
        host: "localhost".to_string(),
        port: "8080",
        verbose: false,
    }
}
"""

_ts_users = """\
interface User {
  id: number;
  name: string;
}

const users: User[] = [
  { id: 1, name: "Ada" },
  { id: 2, name: "Linus" },
  { id: "3", name: "Grace" },
];
"""

_go_printf = """\
package main

import "fmt"

func main() {
\tn := 42
\tfmt.Printf(
\t\t"%d items, total %s\\n",
\t\tn,
\t\tn*3,
\t)
}
"""

_java_names = """\
import java.util.List;
import java.util.stream.Collectors;

public class Names {
    public static List<String> upper(List<String> names) {
        return names.stream()
            .map(String::toUpperCase)
            .collect(Collectors.toList())
    }
}
"""

_cs_seed = """\
public static class Seed
{
    public static Product Sample() =>
        new Product
        {
            Name = "Widget",
            Price = 9.99m,
            Stock = "12",
        };
}
"""

_sql_insert = """\
INSERT INTO products (id, name, price)
VALUES
    (1, 'Pen', 1.50),
    (2, 'Notebook' 3.25),
    (3, 'Stapler', 7.99);
"""

_kt_total = """\
fun main() {
    val total = listOf(1, 2, 3)
        .mapp { it * 2 }
        .sumOf { it }
    println("Total: $total")
}
"""

_php_config = """\
<?php
$config = [
    'db' => [
        'host' => 'localhost',
        'port' => '5432'
        'name' => 'app',
    ],
];
"""

_py_adult = """\
def is_adult(age):
    if age >= 18:
        return True
    else:
        return False
"""

_js_greet = """\
function greet(name) {
  let message;
  message = "Hello, " + name;
  return message;
}
"""

EDITS += [
    {
        "name": "py_missing_comma_reply_is_middle_line",
        "family": 8, "language": "python", "document": _py_fetch, "kind": "quickfix",
        "first": 4, "last": 6, "message": "Expected \",\"",
        "reply": "        headers={\"Authorization\": f\"Bearer {token}\"},",
        "expected": _splice(_py_fetch, 6, 6, "        headers={\"Authorization\": f\"Bearer {token}\"},"),
    },
    {
        "name": "rust_struct_field_fenced_relative_one_line",
        "family": 8, "language": "rust", "document": _rs_config, "kind": "quickfix",
        "first": 8, "last": 10, "message": "mismatched types: expected `u16`, found `&str`",
        "reply": "```rust\nport: 8080,\n```",
        "expected": _splice(_rs_config, 9, 9, "        port: 8080,"),
    },
    {
        "name": "ts_array_element_third_line",
        "family": 8, "language": "typescript", "document": _ts_users, "kind": "quickfix",
        "first": 6, "last": 8, "message": "Type 'string' is not assignable to type 'number'.",
        "reply": "  { id: 3, name: \"Grace\" },",
        "expected": _splice(_ts_users, 8, 8, "  { id: 3, name: \"Grace\" },"),
    },
    {
        "name": "go_printf_format_line_with_prose",
        "family": 8, "language": "go", "document": _go_printf, "kind": "quickfix",
        "first": 6, "last": 9, "message": "fmt.Printf format %s has arg n*3 of wrong type int",
        "reply": "Use `%d` for the integer:\n\n```go\n\t\t\"%d items, total %d\\n\",\n```",
        "expected": _splice(_go_printf, 7, 7, "\t\t\"%d items, total %d\\n\","),
    },
    {
        "name": "java_chain_missing_semicolon_last_line",
        "family": 8, "language": "java", "document": _java_names, "kind": "quickfix",
        "first": 5, "last": 7, "message": "';' expected",
        "reply": "            .collect(Collectors.toList());",
        "expected": _splice(_java_names, 7, 7, "            .collect(Collectors.toList());"),
    },
    {
        "name": "csharp_initializer_relative_one_line",
        "family": 8, "language": "csharp", "document": _cs_seed, "kind": "quickfix",
        "first": 5, "last": 7, "message": "CS0029: Cannot implicitly convert type 'string' to 'int'",
        "reply": "Stock = 12,",
        "expected": _splice(_cs_seed, 7, 7, "            Stock = 12,"),
    },
    {
        "name": "sql_values_row_middle_line",
        "family": 8, "language": "sql", "document": _sql_insert, "kind": "quickfix",
        "first": 2, "last": 4, "message": "syntax error at or near \"3.25\"",
        "reply": "    (2, 'Notebook', 3.25),",
        "expected": _splice(_sql_insert, 3, 3, "    (2, 'Notebook', 3.25),"),
    },
    {
        "name": "kotlin_chain_misspelled_call_middle_line",
        "family": 8, "language": "kotlin", "document": _kt_total, "kind": "quickfix",
        "first": 1, "last": 3, "message": "Unresolved reference: mapp",
        "reply": "        .map { it * 2 }",
        "expected": _splice(_kt_total, 2, 2, "        .map { it * 2 }"),
    },
    {
        "name": "php_nested_array_missing_comma",
        "family": 8, "language": "php", "document": _php_config, "kind": "quickfix",
        "first": 3, "last": 5, "message": "syntax error, unexpected single-quoted string \"name\", expecting \"]\"",
        "reply": "```php\n        'port' => '5432',\n```",
        "expected": _splice(_php_config, 4, 4, "        'port' => '5432',"),
    },
    # controls: a one-line reply that really replaces the whole region
    {
        "name": "ctrl_py_simplify_if_else_to_one_return",
        "family": "control", "control_of": 8, "language": "python", "document": _py_adult, "kind": "rewrite",
        "first": 1, "last": 4, "message": "simplify",
        "reply": "    return age >= 18",
        "expected": _splice(_py_adult, 1, 4, "    return age >= 18"),
    },
    {
        "name": "ctrl_js_inline_variable_template_literal",
        "family": "control", "control_of": 8, "language": "javascript", "document": _js_greet, "kind": "rewrite",
        "first": 1, "last": 3, "message": "inline the message variable and use a template literal",
        "reply": "  return `Hello, ${name}`;",
        "expected": _splice(_js_greet, 1, 3, "  return `Hello, ${name}`;"),
    },
]
