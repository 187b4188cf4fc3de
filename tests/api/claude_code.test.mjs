// The real Claude Code CLI (npm @anthropic-ai/claude-code, a native binary) run headless against
// `agentserve serve`: its ~12k-token first request (system blocks, 24 tool schemas, a
// mid-conversation system message, thinking adaptive, max_tokens 32000+) must come back as a
// successful result with no API retries.
//
// A random-weight test model never ends its turn (it samples ~uniformly over 152k tokens), and
// Claude Code treats stop_reason max_tokens as an error and asks the model to resume. So this
// test serves a copy of the test model whose end-of-turn token is made likely: every token's
// embedding gets the same large value in dimension 0 (the residual stream then points along it,
// and the shared term cancels in the softmax), and the end-of-turn row a bit more, which with
// tied embeddings raises only that token's logit. Turns end after ~15 tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, derivedModel } from "./lib/server.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PKG = path.join(ROOT, "node_modules/@anthropic-ai/claude-code");
const CLAUDE = path.join(PKG, "bin/claude.exe");

// npm 11 skips the package's postinstall, leaving a placeholder where the native binary goes.
function ensureClaudeBinary() {
  const isElf = () => {
    try {
      const fd = fs.openSync(CLAUDE, "r");
      const magic = Buffer.alloc(4);
      fs.readSync(fd, magic, 0, 4, 0);
      fs.closeSync(fd);
      return magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) && fs.statSync(CLAUDE).size > 1e6;
    } catch {
      return false;
    }
  };
  if (!isElf()) {
    const r = spawnSync(process.execPath, ["install.cjs"], { cwd: PKG, encoding: "utf8" });
    assert.equal(r.status, 0, `claude-code install.cjs failed: ${r.stdout}${r.stderr}`);
  }
  assert.ok(isElf(), `${CLAUDE} is not the native Claude Code binary`);
}

function endsTurnsModel() {
  return derivedModel("qwen3-tiny-ends-turns", (dir) => {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    assert.equal(cfg.tie_word_embeddings, true);
    const file = path.join(dir, "model.safetensors");
    const buf = fs.readFileSync(file);
    const headerLen = Number(buf.readBigUInt64LE(0));
    const emb = JSON.parse(buf.subarray(8, 8 + headerLen).toString())["model.embed_tokens.weight"];
    assert.equal(emb.dtype, "BF16");
    const [rows, cols] = emb.shape;
    const at = (row) => 8 + headerLen + emb.data_offsets[0] + 2 * row * cols;
    const bf16 = (x) => new Uint32Array(new Float32Array([x]).buffer)[0] >>> 16;
    for (let i = 0; i < rows; i++) buf.writeUInt16LE(bf16(1.0), at(i));
    buf.writeUInt16LE(bf16(2.25), at(cfg.eos_token_id));
    fs.writeFileSync(file, buf);
  });
}

let srv;
before(async () => {
  ensureClaudeBinary();
  // Claude Code's first request is ~12k tokens with this tokenizer; 64k of KV is 0.03 GB here.
  srv = await startServer({ modelDir: endsTurnsModel(), args: ["--ctx", "65536"] });
});
after(async () => {
  await srv?.stop();
});

function runClaude(args) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "cc-home-"));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "cc-cwd-"));
  const started = Date.now();
  const r = spawnSync(CLAUDE, ["-p", "say hi", "--max-turns", "1", ...args], {
    cwd,
    encoding: "utf8",
    timeout: 90000,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: srv.url,
      ANTHROPIC_API_KEY: "dummy",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      DISABLE_AUTOUPDATER: "1",
    },
  });
  const seconds = (Date.now() - started) / 1000;
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(cwd, { recursive: true, force: true });
  return { ...r, seconds };
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
