// The real Claude Code CLI (npm @anthropic-ai/claude-code, a native binary) run headless against
// `agentserve serve`: its ~12k-token first request (system blocks, 24 tool schemas, a
// mid-conversation system message, thinking adaptive, max_tokens 32000+) must come back as a
// successful result with no API retries.
//
// A random-weight test model never ends its turn, and Claude Code treats stop_reason max_tokens
// as an error, so this test serves a copy of the test model that ends its turns
// (lib/claude.mjs: endsTurnsModel).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { ensureClaudeBinary, endsTurnsModel, runClaude as runClaudeAt, watchClaude } from "./lib/claude.mjs";

let srv, keyed;
before(async () => {
  ensureClaudeBinary();
  // No --ctx: the default context must take Claude Code's ~12k-token first request as it is
  // (a fixed default of 8,192 refused it with "prompt is too long").
  [srv, keyed] = await Promise.all([
    startServer({ modelDir: endsTurnsModel() }),
    startServer({ modelDir: endsTurnsModel(), args: ["--api-key", "sekret-token"] }),
  ]);
});
after(async () => {
  await Promise.all([srv?.stop(), keyed?.stop()]);
});

function runClaude(args) {
  return runClaudeAt(srv.url, "say hi", ["--max-turns", "1", ...args]);
}

test("claude -p --output-format json: a successful result", () => {
  const r = runClaude(["--output-format", "json"]);
  assert.equal(r.status, 0, `exit ${r.status} after ${r.seconds} s\n${r.stdout}\n${r.stderr}\n${srv.log().slice(-2000)}`);
  const result = JSON.parse(r.stdout);
  assert.equal(result.type, "result");
  assert.equal(result.is_error, false, r.stdout);
  assert.equal(result.subtype, "success");
  assert.equal(result.stop_reason, "end_turn");
  assert.ok(result.usage.input_tokens > 1000, "Claude Code's prompt reached the server");
  console.log(`claude -p (json) took ${r.seconds} s, ${result.num_turns} turn(s)`);
});

test("claude -p --output-format stream-json: no API retries", () => {
  const r = runClaude(["--output-format", "stream-json", "--verbose"]);
  assert.equal(r.status, 0, `exit ${r.status} after ${r.seconds} s\n${r.stdout}\n${r.stderr}\n${srv.log().slice(-3000)}`);
  const lines = r.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const retries = lines.filter((l) => l.type === "system" && l.subtype === "api_retry");
  assert.deepEqual(retries, []);
  assert.ok(lines.some((l) => l.type === "system" && l.subtype === "init"));
  assert.ok(lines.some((l) => l.type === "assistant"));
  const result = lines.at(-1);
  assert.equal(result.type, "result");
  assert.equal(result.is_error, false);
  console.log(`claude -p (stream-json) took ${r.seconds} s`);
});

// The setup docs/api.md recommends: ANTHROPIC_AUTH_TOKEN (sent as Authorization: Bearer) against
// a server started with --api-key. A wrong token gets Anthropic's 401 authentication_error,
// which Claude Code reads as "authentication_failed" (it then retries with backoff, up to 10
// times, as it does against Anthropic's own API: its behaviour, not the server's).
test("claude -p with ANTHROPIC_AUTH_TOKEN against --api-key", async () => {
  const auth = (token, extra) => runClaudeAt(keyed.url, "say hi", ["--max-turns", "1", ...extra],
                                             { env: { ANTHROPIC_API_KEY: undefined, ANTHROPIC_AUTH_TOKEN: token }, timeout: 60000 });
  const ok = auth("sekret-token", ["--output-format", "json"]);
  assert.equal(ok.status, 0, `exit ${ok.status} after ${ok.seconds} s\n${ok.stdout}\n${ok.stderr}\n${keyed.log().slice(-2000)}`);
  const result = JSON.parse(ok.stdout);
  assert.equal(result.is_error, false, ok.stdout);
  assert.ok(result.usage.input_tokens > 1000);
  const bad = await watchClaude(keyed.url, "say hi", ["--max-turns", "1"], (l) => l.type === "system" && l.subtype === "api_retry",
                                { env: { ANTHROPIC_API_KEY: undefined, ANTHROPIC_AUTH_TOKEN: "wrong-token" } });
  const retry = bad.line;
  assert.ok(retry, `Claude Code saw the refusal: ${bad.out.slice(-2000)}`);
  assert.equal(retry.error_status, 401);
  assert.equal(retry.error, "authentication_failed");
  console.log(`claude -p with ANTHROPIC_AUTH_TOKEN took ${ok.seconds} s`);
});
