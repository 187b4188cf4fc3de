// Starts a real `agentserve serve` on a test model for the API tests, on a free port, and stops
// it when the test file ends. Test models are made once (make-test-model is deterministic) under
// AGENTSERVE_TEST_MODELS_DIR, or a temp directory.
//
//   const srv = await startServer({ model: "qwen3-tiny", args: ["--api-key", "k"] });
//   srv.url  // "http://127.0.0.1:PORT"
//   srv.log() // everything the server printed so far
//   await srv.stop();

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const BIN = process.env.AGENTSERVE_BIN;
if (!BIN) throw new Error("set AGENTSERVE_BIN to the agentserve binary");

const MODELS = {
  "qwen3-tiny": ["--arch", "qwen3", "--shape", "tiny", "--tokenizer", "qwen3", "--seed", "0"],
  "llama-tiny": ["--arch", "llama", "--shape", "tiny", "--tokenizer", "llama3", "--seed", "0"],
  "qwen2-tiny": ["--arch", "qwen2", "--shape", "tiny", "--tokenizer", "qwen3", "--seed", "0"],
};

// The directory of test model `name` (one of MODELS), made on first use.
export function testModel(name) {
  const spec = MODELS[name];
  if (!spec) throw new Error(`unknown test model ${name}`);
  const base = process.env.AGENTSERVE_TEST_MODELS_DIR || path.join(os.tmpdir(), "agentserve-test-models");
  const dir = path.join(base, `api-${name}`);
  if (!fs.existsSync(path.join(dir, "config.json"))) {
    fs.mkdirSync(base, { recursive: true });
    // Concurrent test files may race: write to a private directory, then rename into place.
    const tmp = `${dir}.tmp-${process.pid}`;
    const r = spawnSync(BIN, ["make-test-model", ...spec, tmp], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`make-test-model failed: ${r.stderr}`);
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true });  // another process won the race
    }
  }
  return dir;
}

// A variant of a tiny test model (`base`, one of MODELS; Qwen3 by default), made once under the
// models directory as `api-NAME`: its files are copied into a private directory, `edit(dir)`
// changes them, and the directory is renamed into place (concurrent test files may race; the
// loser's copy is dropped).
export function derivedModel(name, edit, base = "qwen3-tiny") {
  const src = testModel(base);
  const models = process.env.AGENTSERVE_TEST_MODELS_DIR || path.join(os.tmpdir(), "agentserve-test-models");
  const dir = path.join(models, `api-${name}`);
  if (fs.existsSync(path.join(dir, "config.json"))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(tmp, f));
  edit(tmp);
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });  // another process won the race
  }
  return dir;
}

// A copy of qwen3-tiny whose template opens the reasoning block itself (as Qwen3
// thinking-2507 and DeepSeek-R1 templates do), so that everything the model writes is reasoning
// until it closes the block — the random-weight model never emits <think> on its own.
export function thinkingModel() {
  return derivedModel("qwen3-tiny-thinks", (dir) => {
    const cfgPath = path.join(dir, "tokenizer_config.json");
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    const before = cfg.chat_template;
    cfg.chat_template = before.replace(
      /(\{\{- '<think>\\n\\n<\/think>\\n\\n' \}\}\s*)(\{%- endif %\})/,
      "$1{%- else %}{{- '<think>\\n' }}$2");
    if (cfg.chat_template === before) throw new Error("the qwen3 template's enable_thinking branch was not found");
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  });
}

// Writes a --test-script file (server/test_script.h: scripted model output) into a fresh temp
// directory; returns its path. `script` is an object ({rules: [...]}) or the file's raw text.
export function writeTestScript(script) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "agentserve-test-script-")), "script.json");
  fs.writeFileSync(file, typeof script === "string" ? script : JSON.stringify(script));
  return file;
}

// `modelDir` serves a model directory of the caller's own instead of a named test model.
// `testScript` ({rules: [...]}) makes the model say scripted text (serve --test-script).
export async function startServer({ model = "qwen3-tiny", modelDir = null, args = [], env = {}, testScript = null } = {}) {
  const dir = modelDir ?? testModel(model);
  const scriptFile = testScript ? writeTestScript(testScript) : null;
  if (scriptFile) args = [...args, "--test-script", scriptFile];
  // A private disk tier unless the test names one: servers must not share pages through the
  // user's cache directory (one test's KV answering another's) or leave them behind there.
  const kvDir = args.includes("--kv-cache-dir") ? null : fs.mkdtempSync(path.join(os.tmpdir(), "agentserve-test-kv-"));
  const kvArgs = kvDir ? ["--kv-cache-dir", kvDir] : [];
  const proc = spawn(BIN, ["serve", "--model", dir, "--port", "0", ...kvArgs, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const onData = (d) => { log += d.toString(); };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${log}`)), 60000);
    const check = () => {
      const m = log.match(/is serving \S+ on (http:\/\/(?:[\d.]+|\[[0-9a-f:]+\]):\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stderr.on("data", check);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${log}`));
    });
  });
  return {
    url,
    proc,
    modelDir: dir,
    modelId: path.basename(dir),
    log: () => log,
    // Resolves with the log once it matches `re`; rejects after `ms` (the server writes its log
    // to a pipe, which may arrive after the HTTP answer that followed the line).
    async waitForLog(re, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!re.test(log)) {
        if (Date.now() > deadline) throw new Error(`no log line matching ${re} in:\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return log;
    },
    exited,
    // SIGINT stops at once; SIGTERM waits for the requests in progress (--shutdown-grace), and
    // a test that leaves a stream open would hold its server that long.
    async stop(signal = "SIGINT") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const killer = setTimeout(() => proc.kill("SIGKILL"), 10000);
      const r = await exited;
      clearTimeout(killer);
      if (kvDir) fs.rmSync(kvDir, { recursive: true, force: true });
      if (scriptFile) fs.rmSync(path.dirname(scriptFile), { recursive: true, force: true });
      return r;
    },
  };
}

// Reads a whole SSE response body into frames: [{event, data}] (data parsed as JSON when it
// parses, else kept as text, e.g. "[DONE]").
export function parseSse(text) {
  const frames = [];
  for (const block of text.split(/\n\n/)) {
    if (!block.trim()) continue;
    const f = { event: null, data: null, comment: false };
    const dataLines = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) f.comment = true;
      else if (line.startsWith("event: ")) f.event = line.slice(7);
      else if (line.startsWith("data: ")) dataLines.push(line.slice(6));
    }
    if (dataLines.length) {
      const d = dataLines.join("\n");
      try { f.data = JSON.parse(d); } catch { f.data = d; }
    }
    frames.push(f);
  }
  return frames;
}
