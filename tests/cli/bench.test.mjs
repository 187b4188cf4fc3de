// `agentserve bench` end to end on the tiny test model: it runs, and every figure it prints is a
// finite positive number — including the paired decode/bandwidth windows and the prompt/GEMM
// pairs measured in the same seconds (a timer, a byte count or a window gone wrong shows as 0,
// nan or inf here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { BIN, testModel } from "../api/lib/server.mjs";

const number = (text, re) => {
  const m = text.match(re);
  assert.ok(m, `no match for ${re} in:\n${text}`);
  return m.slice(1).map(Number);
};

test("bench prints finite prompt, decode and paired figures", () => {
  const r = spawnSync(BIN, ["bench", "--model", testModel("qwen3-tiny"), "--prompt-tokens", "32",
                            "--gen-tokens", "25", "--repeats", "2"], { encoding: "utf8", timeout: 240000 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  const [promptTps, promptGflops] = number(out, /prompt\s+32 tokens in [\d.]+ s: ([\d.]+) tok\/s, ([\d.]+) GFLOP\/s/);
  const [gemmBest, gemmLow] = number(out, /compute\s+GEMM \(bf16, [^)]*\) ([\d.]+) GFLOP\/s best, ([\d.]+) lowest/);
  const [vsGemm, vsGemmLo, vsGemmHi] = number(out, /prompt \/ GEMM of the same seconds: median ([\d.]+)% \(([\d.]+)-([\d.]+)%\)/);
  const [decodeTps] = number(out, /decode\s+25 tokens: ([\d.]+) tok\/s/);
  // 25 tokens: the first ends the prefill, then three windows of 8.
  const [ratio, lo, hi, windows, pairedTps] = number(
    out, /decode \/ bandwidth of the same second: median ([\d.]+)% \(([\d.]+)-([\d.]+)%\) over (\d+) windows of 8 tokens; decode median ([\d.]+) tok\/s/);
  for (const v of [promptTps, promptGflops, gemmBest, gemmLow, vsGemm, decodeTps, ratio, pairedTps])
    assert.ok(Number.isFinite(v) && v > 0, `${v} in:\n${out}`);
  assert.ok(gemmLow <= gemmBest);
  assert.ok(vsGemmLo <= vsGemm && vsGemm <= vsGemmHi);
  assert.ok(lo <= ratio && ratio <= hi);
  assert.equal(windows, 3);
});

test("bench with too few tokens for a paired window says so and still succeeds", () => {
  const r = spawnSync(BIN, ["bench", "--model", testModel("qwen3-tiny"), "--prompt-tokens", "16",
                            "--gen-tokens", "4", "--repeats", "1"], { encoding: "utf8", timeout: 240000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /paired\s+decode \/ bandwidth: not measured \(needs --gen-tokens > 8\)/);
  number(r.stdout, /decode\s+4 tokens: ([\d.]+) tok\/s/);
});
