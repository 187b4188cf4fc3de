#!/usr/bin/env python3
"""Renders chat templates with real Jinja2, configured as Hugging Face transformers configures it.

transformers (chat_template_utils._compile_jinja_template) uses
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
extensions=[its {% generation %} extension, jinja2.ext.loopcontrols]), replaces the tojson filter
with json.dumps(x, ensure_ascii=False, indent=, separators=, sort_keys=) and adds the globals
raise_exception(message) (raises TemplateError) and strftime_now(format).

As a program it reads JSON lines on stdin and writes results on stdout, in the format of
tests/template/render_cases.cpp:
  in:  {"template": NAME, "source": TEXT}   then   {"id": ID, "template": NAME, "context": {...}}
  out: {"id": ID, "ok": true, "output": TEXT}
       {"id": ID, "ok": false, "kind": "raised|render|syntax", "message": TEXT}
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationBlock(Extension):
    """{% generation %}...{% endgeneration %}: renders its body unchanged (as transformers does
    when it is not tracking assistant token masks)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation"), [], [], body).set_lineno(lineno)

    def _generation(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def make_environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def error_result(e):
    if type(e) is jinja2.exceptions.TemplateError:  # raise_exception, exactly
        return {"ok": False, "kind": "raised", "message": str(e.message)}
    if isinstance(e, jinja2.exceptions.TemplateSyntaxError):
        return {"ok": False, "kind": "syntax", "message": f"line {e.lineno}: {e}"}
    return {"ok": False, "kind": "render", "message": f"{type(e).__name__}: {e}"}


class Oracle:
    def __init__(self):
        self.env = make_environment()
        self.templates = {}

    def add_template(self, name, source):
        try:
            self.templates[name] = self.env.from_string(source)
        except Exception as e:  # noqa: BLE001 - every failure is a result to compare
            self.templates[name] = error_result(e)

    def render(self, name, context):
        t = self.templates[name]
        if isinstance(t, dict):
            return dict(t)
        try:
            return {"ok": True, "output": t.render(**context)}
        except Exception as e:  # noqa: BLE001
            return error_result(e)


def main():
    oracle = Oracle()
    for line in sys.stdin:
        if not line.strip():
            continue
        j = json.loads(line)
        if "source" in j:
            oracle.add_template(j["template"], j["source"])
            continue
        out = {"id": j["id"]}
        out.update(oracle.render(j["template"], j["context"]))
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
