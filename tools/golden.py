#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for agentserve's test models.

Runs on the GPU machine (torch + transformers, no package registry). For each prompt it
writes the prompt's token ids, the top-20 logits at every prompt position, and a greedy
continuation with the top-20 logits of every step, computed in float32 from the model's bf16
weights (TF32 off), so the reference is exact up to f32 rounding. The same prompts are also
run with bf16 activations to record how far bf16 arithmetic alone moves the logits: that is
the "bf16 tolerance" scale the CPU test reports its own error against.

Usage: golden.py --out-dir DIR [--new-tokens 40] [--device cuda] MODEL_DIR...
writes DIR/<basename of MODEL_DIR>.json for each model.
"""
import argparse
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

TOP_K = 20

# A handful of prompts: plain text, code, Unicode, a chat-templated turn (special tokens), and a
# long one that spans many KV pages.
PROMPTS = [
    ("plain", "The capital of France is"),
    ("code", "def fibonacci(n):\n    if n < 2:\n        return n\n    return"),
    ("unicode", "Grüße aus Köln! 東京は日本の首都です。Emoji: 👩‍💻🚀 — done."),
    ("long", " ".join(f"Item {i}: the quick brown fox jumps over the lazy dog {i * 7 % 13}."
                      for i in range(24))),
]
CHAT = [{"role": "system", "content": "You are a helpful coding assistant."},
        {"role": "user", "content": "Write a haiku about caches."}]


def topk(row):
    values, ids = torch.topk(row.float(), TOP_K)
    return [[int(i), float(v)] for i, v in zip(ids.tolist(), values.tolist())]


@torch.no_grad()
def run(model, ids, new_tokens, device):
    """Prompt logits at every position and a greedy continuation, with a KV cache."""
    input_ids = torch.tensor([ids], device=device)
    out = model(input_ids=input_ids, use_cache=True)
    prompt_top = [topk(out.logits[0, p]) for p in range(len(ids))]
    past = out.past_key_values
    last = out.logits[0, -1]
    generated, steps = [], []
    for _ in range(new_tokens):
        nxt = int(torch.argmax(last))
        generated.append(nxt)
        steps.append(topk(last))
        out = model(input_ids=torch.tensor([[nxt]], device=device), past_key_values=past,
                    use_cache=True)
        past = out.past_key_values
        last = out.logits[0, -1]
    return prompt_top, generated, steps


def golden_for(model_dir, out_path, new_tokens, device):
    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(model_dir)
    prompts = [(name, text, tok(text, add_special_tokens=False)["input_ids"])
               for name, text in PROMPTS]
    chat_text = tok.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    prompts.append(("chat", chat_text, tok(chat_text, add_special_tokens=False)["input_ids"]))

    f32 = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                               attn_implementation="eager").to(device).eval()
    results = []
    for name, text, ids in prompts:
        prompt_top, generated, steps = run(f32, ids, new_tokens, device)
        results.append({"name": name, "text": text, "ids": ids, "prompt_top": prompt_top,
                        "greedy": generated, "greedy_top": steps})
    del f32
    torch.cuda.empty_cache()

    # bf16 activations: only to measure how far bf16 arithmetic moves the last-position logits.
    bf16 = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16,
                                                attn_implementation="eager").to(device).eval()
    for r in results:
        with torch.no_grad():
            logits = bf16(input_ids=torch.tensor([r["ids"]], device=device)).logits[0, -1]
        ref = {i: v for i, v in r["prompt_top"][-1]}
        r["bf16_last_max_abs_diff"] = max(abs(float(logits[i]) - v) for i, v in ref.items())
    del bf16
    torch.cuda.empty_cache()

    config = json.load(open(f"{model_dir}/config.json"))
    doc = {
        "generator": "tools/golden.py",
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "dtype": "float32 activations, bf16 weights, tf32 off, eager attention",
        "architecture": config["architectures"][0],
        "top_k": TOP_K,
        "prompts": results,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    worst = max(r["bf16_last_max_abs_diff"] for r in results)
    margins = [r["greedy_top"][s][0][1] - r["greedy_top"][s][1][1]
               for r in results for s in range(len(r["greedy"]))]
    print(f"{out_path}: {len(results)} prompts, {time.time() - t0:.1f}s, bf16-vs-f32 max |diff| "
          f"at last position {worst:.4f}, smallest greedy top-2 margin {min(margins):.2e}",
          file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--new-tokens", type=int, default=40)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    for model_dir in args.models:
        name = model_dir.rstrip("/").split("/")[-1]
        golden_for(model_dir, f"{args.out_dir}/{name}.json", args.new_tokens, args.device)


if __name__ == "__main__":
    main()
