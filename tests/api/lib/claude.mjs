// The real Claude Code CLI (npm @anthropic-ai/claude-code, a native binary) for the API tests:
// make sure the binary is there, a test model that ends its turns, and a headless run against
// a server.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { derivedModel } from "./server.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const PKG = path.join(ROOT, "node_modules/@anthropic-ai/claude-code");
export const CLAUDE = path.join(PKG, "bin/claude.exe");

// npm 11 skips the package's postinstall, leaving a placeholder where the native binary goes.
export function ensureClaudeBinary() {
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

// A random-weight test model never ends its turn (it samples ~uniformly over 152k tokens), and
// Claude Code treats stop_reason max_tokens as an error and asks the model to resume. This copy
// of the test model makes its end-of-turn token likely: every token's embedding gets the same
// large value in dimension 0 (the residual stream then points along it, and the shared term
// cancels in the softmax), and the end-of-turn row a bit more, which with tied embeddings
// raises only that token's logit. Turns end after ~15 tokens.
export function endsTurnsModel() {
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

// Claude Code's environment for a run against `url` with a private HOME; `env` adds to (or, with
// undefined values, removes from) it.
function claudeEnv(url, home, env) {
  return {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: "dummy",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_AUTOUPDATER: "1",
    ...env,
  };
}

// Runs `claude -p PROMPT ARGS...` headless against the server at `url` with a private HOME, in
// `cwd` (a fresh temp directory unless given), environment as claudeEnv(). Returns spawnSync's
// result plus `seconds`.
export function runClaude(url, prompt, args, { cwd = null, timeout = 90000, env = {} } = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "cc-home-"));
  const ownCwd = cwd === null;
  const dir = cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), "cc-cwd-"));
  const started = Date.now();
  const r = spawnSync(CLAUDE, ["-p", prompt, ...args], { cwd: dir, encoding: "utf8", timeout, env: claudeEnv(url, home, env) });
  const seconds = (Date.now() - started) / 1000;
  fs.rmSync(home, { recursive: true, force: true });
  if (ownCwd) fs.rmSync(dir, { recursive: true, force: true });
  return { ...r, seconds };
}

// Runs `claude -p PROMPT --output-format stream-json --verbose ARGS...` like runClaude, until it
// prints a line for which `until(line)` (the parsed JSON) holds, or exits, or `timeout` ms pass;
// then stops it. Resolves with that line (null if none) and everything printed.
export function watchClaude(url, prompt, args, until, { timeout = 60000, env = {} } = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "cc-home-"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-cwd-"));
  const proc = spawn(CLAUDE, ["-p", prompt, "--output-format", "stream-json", "--verbose", ...args],
                     { cwd: dir, env: claudeEnv(url, home, env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "", pending = "";
  return new Promise((resolve) => {
    let done = false;
    const finish = (line) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.kill("SIGKILL");
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ line, out });
    };
    const timer = setTimeout(() => finish(null), timeout);
    proc.stderr.on("data", (d) => { out += d; });
    proc.stdout.on("data", (d) => {
      out += d;
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const l of lines) {
        let j = null;
        try { j = JSON.parse(l); } catch { continue; }
        if (until(j)) return finish(j);
      }
    });
    proc.on("close", () => finish(null));  // after its output was read, unlike "exit"
  });
}
