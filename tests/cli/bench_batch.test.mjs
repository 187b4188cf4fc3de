// `agentserve bench-batch` (the in-process reference of bench/http_overhead.mjs) on the tiny
// test model: every sequence decodes exactly --tokens (stop tokens ignored), the steps and the
// steady window add up, and every figure is a finite positive number.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { BIN, testModel } from "../api/lib/server.mjs";

function benchBatch(extra) {
  const r = spawnSync(BIN, ["bench-batch", "--model", testModel("qwen3-tiny"), "--ctx", "4096",
                            "--kv-cache-disk", "0", ...extra], { encoding: "utf8", timeout: 240000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

for (const temperature of ["0", "1"]) {
  test(`bench-batch decodes every sequence to the end, temperature ${temperature}`, () => {
    const streams = 6, tokens = 40, promptTokens = 11;
    const o = benchBatch(["--streams", String(streams), "--tokens", String(tokens),
                          "--prompt-tokens", String(promptTokens), "--temperature", temperature]);
    assert.equal(o.streams, streams);
    assert.equal(o.prompt_tokens, promptTokens);
    assert.equal(o.generated_tokens, streams * tokens);
    // One prefill step makes every sequence's first token; each later step one more token each.
    assert.ok(o.engine_steps >= tokens && o.engine_steps <= tokens + 2, JSON.stringify(o));
    for (const k of ["engine_busy_s", "engine_ms_per_step", "tokens_per_step", "engine_us_per_token",
                     "wall_s", "steady_engine_ms_per_step", "steady_engine_us_per_token"])
      assert.ok(Number.isFinite(o[k]) && o[k] > 0, `${k}: ${o[k]}`);
    assert.ok(o.tokens_per_step <= streams);
    assert.ok(o.wall_s >= o.engine_busy_s * 0.99);
    // The steady window holds only decode steps of all sequences, so it is within the run and
    // its per-token time is its step time over the sequences.
    assert.ok(o.steady_steps > 0 && o.steady_steps < o.engine_steps, JSON.stringify(o));
    assert.ok(Math.abs(o.steady_engine_us_per_token - 1000 * o.steady_engine_ms_per_step / streams) <
              1e-3 * o.steady_engine_us_per_token);
    // Its two parts, forward passes and the rest of the step, add up to it.
    assert.ok(o.steady_forward_us_per_token > 0 && o.steady_rest_us_per_token > 0, JSON.stringify(o));
    assert.ok(Math.abs(o.steady_forward_us_per_token + o.steady_rest_us_per_token - o.steady_engine_us_per_token) <
              1e-3 * o.steady_engine_us_per_token);
    assert.ok(o.engine_forward_s > 0 && o.engine_forward_s < o.engine_busy_s, JSON.stringify(o));
  });
}

test("bench-batch fails when a sequence cannot decode all its tokens", () => {
  const r = spawnSync(BIN, ["bench-batch", "--model", testModel("qwen3-tiny"), "--ctx", "64",
                            "--streams", "2", "--tokens", "100", "--kv-cache-disk", "0"],
                      { encoding: "utf8", timeout: 120000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /bench-batch: request \d+ ended after \d+ of 100 tokens \(length\): raise --ctx/);
});
