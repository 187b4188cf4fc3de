"""Deterministic generator of chat-template contexts for the differential test.

Each case is the context transformers' apply_chat_template passes to a template: messages,
tools (None or a list), documents (None), add_generation_prompt, the tokenizer's special tokens,
and sometimes extra kwargs (enable_thinking). Conversations mix what clients really send:
system prompts or none, multi-turn tool calls (several per turn, arguments as JSON objects or as
JSON strings), tool results, reasoning_content, empty/null content, content as a list of parts,
CJK / RTL / emoji text, long nested JSON arguments, and now and then an ill-formed conversation
(roles not alternating, a tool result without a call) that strict templates must reject.
"""
import json
import random
import string

TEXTS = [
    "Hello!",
    "What's the weather in Paris today?",
    "  leading and trailing spaces  ",
    "Line one\nLine two\n\nLine four",
    "请用中文解释一下快速排序算法。",
    "東京の天気はどうですか？ 明日も晴れますか",
    "مرحبا، كيف حالك اليوم؟",
    "שלום עולם, מה שלומך?",
    "Emoji test 🚀🔥👩‍💻 and flags 🇫🇷🇯🇵",
    "Tabs\tand \"quotes\" and 'single' and back\\slash",
    "Mixed: café naïve résumé Straße İstanbul ΣΊΣΥΦΟΣ",
    "<b>html-ish</b> & entities &amp; <tool_call> not really </tool_call>",
    "Write a Python function:\n```python\ndef f(x):\n    return x * 2\n```",
    "{\"json\": \"in user text\", \"n\": 1}",
    "\u3000ideographic space and nbsp\u00a0here\u3000",
    "Zero width\u200bjoiner and\u2028line separator",
    "",
    "Can you list files in /tmp and then read README.md?",
    "Résumé of the meeting: ✅ done, ❌ blocked, ⚠️ risky.",
    "Summarise: " + "lorem ipsum dolor sit amet " * 12,
]

THINKING = [
    "The user wants the weather. I should call the tool.",
    "\nLet me think step by step.\n1. parse\n2. act\n",
    "嗯，我需要先查询天气。",
    "",
]

TOOL_RESULTS = [
    "{\"temperature\": 21, \"unit\": \"celsius\", \"conditions\": \"sunny\"}",
    "file1.txt\nfile2.txt\nREADME.md",
    "Error: permission denied",
    "结果：成功 ✅",
    "",
    "{\"items\": [{\"id\": 1, \"name\": \"α\"}, {\"id\": 2, \"name\": \"β\"}], \"total\": 2}",
    "<tool_response>nested tag text</tool_response>",
]


def _tool(name, description, properties, required):
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


TOOLS = [
    _tool("get_weather", "Get the current weather for a location.",
          {"location": {"type": "string", "description": "City and country, e.g. Paris, France"},
           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"}},
          ["location"]),
    _tool("bash", "Run a shell command and return its output. Use with care.",
          {"command": {"type": "string", "description": "The command to run"},
           "timeout": {"type": "integer", "description": "Timeout in milliseconds", "minimum": 1, "maximum": 600000},
           "run_in_background": {"type": "boolean", "description": "Run without waiting"}},
          ["command"]),
    _tool("read_file", "Read a file from the local filesystem. 读取本地文件。",
          {"file_path": {"type": "string", "description": "Absolute path"},
           "offset": {"type": "number", "description": "Line to start at"},
           "limit": {"type": "number", "description": "Number of lines"}},
          ["file_path"]),
    _tool("edit_file", "Replace text in a file (exact match).",
          {"file_path": {"type": "string"},
           "edits": {"type": "array", "description": "Edits to apply in order",
                     "items": {"type": "object",
                               "properties": {"old_string": {"type": "string"},
                                              "new_string": {"type": "string"},
                                              "replace_all": {"type": "boolean", "default": False}},
                               "required": ["old_string", "new_string"]}}},
          ["file_path", "edits"]),
    _tool("search_web", "Search the web. Résultats en français possibles — 日本語も可。",
          {"query": {"type": "string", "description": "Search terms"},
           "filters": {"type": "object", "description": "Optional filters",
                       "properties": {"site": {"type": "string"},
                                      "date_range": {"type": "string", "enum": ["day", "week", "month", "year"]},
                                      "safe": {"type": "boolean"}}},
           "max_results": {"type": "integer", "default": 5}},
          ["query"]),
    _tool("todo_write", "Create and manage a structured task list for the session.",
          {"todos": {"type": "array",
                     "items": {"type": "object",
                               "properties": {"content": {"type": "string", "minLength": 1},
                                              "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                                              "id": {"type": "string"}},
                               "required": ["content", "status", "id"],
                               "additionalProperties": False}}},
          ["todos"]),
    _tool("calculator", "Evaluate an arithmetic expression.",
          {"expression": {"type": "string", "description": "e.g. (2+3)*4"},
           "precision": {"type": ["integer", "null"], "description": "Digits after the point"}},
          ["expression"]),
    {"type": "function", "function": {"name": "no_params", "description": "A tool without parameters."}},
    _tool("write_file", "Write a file, replacing its content.",
          {"file_path": {"type": "string"},
           "content": {"type": "string", "description": "The whole new content"},
           "metadata": {"type": "object", "properties": {"mode": {"type": "string"},
                                                         "tags": {"type": "array", "items": {"type": "string"}}}}},
          ["file_path", "content"]),
    _tool("send_email", "Send an email ✉️ to one or more recipients.",
          {"to": {"type": "array", "items": {"type": "string", "format": "email"}},
           "subject": {"type": "string"},
           "body": {"type": "string", "description": "Plain text; may contain \"quotes\" and \\ backslashes"},
           "priority": {"type": "string", "enum": ["low", "normal", "high"], "nullable": True}},
          ["to", "subject", "body"]),
]


def _arguments_for(rng, tool_name):
    pools = {
        "get_weather": lambda: {"location": rng.choice(["Paris, France", "東京", "القاهرة", "New York"]),
                                "unit": rng.choice(["celsius", "fahrenheit"])},
        "bash": lambda: {"command": rng.choice(["ls -la /tmp", "echo \"hi\" | wc -c", "grep -rn 'TODO' src/"]),
                         "timeout": rng.choice([1000, 120000])},
        "read_file": lambda: {"file_path": "/home/user/项目/README.md", "offset": rng.choice([0, 10]), "limit": 200},
        "edit_file": lambda: {"file_path": "/src/main.py",
                              "edits": [{"old_string": "def f(x):\n    return x", "new_string": "def f(x):\n    return x * 2",
                                         "replace_all": False} for _ in range(rng.randint(1, 3))]},
        "search_web": lambda: {"query": rng.choice(["jinja2 trim_blocks", "最新ニュース", "C++20 coroutines"]),
                               "filters": {"site": "example.com", "date_range": "week", "safe": True,
                                           "nested": {"deep": {"deeper": [1, 2.5, None, "x", {"k": "v"}]}}},
                               "max_results": 3},
        "todo_write": lambda: {"todos": [{"content": f"Task {i} — étape", "status": rng.choice(["pending", "completed"]),
                                          "id": str(i)} for i in range(rng.randint(1, 5))]},
        "calculator": lambda: {"expression": "(2+3)*4", "precision": rng.choice([None, 2, 0])},
        "no_params": lambda: {},
        "write_file": lambda: {"file_path": "/src/模块/main.cpp",
                               "content": "".join(f"// línea {i} — 注释 🚀\nint f{i}(int x) {{ return x * {i}; }}\n\t\"q\" \\ end\n"
                                                  for i in range(rng.randint(20, 80))),
                               "metadata": {"mode": "0644", "tags": ["a", "β", {"nested": {"deep": [1, [2, [3, {"x": None}]]]}}]}},
        "send_email": lambda: {"to": ["a@example.com", "b@exämple.org"], "subject": "Hi 👋",
                               "body": "Line 1\nLine \"2\"\tTab \\ end", "priority": None},
    }
    return pools.get(tool_name, lambda: {"value": rng.random()})()


def _call_id(rng, nine_chars):
    if nine_chars:
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(9))
    return "call_" + "".join(rng.choice("abcdef0123456789") for _ in range(12))


def _content(rng, text, allow_parts=True, allow_null=True, exotic=0.0):
    """`text`, or (with probability `exotic`) None or a list of content parts."""
    r = rng.random()
    if allow_null and r < exotic * 0.3:
        return None
    if allow_parts and r < exotic:
        parts = [{"type": "text", "text": text}]
        if rng.random() < 0.5:
            parts.append({"type": "text", "text": rng.choice(TEXTS)})
        if rng.random() < 0.3:
            parts.insert(0, {"type": "image"})
        return parts
    return text


class Profile:
    """What a template family expects; a share of cases deliberately departs from it."""

    def __init__(self, name):
        n = name.lower()
        self.string_args = "deepseek" in n
        self.nine_char_ids = "mistral" in n
        self.strict_alternation = any(k in n for k in ("gemma3", "gemma-2", "mistral"))
        self.single_tool_call = "llama" in n
        self.tool_type_field = "deepseek_v3" in n
        self.dict_args = any(k in n for k in ("coder", "glm", "gemma-4", "llama"))
        # Templates that iterate `tools` unguarded, and firefunction's own kwargs.
        self.tools_always_list = any(k in n for k in ("command-r", "hermes", "functionary"))
        self.functions_kwarg = "firefunction" in n


def _assistant_tool_turn(rng, prof, tools, msgs, exotic):
    ncalls = 1 if (prof.single_tool_call and rng.random() < 0.9) else rng.choice([1, 1, 2, 3])
    calls = []
    for _ in range(ncalls):
        tool = rng.choice(tools or TOOLS)["function"]["name"]
        args = _arguments_for(rng, tool)
        as_string = rng.random() < (0.85 if prof.string_args else 0.08 if prof.dict_args else 0.3)
        call = {"id": _call_id(rng, prof.nine_char_ids and rng.random() < 0.9),
                "type": "function",
                "function": {"name": tool,
                             "arguments": json.dumps(args, ensure_ascii=rng.random() < 0.3) if as_string else args}}
        if rng.random() < 0.1:
            del call["id"]
        calls.append(call)
    msg = {"role": "assistant", "tool_calls": calls}
    r = rng.random()
    if r < 0.04:
        pass  # no "content" key at all
    elif r < 0.45:
        msg["content"] = None if rng.random() < (0.8 if prof.string_args else 0.2) else ""
    else:
        msg["content"] = rng.choice(["Let me check that.", "I'll run a command.", "好的，我来查一下。", ""])
    if rng.random() < 0.35:
        msg["reasoning_content"] = rng.choice(THINKING)
    msgs.append(msg)
    for call in calls:
        result = {"role": "tool", "content": rng.choice(TOOL_RESULTS)}
        if "id" in call:
            result["tool_call_id"] = call["id"]
        if rng.random() < 0.6:
            result["name"] = call["function"]["name"]
        if rng.random() < exotic:
            result["content"] = [{"type": "text", "text": result["content"]}]
        msgs.append(result)


def _conversation(rng, prof, tools):
    msgs = []
    # Most conversations carry plain string content; some use null content or content parts.
    exotic = 0.25 if rng.random() < 0.2 else 0.0
    if rng.random() < 0.55:
        msgs.append({"role": "system",
                     "content": _content(rng, rng.choice(["You are a helpful assistant.",
                                                           "You are Claude Code, an agentic coding tool.\n\n# Rules\n- be brief",
                                                           "Réponds en français. 用中文回答也可以。",
                                                           "  System with spaces  "]), allow_null=False,
                                     exotic=exotic)})
    turns = rng.choice([1, 1, 2, 3, 4, 6])
    for t in range(turns):
        msgs.append({"role": "user", "content": _content(rng, rng.choice(TEXTS), exotic=exotic)})
        last = t == turns - 1
        if last and rng.random() < 0.5:
            break  # ends on the user: the generation-prompt case
        if rng.random() < 0.45:
            _assistant_tool_turn(rng, prof, tools, msgs, exotic)
            if rng.random() < 0.3:
                _assistant_tool_turn(rng, prof, tools, msgs, exotic)
            if last and rng.random() < 0.4:
                break  # ends on tool results
        reply = rng.choice(["Sure, here it is.", "The weather is sunny, 21°C.",
                            "<think>\ninternal reasoning\n</think>\n\nFinal answer.",
                            "Answer with\nnewlines\n", "完成了！🎉", "", "Done: `ls` shows 3 files."])
        msg = {"role": "assistant", "content": _content(rng, reply, allow_parts=rng.random() < 0.5, exotic=exotic)}
        if rng.random() < 0.3:
            msg["reasoning_content"] = rng.choice(THINKING)
        msgs.append(msg)
    # Ill-formed conversations, now and then.
    r = rng.random()
    if r < 0.05 and len(msgs) > 1:
        msgs.insert(rng.randrange(len(msgs)), {"role": "user", "content": "Out of order."})
    elif r < 0.08:
        msgs.append({"role": "user", "content": "Again?"})
        msgs.append({"role": "user", "content": "Two in a row."})
    elif r < 0.10:
        msgs.append({"role": "tool", "content": "orphan result", "tool_call_id": "xyz"})
    elif r < 0.12:
        msgs.append({"role": "developer", "content": "Developer note."})
    if prof.strict_alternation and rng.random() < 0.7:
        msgs = [m for m in msgs if m["role"] in ("system", "user", "assistant") and "tool_calls" not in m]
        fixed = []
        for m in msgs:
            if m["role"] == "system" and fixed:
                continue
            if fixed and fixed[-1]["role"] == m["role"] and m["role"] != "system":
                continue
            fixed.append(m)
        msgs = fixed
    return msgs


def generate(template_name, special_tokens, count, seed):
    """Returns `count` contexts for one template, the same on every run for a given seed."""
    rng = random.Random(f"{seed}:{template_name}")
    prof = Profile(template_name)
    cases = []
    for i in range(count):
        tools = None
        if rng.random() < 0.5:
            tools = rng.sample(TOOLS, rng.randint(1, len(TOOLS)))
        if tools is None and prof.tools_always_list:
            tools = [] if rng.random() < 0.5 else rng.sample(TOOLS, rng.randint(1, 4))
        ctx = {"messages": _conversation(rng, prof, tools), "tools": tools, "documents": None,
               "add_generation_prompt": rng.random() < 0.6}
        if prof.functions_kwarg:
            ctx["functions"] = json.dumps([t["function"] for t in tools or []], indent=2)
            ctx["datetime"] = "Fri, 27 Nov 2026"
        ctx.update(special_tokens)
        r = rng.random()
        if r < 0.3:
            ctx["enable_thinking"] = True
        elif r < 0.6:
            ctx["enable_thinking"] = False
        if rng.random() < 0.1:
            ctx["thinking"] = rng.random() < 0.5
        if i % 17 == 0:
            # A simple, well-formed chat, so that every template also renders plain cases.
            ctx["messages"] = [{"role": "user", "content": rng.choice(TEXTS[:12])},
                               {"role": "assistant", "content": "Hi there!"},
                               {"role": "user", "content": "Thanks 🙏"}]
            ctx["tools"] = None
        cases.append(ctx)
    return cases


# ---- random expressions ---------------------------------------------------------------------
# Small random expressions over a fixed context: operators, filters, tests and str/dict/list
# methods combined in ways no template author would write, each rendered as {{ expr }}.

EXPR_CONTEXT = {
    "s": "Héllo World", "n": 7, "f": 2.5, "z": 0, "l": [3, 1, 2], "e": [],
    "d": {"b": 2, "a": 1, "n": None},
    "m": [{"role": "user", "content": "hi"},
          {"role": "assistant", "content": None,
           "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}],
    "t": True, "u": None, "w": "  padded\n text  ", "j": "{\"a\": [1, 2]}",
}
_ATOMS = ["s", "n", "f", "z", "l", "e", "d", "m", "t", "u", "w", "j", "missing", "1", "0", "-3",
          "2.5", "0.1", "'ab'", "''", "'x y'", "[1, 'a']", "{'k': 1}", "none", "true", "false",
          "(1, 2)", "m[0]", "m[1].tool_calls", "d.a", "d['b']", "l[0]", "l[-1]", "s[1:4]",
          "l[::-1]", "range(3)"]
_BINARY = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]
_FILTERS = ["length", "list", "first", "last", "upper", "lower", "trim", "string", "int", "float",
            "abs", "tojson", "join(',')", "sort", "reverse|list", "unique|list", "default('D')",
            "default('D', true)", "capitalize", "title", "wordcount", "items|list", "dictsort",
            "sum", "min", "max", "round(1)", "center(9)", "truncate(5)", "indent(2)",
            "replace('l', 'L')", "map('string')|list", "select|list", "reject|list",
            "batch(2)|list", "e", "safe", "count", "tojson(indent=1)",
            "selectattr('role')|list", "map(attribute='role')|list"]
_TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping",
          "sequence", "iterable", "odd", "even", "boolean", "true", "false", "callable", "lower",
          "upper", "divisibleby 2", "in [1, 2]", "eq 1", "gt 2"]
_METHODS = ["upper()", "lower()", "strip()", "split()", "split('l')", "startswith('H')",
            "endswith('d')", "replace('o', '0')", "title()", "find('o')", "count('l')", "items()",
            "keys()", "values()", "get('a')", "get('q', 5)", "index(1)", "isdigit()", "isalpha()",
            "splitlines()", "lstrip()", "rstrip()"]


def _expr(rng, depth=0):
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(_ATOMS)
    sub = lambda: _expr(rng, depth + 1)  # noqa: E731
    if r < 0.5:
        return f"({sub()} {rng.choice(_BINARY)} {sub()})"
    if r < 0.65:
        return f"({sub()})|{rng.choice(_FILTERS)}"
    if r < 0.75:
        return f"({sub()} is {'not ' if rng.random() < 0.3 else ''}{rng.choice(_TESTS)})"
    if r < 0.85:
        return f"({sub()}).{rng.choice(_METHODS)}"
    if r < 0.92:
        return f"({sub()} if {sub()} else {sub()})"
    return f"(not {sub()})"


def random_expressions(count, seed):
    """[(template, context)]: `count` random {{ expr }} templates."""
    rng = random.Random(f"{seed}:expressions")
    return [("{{ " + _expr(rng) + " }}", EXPR_CONTEXT) for _ in range(count)]


# ---- random statement blocks ------------------------------------------------------------------
# Random nestings of set / for / if / macro / call / namespace / with over a few shared names:
# they exercise Jinja2's compile-time scoping rules (which frame a name lives in, how each
# frame's variables start), loop variables and whitespace control.

_VARS = ["a", "b", "c"]


def _small_expr(rng):
    return rng.choice(["a", "b", "c", "a ~ b", "(a or 0) + 1" if rng.random() < 0.5 else "c|default('d')",
                       "loop.index if loop is defined else 0", "ns.v", "x", "[a, b]|length",
                       "'s'", "1", "b is defined", "m2(a)" if rng.random() < 0.3 else "a"])


def _block(rng, depth, in_loop):
    parts = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        ws = rng.choice(["", "-"])
        if r < 0.25:
            parts.append(f"{{%{ws} set {rng.choice(_VARS)} = {_small_expr(rng)} %}}")
        elif r < 0.4:
            parts.append(f"[{{{{ {_small_expr(rng)} }}}}]")
        elif r < 0.5:
            parts.append(f"{{% set ns.v = {_small_expr(rng)} %}}")
        elif r < 0.62 and depth < 3:
            parts.append(f"{{% for {rng.choice(_VARS + ['x'])} in {rng.choice(['[1, 2]', 'range(3)', 'l', '[]'])} %}}"
                         f"{_block(rng, depth + 1, True)}{{% else %}}E{{% endfor %}}")
        elif r < 0.74 and depth < 3:
            parts.append(f"{{% if {_small_expr(rng)} %}}{_block(rng, depth + 1, in_loop)}"
                         f"{{% elif {_small_expr(rng)} %}}{_block(rng, depth + 1, in_loop)}{{% endif %}}")
        elif r < 0.8 and in_loop:
            parts.append(rng.choice(["{% if loop.index > 1 %}{% break %}{% endif %}",
                                     "{% if loop.first %}{% continue %}{% endif %}"]))
        elif r < 0.83 and depth < 2:
            parts.append(f"{{% with {rng.choice(_VARS)} = {_small_expr(rng)} %}}{_block(rng, depth + 1, False)}{{% endwith %}}")
        elif r < 0.86 and depth < 3:
            q = rng.random()
            if q < 0.25:  # a macro defined here: it sees this frame's variables at call time
                parts.append(f"{{% macro mm(p={_small_expr(rng)}) %}}({{{{ p }}}}{_block(rng, depth + 1, False)}){{% endmacro %}}"
                             f"{{% set {rng.choice(_VARS)} = 'm' %}}{{{{ mm() }}}}{{{{ mm(a) }}}}")
            elif q < 0.5:  # a loop with a filter and tuple targets
                parts.append(f"{{% for {rng.choice(_VARS)}, y in [(1, 'p'), (2, 'q'), (3, 'r')] if y != {rng.choice(['a', 'b', chr(39) + 'q' + chr(39)])} %}}"
                             f"<{{{{ loop.index }}}}{{{{ loop.previtem }}}}>{_block(rng, depth + 1, True)}{{% endfor %}}")
            elif q < 0.75:  # a call block whose body reads the enclosing variables
                parts.append(f"{{% call(v) m4({_small_expr(rng)}) %}}[{{{{ v }}}}]{_block(rng, depth + 1, False)}{{% endcall %}}")
            else:  # a filter block
                parts.append(f"{{% filter upper %}}{_block(rng, depth + 1, in_loop)}{{% endfilter %}}")
        elif r < 0.92 and depth < 2:
            parts.append(f"{{% set {rng.choice(_VARS)} %}}{_block(rng, depth + 1, False)}{{% endset %}}")
        else:
            parts.append(f"{{{{ m1() }}}}" if rng.random() < 0.5 else "{% call m3() %}<{{ a }}>{% endcall %}")
        if rng.random() < 0.3:
            parts.append(rng.choice(["\n", "\n  ", " ", "\n    text\n"]))
    return "".join(parts)


def random_templates(count, seed):
    """[(template, context)]: `count` random statement blocks."""
    rng = random.Random(f"{seed}:templates")
    out = []
    for _ in range(count):
        prefix = ""
        if rng.random() < 0.7:
            prefix += "{% set ns = namespace(v=0) %}"
        if rng.random() < 0.5:
            prefix += "{% macro m1() %}(m1 {{ a }} {{ b }}){% endmacro %}"
        prefix += "{% macro m2(p, q=a) %}{{ p }}{{ q }}{% endmacro %}"
        prefix += "{% macro m3() %}{{ caller() }}{% endmacro %}"
        prefix += "{% macro m4(x) %}{{ caller(x) }}{{ caller(a) }}{% endmacro %}"
        if rng.random() < 0.5:
            prefix += "{% set " + rng.choice(_VARS) + " = 'top' %}"
        body = _block(rng, 0, False)
        if rng.random() < 0.3:
            body += "{% set " + rng.choice(_VARS) + " = 'late' %}"
        ctx = {"l": [1, "x"]}
        for v in _VARS:
            if rng.random() < 0.4:
                ctx[v] = rng.choice([1, "ctx", None, [1]])
        out.append((prefix + body + "|{{ a }}|{{ b }}|{{ c }}|{{ ns.v if ns is defined }}", ctx))
    return out


# ---- random whitespace layouts ----------------------------------------------------------------
# Text, indentation and newlines around tags with every whitespace-control marker: trim_blocks,
# lstrip_blocks and '-' / '+' must remove exactly what Jinja2 removes.

_WS = ["", " ", "  ", "\t", "\n", "\n  ", "  \n", "\n\n", " \n \t", "\r\n", "\u3000", "x", "text ", "\n  t\n"]


def _ws_tag(rng):
    l = rng.choice(["", "-", "+"])
    r = rng.choice(["", "-", "+"])
    kind = rng.random()
    if kind < 0.3:
        return f"{{{{{l if l != '+' else ''} 'v' {r if r != '+' else ''}}}}}"
    if kind < 0.45:
        return f"{{#{l} c {r}#}}"
    if kind < 0.55:
        r = r if rng.random() < 0.1 else rng.choice(["", "-"])  # "{% raw +%}" is no raw tag
        return f"{{%{l} raw {r}%}}{rng.choice(_WS)}{{{{ raw }}}}{rng.choice(_WS)}{{%{rng.choice(['', '-', '+'])} endraw {rng.choice(['', '-', '+'])}%}}"
    if kind < 0.8:
        return (f"{{%{l} if true {r}%}}{rng.choice(_WS)}{_ws_tag(rng) if rng.random() < 0.3 else 'in'}"
                f"{rng.choice(_WS)}{{%{rng.choice(['', '-', '+'])} endif {rng.choice(['', '-', '+'])}%}}")
    return (f"{{%{l} for i in [1, 2] {r}%}}{rng.choice(_WS)}{{{{ i }}}}{rng.choice(_WS)}"
            f"{{%{rng.choice(['', '-', '+'])} endfor {rng.choice(['', '-', '+'])}%}}")


def random_layouts(count, seed):
    """[(template, context)]: `count` random whitespace layouts."""
    rng = random.Random(f"{seed}:layouts")
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(2, 8)):
            parts.append(rng.choice(_WS))
            parts.append(_ws_tag(rng))
        parts.append(rng.choice(_WS + ["\n"]))
        out.append(("".join(parts), {}))
    return out
