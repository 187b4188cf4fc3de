// Session replay (issue 5, item 6): Claude-Code-shaped sessions replayed against `agentserve serve`
// over HTTP — Anthropic Messages API, streamed, as Claude Code sends it — to measure how much KV
// the prefix cache reuses against what an ideal prefix cache could reuse, and what that does to
// time to first token.
//
//   node bench/session_replay.mjs --bin build/agentserve --model DIR [--turns 30] [--sessions 4]
//        [--ctx 40960] [--out session_replay.json] [--result-min 200] [--result-max 4000]
//        [--max-tokens 40] [--runs single,multi,restart,nocache] [--threads 0]
//        [--server-args "kv-cache-disk=0"] [--shadow] [--direct] [--server-logs DIR]
//
// Session shape (bench/lib/claude_code_session.mjs, deterministic from a seed): `system` = 3 text
// blocks (the attribution line `x-anthropic-billing-header: cc_version=…; cc_entrypoint=cli;
// cch=<random per request>;`, the identity line, a ~3k-token prompt ending in a per-session <env>
// block), 24 tool schemas (~70 KB of JSON), then per turn: a user message (the tool_result for the
// previous turn's tool call, 200–4,000 tokens of code/grep/prose, then a short user text) and a
// mid-conversation `role: "system"` reminder. The assistant turn kept in the history is what the
// server streamed back (its text, and thinking if any) plus a synthetic tool_use block (the
// random-weight test model writes no calls of its own). Requests carry
// `thinking: {type: "adaptive"}`, `metadata`, `cache_control` on the last two system blocks and
// `max_tokens` 40 (the random-weight model never stops on its own, so every turn generates 40).
//
// Runs, each on a fresh server: single (one session), multi (N sessions, turns round-robin, one
// request at a time, a title-generation side request — non-streamed, other system prompt,
// max_tokens 20 — after every turn), restart (the multi replay, SIGTERM after half the turns,
// restart on the same --kv-cache-dir, continue; reported as not available when `serve --help`
// does not list --kv-cache-dir), nocache (the single replay with --no-prefix-cache: reference).
//
// Per turn: TTFT = request sent → first content_block_delta (the first generated text byte);
// time to message_start; prompt tokens, reused (usage.cache_read_input_tokens) and prefilled
// (usage.input_tokens) tokens; and the ideal reusable count.
//
// Ideal reusable count. Each request's exact prompt token ids come from `agentserve template
// --ids` on the same model: the Anthropic body is converted to the OpenAI shape exactly as the
// server's conversation_from_anthropic does (attribution block kept with `cch=00000` when the
// build normalizes it — `serve --help` lists --no-prompt-hygiene — dropped by older builds; each other system block
// one system message, tool_result blocks → tool messages, text blocks → content parts,
// tool_use → tool_calls with object arguments, thinking → reasoning_content, role "system"
// messages kept in place) and rendered by the same template code. The length is checked against
// the server's own count (input_tokens + cache_read_input_tokens) for every request; a mismatch is
// reported. ideal = floor16(min(L, prompt_len − 1)), where L is the longest common prefix of this
// prompt with any earlier request's (all runs' requests on that server, side requests included)
// prompt followed by its generated tokens. The API does not return generated token ids, so the
// generated part is bracketed exactly: ideal_lo counts earlier prompts only; ideal (the upper
// bound, used for the ratio) assumes all of the earlier request's generated tokens
// (usage.output_tokens of them) match where the earlier prompt matched in full. The two differ
// by at most one turn's output (40 tokens). After a restart, earlier requests still count (the
// disk tier should keep them).
//
// Summary per run: reused/ideal, TTFT of follow-up turns against the time to prefill only their
// new tokens (prefilled tokens / the per-token rate of the cold first turn, whose TTFT is taken
// as all prefill: 40-token turns make decode negligible) and against the cold turn's TTFT.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs, startServer, stopServer, serveSupports, post, metrics } from "./lib/server.mjs";
import * as cc from "./lib/claude_code_session.mjs";

const args = parseArgs();
const BIN = args.bin ?? "build/agentserve";
const MODEL = args.model;
const TURNS = Number(args.turns ?? 30);
const SESSIONS = Number(args.sessions ?? 4);
const CTX = Number(args.ctx ?? 40960);
const KV_TOKENS = Number(args["kv-tokens"] ?? CTX * Math.max(1, SESSIONS) + 16384);
const MAX_TOKENS = Number(args["max-tokens"] ?? 40);
const RESULT_MIN = Number(args["result-min"] ?? 200);
const RESULT_MAX = Number(args["result-max"] ?? 4000);
const CHARS_PER_TOKEN = Number(args["chars-per-token"] ?? 3.1);
const RUNS = (args.runs ?? "single,multi,restart,nocache").split(",");
const OUT = args.out ?? "session_replay.json";
const THREADS = args.threads ?? "0";
// --shadow: every turn of a cached run is sent again, right after, to a second server with the
// cache off; its TTFT is a cache-off reference measured in the same minute (this host's speed
// swings up to 2x between minutes, so a reference from another run moves with it).
const SHADOW = args.shadow !== undefined;
// --direct: the time to prefill only a turn's new tokens, measured directly, right after the
// turn: a second server with the cache on is first given the turn's prompt cut at the main
// server's cached length (token ids through /v1/completions, untimed), then the whole prompt;
// the second request's TTFT is the prefill of exactly the new tokens against a prefix already in
// its KV — no chat path, no fit. Its cached count is checked against the main server's.
const DIRECT = args.direct !== undefined;
// --server-logs DIR: each server's stderr (startup lines and the per-request summaries: cached
// and computed tokens, prefill ms and steps) is written to DIR/<run>-<server>.log.
const LOG_DIR = args["server-logs"];
function saveLog(srv, run, which) {
  if (!LOG_DIR || !srv) return;
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.appendFileSync(path.join(LOG_DIR, `${run}-${which}.log`), srv.log());
}
const PAGE = 16;
if (!MODEL) throw new Error("--model DIR is required");

const TOOLS = cc.toolSchemas(1);
const TITLE_SYSTEM = "Summarize this coding conversation in under 50 characters.\nCapture the main task, key files, problems addressed, and current status.";

// ---------- sessions ----------
class Session {
  constructor(id) {
    this.id = id;
    this.r = cc.rng(1000 + id);
    this.meta = cc.rng(9000 + id);  // volatile parts (cch, ids) apart from the content stream
    this.env = { cwd: `/home/dev/project-${id}`, date: "2026-01-15", branch: `feature/${id}`,
      status: `M src/kv/radix_cache.cpp\n?? notes-${id}.md` };
    this.prompt = cc.systemPrompt(2, this.env);
    this.history = [];
    this.pendingToolUse = null;
    this.turn = 0;
    this.firstUserText = null;
  }
  resultTokens() {  // log-uniform in [RESULT_MIN, RESULT_MAX]
    return Math.round(RESULT_MIN * Math.pow(RESULT_MAX / RESULT_MIN, this.r.next()));
  }
  nextRequest() {
    const user = [];
    if (this.pendingToolUse) {
      const tokens = this.resultTokens();
      user.push({ type: "tool_result", tool_use_id: this.pendingToolUse.id,
        content: cc.toolResultText(this.r, Math.round(tokens * CHARS_PER_TOKEN)) });
    } else {
      user.push({ type: "text", text: `<system-reminder>\nToday's date is ${this.env.date}.\n</system-reminder>` });
    }
    const text = cc.userText(this.r, this.turn);
    this.firstUserText ??= text;
    user.push({ type: "text", text, cache_control: { type: "ephemeral" } });
    this.history.push({ role: "user", content: user });
    this.history.push({ role: "system", content: [{ type: "text", text: cc.reminder(this.r, this.turn) }] });
    return {
      model: "claude-sonnet-4-5", max_tokens: MAX_TOKENS, stream: true,
      system: [
        { type: "text", text: cc.attributionLine(this.meta) },
        { type: "text", text: cc.IDENTITY, cache_control: { type: "ephemeral" } },
        { type: "text", text: this.prompt, cache_control: { type: "ephemeral" } },
      ],
      tools: TOOLS,
      messages: structuredClone(this.history),
      metadata: { user_id: JSON.stringify({ device_id: "d0", session_id: `s${this.id}` }) },
      thinking: { type: "adaptive" },
      context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
    };
  }
  addAnswer(text, thinking) {
    const content = [];
    if (thinking) content.push({ type: "thinking", thinking, signature: "" });
    if (text) content.push({ type: "text", text });
    this.pendingToolUse = cc.toolUse(this.r, TOOLS, `toolu_01${this.meta.hex(20)}`);
    content.push(this.pendingToolUse);
    this.history.push({ role: "assistant", content });
    ++this.turn;
  }
  titleRequest() {
    return { model: "claude-haiku-4-5", max_tokens: 20, stream: false,
      system: [{ type: "text", text: cc.attributionLine(this.meta) }, { type: "text", text: TITLE_SYSTEM }],
      messages: [{ role: "user", content: this.firstUserText }] };
  }
}

// ---------- HTTP ----------
const HEADERS = { "anthropic-version": "2023-06-01", "x-api-key": "dummy", "x-app": "cli" };

async function streamTurn(url, body) {
  const t0 = performance.now();
  let buf = "", tStart = null, tFirst = null, text = "", thinking = "", usage = {}, stop = null;
  await post(`${url}/v1/messages?beta=true`, body, (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const line = frame.split("\n").find((l) => l.startsWith("data: "));
      if (!line) continue;
      const ev = JSON.parse(line.slice(6));
      if (ev.type === "message_start") { tStart ??= performance.now(); Object.assign(usage, ev.message.usage); }
      else if (ev.type === "content_block_delta") {
        tFirst ??= performance.now();
        if (ev.delta.type === "text_delta") text += ev.delta.text;
        else if (ev.delta.type === "thinking_delta") thinking += ev.delta.thinking;
      } else if (ev.type === "message_delta") { Object.assign(usage, ev.usage); stop = ev.delta.stop_reason; }
      else if (ev.type === "error") throw new Error(JSON.stringify(ev));
    }
  }, HEADERS);
  const t1 = performance.now();
  return { text, thinking, usage, stop, ttft_ms: tFirst - t0, message_start_ms: tStart - t0, total_ms: t1 - t0 };
}

async function sideRequest(url, body) {
  const t0 = performance.now();
  const res = await post(`${url}/v1/messages`, body, null, HEADERS);
  const j = JSON.parse(res.body);
  return { usage: j.usage, total_ms: performance.now() - t0, text: j.content.map((b) => b.text ?? "").join("") };
}

// --direct: the turn's prompt ids cut at `cached` (the main server's reuse), sent untimed so that
// the direct server holds exactly that prefix, then the whole prompt, streamed, 1 token: its
// TTFT is the prefill of the new tokens alone.
async function directPrefill(url, body, usage) {
  const ids = promptIds(body);
  const cached = usage.cache_read_input_tokens;
  await post(`${url}/v1/completions`, { prompt: ids.slice(0, cached), max_tokens: 1, temperature: 0 });
  const t0 = performance.now();
  let tFirst = null, buf = "", reused = null;
  await post(`${url}/v1/completions`, { prompt: ids, max_tokens: 1, temperature: 0, stream: true,
    stream_options: { include_usage: true } }, (d) => {
    tFirst ??= performance.now();
    buf += d;
  });
  const t1 = performance.now();
  for (const line of buf.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const f = JSON.parse(line.slice(6));
    if (f.usage) reused = f.usage.prompt_tokens_details?.cached_tokens ?? 0;
  }
  return { direct_ttft_ms: (tFirst ?? t1) - t0, direct_reused: reused };
}

// ---------- exact prompt ids ----------
function toOpenAI(body) {
  const messages = [];
  const sys = typeof body.system === "string" ? [{ type: "text", text: body.system }] : body.system ?? [];
  for (const b of sys) {
    if (!b.text.startsWith(ATTRIBUTION)) messages.push({ role: "system", content: b.text });
    else if (HYGIENE === "normalize") messages.push({ role: "system", content: normalizeAttribution(b.text) });
    // HYGIENE === "drop": builds before prompt hygiene dropped the block.
  }
  // Consecutive messages of one role are merged (as the server does) before conversion.
  const turns = [];
  for (const m of body.messages) {
    const blocks = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    if (turns.length && turns.at(-1).role === m.role) { turns.at(-1).blocks.push(...blocks); turns.at(-1).str = false; }
    else turns.push({ role: m.role, blocks: [...blocks], str: typeof m.content === "string" });
  }
  for (const t of turns) {
    const wrap = (parts) => (t.str ? parts.map((p) => p.text).join("") : parts);
    if (t.role === "user") {
      let pending = [];
      const flush = () => { if (pending.length) messages.push({ role: "user", content: wrap(pending) }); pending = []; };
      for (const b of t.blocks) {
        if (b.type === "tool_result") {
          flush();
          const c = typeof b.content === "string" ? b.content : b.content == null ? "" : b.content.map((p) => ({ type: "text", text: p.text }));
          messages.push({ role: "tool", tool_call_id: b.tool_use_id, content: c });
        } else if (b.type === "text") pending.push({ type: "text", text: b.text });
      }
      flush();
    } else if (t.role === "assistant") {
      const m = { role: "assistant" };
      const parts = t.blocks.filter((b) => b.type === "text").map((b) => ({ type: "text", text: b.text }));
      const think = t.blocks.filter((b) => b.type === "thinking").map((b) => b.thinking);
      const calls = t.blocks.filter((b) => b.type === "tool_use")
        .map((b) => ({ id: b.id, type: "function", function: { name: b.name, arguments: b.input ?? {} } }));
      m.content = parts.length ? wrap(parts) : calls.length ? null : wrap([]);
      if (think.length) m.reasoning_content = think.join("\n");
      if (calls.length) m.tool_calls = calls;
      messages.push(m);
    } else {
      messages.push({ role: "system", content: wrap(t.blocks.filter((b) => b.type === "text").map((b) => ({ type: "text", text: b.text }))) });
    }
  }
  const tools = (body.tools ?? []).map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.input_schema } }));
  return { messages, tools };
}

// How this build treats Claude Code's attribution block (server/prompt_hygiene.cpp): builds
// with --no-prompt-hygiene keep it and rewrite each `cch=` value to 00000; older ones drop it.
const ATTRIBUTION = "x-anthropic-billing-header:";
const HYGIENE = serveSupports(BIN, "--no-prompt-hygiene") ? "normalize" : "drop";
function normalizeAttribution(text) {
  return text.split("\n").map((line) => !line.startsWith(ATTRIBUTION) ? line
    : line.replace(/([ ;:])cch=[^; \t\r]*/g, "$1cch=00000")).join("\n");
}

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "session-replay-"));
function promptIds(body) {
  const { messages, tools } = toOpenAI(body);
  const mf = path.join(TMP, "messages.json");
  fs.writeFileSync(mf, JSON.stringify({ messages, tools: tools.length ? tools : undefined }));
  const extra = body.thinking ? ["--enable-thinking", body.thinking.type === "disabled" ? "false" : "true"] : [];
  const r = spawnSync(BIN, ["template", "--model", MODEL, "--messages", mf, "--ids", ...extra],
    { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`agentserve template failed: ${r.stderr}`);
  return r.stderr.match(/--- token ids ---\n([\d ]*)\n/)[1].split(" ").map(Number);
}

// Ideal reuse against the earlier requests of one server's life.
class IdealCache {
  constructor() { this.seqs = []; }  // { ids, gen }
  ideal(ids) {
    let lo = 0, hi = 0, who = -1;
    for (let s = 0; s < this.seqs.length; ++s) {
      const { ids: e, gen } = this.seqs[s];
      const n = Math.min(e.length, ids.length);
      let i = 0;
      while (i < n && e[i] === ids[i]) ++i;
      const l = i === e.length ? Math.min(ids.length, e.length + gen) : i;  // upper bound: output matches
      if (i > lo) lo = i;
      if (l > hi) { hi = l; who = s; }
    }
    const cap = (x) => Math.floor(Math.min(x, ids.length - 1) / PAGE) * PAGE;
    return { ideal_lo: cap(lo), ideal: cap(hi), lcp_lo: lo, lcp_hi: hi, from: who };
  }
  add(ids, gen) { this.seqs.push({ ids, gen }); }
}

// ---------- runs ----------
const supportsDiskTier = serveSupports(BIN, "--kv-cache-dir");
const baseArgs = ["--ctx", String(KV_TOKENS), "--threads", THREADS, "--parallel", "4",
  // --server-args "kv-cache-disk=0,log-level=…": more `serve` options (no leading dashes: the
  // argument parser takes a value starting with "--" for the next option).
  ...(args["server-args"] ? args["server-args"].split(",").flatMap((kv) => {
    const [k, ...v] = kv.split("=");
    return v.length ? [`--${k}`, v.join("=")] : [`--${k}`];
  }) : [])];

async function replay(name, { sessions, cacheOff = false, titles = false, restartAt = null }) {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), `replay-kv-${name}-`));
  const extra = [...baseArgs, ...(cacheOff ? ["--no-prefix-cache"] : []),
    ...(supportsDiskTier ? ["--kv-cache-dir", cacheDir] : [])];  // a fresh one per run: no run sees another's
  let srv = await startServer(BIN, MODEL, extra);
  const shadow = SHADOW && !cacheOff
    ? await startServer(BIN, MODEL, [...baseArgs, "--no-prefix-cache",
      ...(supportsDiskTier ? ["--kv-cache-dir", cacheDir] : [])])  // never written without a cache
    : null;
  const directDir = DIRECT && !cacheOff ? fs.mkdtempSync(path.join(os.tmpdir(), `replay-kv-${name}-direct-`)) : null;
  const direct = directDir
    ? await startServer(BIN, MODEL, [...baseArgs, ...(supportsDiskTier ? ["--kv-cache-dir", directDir] : [])])
    : null;
  const ss = Array.from({ length: sessions }, (_, i) => new Session(i));
  const log = [];  // every request in order: { kind, session, turn, body, result }
  const restarts = [];
  for (let t = 0; t < TURNS; ++t) {
    if (restartAt !== null && t === restartAt) {
      const m = await metrics(srv.url);
      const st = await stopServer(srv, "SIGTERM");
      saveLog(srv, name, "main");
      const t0 = performance.now();
      srv = await startServer(BIN, MODEL, extra);
      restarts.push({ before_turn: t, exit: st, restart_ms: +(performance.now() - t0).toFixed(0),
        cache_pages_before: m.get("agentserve_kv_pages_cached") ?? null });
    }
    for (const s of ss) {
      const body = s.nextRequest();
      const res = await streamTurn(srv.url, body);
      if (shadow) res.shadow_ttft_ms = (await streamTurn(shadow.url, body)).ttft_ms;
      if (direct && (res.usage.cache_read_input_tokens ?? 0) > 0) Object.assign(res, await directPrefill(direct.url, body, res.usage));
      s.addAnswer(res.text, res.thinking);
      log.push({ kind: "turn", session: s.id, turn: t, body, res, restarted: restarts.length > 0 });
      process.stderr.write(`\r${name}: turn ${t + 1}/${TURNS} session ${s.id}  prompt ${res.usage.input_tokens + (res.usage.cache_read_input_tokens ?? 0)}  ttft ${res.ttft_ms.toFixed(0)} ms      `);
      if (titles) {
        const tb = ss[(t + s.id) % ss.length].titleRequest();
        log.push({ kind: "title", session: s.id, turn: t, body: tb, res: await sideRequest(srv.url, tb) });
      }
    }
  }
  const m = await metrics(srv.url);
  await stopServer(srv, "SIGTERM");
  saveLog(srv, name, cacheOff ? "nocache" : "main");
  if (shadow) await stopServer(shadow, "SIGTERM");
  saveLog(shadow, name, "shadow");
  if (direct) await stopServer(direct, "SIGTERM");
  saveLog(direct, name, "direct");
  if (directDir) fs.rmSync(directDir, { recursive: true, force: true });
  process.stderr.write("\n");
  fs.rmSync(cacheDir, { recursive: true, force: true });
  return { name, log, restarts, metrics_end: Object.fromEntries([...m].filter(([k]) => k.includes("prefix_cache") || k.includes("_kv_"))) };
}

function analyse(run) {
  const ideal = new IdealCache();
  const rows = [];
  let mismatches = 0;
  for (const e of run.log) {
    const ids = promptIds(e.body);
    const u = e.res.usage;
    const serverLen = u.input_tokens + (u.cache_read_input_tokens ?? 0);
    if (serverLen !== ids.length) ++mismatches;
    const id = ideal.ideal(ids);
    ideal.add(ids, u.output_tokens ?? 0);
    if (e.kind !== "turn") continue;
    rows.push({ session: e.session, turn: e.turn, restarted: e.restarted, prompt: ids.length, server_prompt: serverLen,
      reused: u.cache_read_input_tokens ?? 0, prefilled: u.input_tokens, output: u.output_tokens, ...id,
      ttft_ms: +e.res.ttft_ms.toFixed(1), message_start_ms: +e.res.message_start_ms.toFixed(1), total_ms: +e.res.total_ms.toFixed(1),
      ...(e.res.shadow_ttft_ms !== undefined ? { shadow_ttft_ms: +e.res.shadow_ttft_ms.toFixed(1) } : {}),
      ...(e.res.direct_ttft_ms !== undefined ? { direct_ttft_ms: +e.res.direct_ttft_ms.toFixed(1), direct_reused: e.res.direct_reused } : {}) });
  }
  return { rows, mismatches };
}

function summarize(name, rows, extra = {}) {
  const sum = (f, rs = rows) => rs.reduce((a, r) => a + f(r), 0);
  const cold = rows[0];
  const rate = cold.ttft_ms / cold.prefilled;  // ms per prefilled token, cold first turn
  const follow = rows.filter((r) => r.turn > 0);
  const ratios = follow.map((r) => r.ttft_ms / Math.max(1, r.prefilled * rate));
  const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : null; };
  return {
    run: name, requests: rows.length,
    prompt_tokens: sum((r) => r.prompt), reused: sum((r) => r.reused), prefilled: sum((r) => r.prefilled),
    ideal: sum((r) => r.ideal), ideal_lo: sum((r) => r.ideal_lo),
    reused_over_ideal: +(sum((r) => r.reused) / Math.max(1, sum((r) => r.ideal))).toFixed(4),
    reused_over_ideal_lo: +(sum((r) => r.reused) / Math.max(1, sum((r) => r.ideal_lo))).toFixed(4),
    turns_below_95pct: rows.filter((r) => r.reused < 0.95 * r.ideal).length,
    cold_ttft_ms: cold.ttft_ms, cold_prompt: cold.prompt, prefill_ms_per_token: +rate.toFixed(5),
    followup_ttft_ms_median: median(follow.map((r) => r.ttft_ms)),
    followup_ttft_over_new_token_prefill_median: ratios.length ? +median(ratios).toFixed(2) : null,
    followup_ttft_over_new_token_prefill_max: ratios.length ? +Math.max(...ratios).toFixed(2) : null,
    followup_ttft_over_cold_median: follow.length ? +(median(follow.map((r) => r.ttft_ms)) / cold.ttft_ms).toFixed(4) : null,
    total_ttft_s: +(sum((r) => r.ttft_ms) / 1000).toFixed(2),
    ...(rows.some((r) => r.restarted) ? (() => {
      const first = rows.filter((r) => r.restarted && r.turn === rows.find((q) => q.restarted).turn);
      return { after_restart_first_turns_reused: sum((r) => r.reused, first), after_restart_first_turns_ideal: sum((r) => r.ideal, first),
        after_restart_first_turns_ttft_ms: first.map((r) => r.ttft_ms) };
    })() : {}),
    loadavg_at_end: os.loadavg().map((v) => +v.toFixed(2)),
    ...extra,
  };
}

function table(name, rows) {
  const pad = (s, n) => String(s).padStart(n);
  console.log(`\n== ${name} ==`);
  console.log(["s", "turn", "prompt", "reused", "prefill", "ideal", "ideal_lo", "reuse%", "ttft_ms", "msgstart", "total_ms"].map((h, i) => pad(h, i < 2 ? 4 : 9)).join(" "));
  for (const r of rows) {
    console.log([pad(r.session, 4), pad(r.turn + (r.restarted ? "*" : ""), 4), ...[r.prompt, r.reused, r.prefilled, r.ideal, r.ideal_lo,
      r.ideal ? (100 * r.reused / r.ideal).toFixed(1) : "-", r.ttft_ms.toFixed(0), r.message_start_ms.toFixed(0), r.total_ms.toFixed(0)].map((v) => pad(v, 9))].join(" "));
  }
}

const started = new Date().toISOString();
const plan = {
  single: { sessions: 1 },
  multi: { sessions: SESSIONS, titles: true },
  restart: { sessions: SESSIONS, titles: true, restartAt: Math.floor(TURNS / 2) },
  nocache: { sessions: 1, cacheOff: true },
};
const out = { started, hygiene: HYGIENE, disk_tier: supportsDiskTier, machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model}`, bin: BIN, model: MODEL, turns: TURNS,
  sessions: SESSIONS, ctx: CTX, kv_tokens: KV_TOKENS, max_tokens: MAX_TOKENS, result_tokens: [RESULT_MIN, RESULT_MAX],
  tool_schema_json_bytes: JSON.stringify(TOOLS).length, runs: {}, summary: [] };
for (const name of RUNS) {
  if (name === "restart" && !supportsDiskTier) {
    out.runs.restart = { status: "not available yet: `agentserve serve --help` lists no --kv-cache-dir (the disk tier is not in this build)" };
    out.summary.push({ run: "restart", status: out.runs.restart.status });
    console.log(`\n== restart ==\n${out.runs.restart.status}`);
    continue;
  }
  const run = await replay(name, plan[name]);
  const { rows, mismatches } = analyse(run);
  table(name, rows);
  const s = summarize(name, rows, { prompt_length_mismatches: mismatches, restarts: run.restarts });
  out.runs[name] = { summary: s, rows, restarts: run.restarts, metrics_end: run.metrics_end,
    side_requests: run.log.filter((e) => e.kind === "title").map((e) => ({ session: e.session, turn: e.turn, usage: e.res.usage, total_ms: +e.res.total_ms.toFixed(1) })) };
  out.summary.push(s);
  fs.writeFileSync(OUT, JSON.stringify(out, null, 1));
}
if (out.runs.nocache?.rows && out.runs.single?.rows) {
  const a = out.runs.single.rows, b = out.runs.nocache.rows;
  out.cache_vs_nocache = { single_total_ttft_s: out.runs.single.summary.total_ttft_s, nocache_total_ttft_s: out.runs.nocache.summary.total_ttft_s,
    followup_ttft_speedup_median: +(b.slice(1).map((r, i) => r.ttft_ms / a[i + 1].ttft_ms).sort((x, y) => x - y)[Math.floor((b.length - 1) / 2)]).toFixed(2) };
}
// Position-aware estimate of "prefill only the new tokens": on the tiny model attention dominates,
// so a token at position p costs about a + b·p. Fit TTFT(L) = a·L + b·L²/2 by least squares to the
// cache-off turns (full prefills of L tokens), then a cached turn's new tokens (positions
// reused..prompt) cost a·n + b·(prompt² − reused²)/2.
// Least-squares fit of TTFT(L) = a·L + b·L²/2 over cache-off requests {prompt, ttft}.
function fitPrefill(points) {
  let s11 = 0, s12 = 0, s22 = 0, y1 = 0, y2 = 0;
  for (const { prompt, ttft } of points) {
    const u = prompt, v = prompt * prompt / 2;
    s11 += u * u; s12 += u * v; s22 += v * v; y1 += u * ttft; y2 += v * ttft;
  }
  const det = s11 * s22 - s12 * s12;
  let a = (y1 * s22 - y2 * s12) / det, b = (s11 * y2 - s12 * y1) / det;
  if (a < 0) { a = 0; b = y2 / s22; }  // the linear term is not resolvable (load noise): attention only
  return { a, b };
}
const pct = (sorted, q) => +sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2);
// With --shadow: the same turn's cache-off TTFT, measured right after it, prices the whole
// prompt at this minute's speed; the fit only splits it, giving the new tokens' share
// (a·n + b·(prompt² − reused²)/2) / (a·prompt + b·prompt²/2).
for (const [name, run] of Object.entries(out.runs)) {
  const rows = run.rows?.filter((r) => r.shadow_ttft_ms !== undefined) ?? [];
  if (rows.length === 0) continue;
  const { a, b } = fitPrefill(rows.map((r) => ({ prompt: r.prompt, ttft: r.shadow_ttft_ms })));
  const ratios = rows.filter((r) => r.turn > 0).map((r) => {
    const share = (a * r.prefilled + b * (r.prompt ** 2 - r.reused ** 2) / 2) / (a * r.prompt + b * r.prompt ** 2 / 2);
    r.new_token_prefill_same_minute_ms = +(r.shadow_ttft_ms * share).toFixed(1);
    return r.ttft_ms / r.new_token_prefill_same_minute_ms;
  }).sort((p, q) => p - q);
  run.summary.shadow_fit = { a_ms_per_token: +a.toExponential(4), b_ms_per_token_per_position: +b.toExponential(4) };
  run.summary.followup_ttft_over_same_minute_new_prefill = {
    median: pct(ratios, 0.5), p90: pct(ratios, 0.9), max: +ratios.at(-1).toFixed(2),
    over_1_2: ratios.filter((x) => x > 1.2).length, turns: ratios.length };
}
// With --direct: each follow-up's TTFT against the directly measured prefill of its new tokens
// (only turns where the direct server reused exactly what the main server did).
for (const [, run] of Object.entries(out.runs)) {
  const rows = run.rows?.filter((r) => r.direct_ttft_ms !== undefined && r.turn > 0) ?? [];
  if (rows.length === 0) continue;
  const same = rows.filter((r) => r.direct_reused === r.reused);
  const ratios = same.map((r) => r.ttft_ms / r.direct_ttft_ms).sort((p, q) => p - q);
  const excess = same.map((r) => r.ttft_ms - r.direct_ttft_ms).sort((p, q) => p - q);
  run.summary.followup_ttft_over_direct_new_prefill = ratios.length ? {
    median: pct(ratios, 0.5), p90: pct(ratios, 0.9), max: +ratios.at(-1).toFixed(2),
    over_1_2: ratios.filter((x) => x > 1.2).length, turns: ratios.length,
    excess_ms_median: pct(excess, 0.5), excess_ms_max: +excess.at(-1).toFixed(1),
    turns_direct_reused_differently: rows.length - same.length } : { turns_direct_reused_differently: rows.length };
}
if (out.runs.nocache?.rows) {
  const { a, b } = fitPrefill(out.runs.nocache.rows.map((r) => ({ prompt: r.prompt, ttft: r.ttft_ms })));
  const c = 0;
  out.prefill_fit = { a_ms_per_token: +a.toExponential(4), b_ms_per_token_per_position: +b.toExponential(4) };
  for (const [name, run] of Object.entries(out.runs)) {
    if (!run.rows || name === "nocache") continue;
    const ratios = run.rows.filter((r) => r.turn > 0).map((r) => {
      r.new_token_prefill_est_ms = +(c + a * r.prefilled + b * (r.prompt ** 2 - r.reused ** 2) / 2).toFixed(1);
      return r.ttft_ms / r.new_token_prefill_est_ms;
    }).sort((p, q) => p - q);
    run.summary.followup_ttft_over_fitted_new_prefill_median = +ratios[Math.floor(ratios.length / 2)].toFixed(2);
    run.summary.followup_ttft_over_fitted_new_prefill_max = +ratios.at(-1).toFixed(2);
  }
}
out.finished = new Date().toISOString();
console.log("\n== summary ==");
console.table(out.summary.map(({ restarts, ...s }) => s));
if (out.cache_vs_nocache) console.log(out.cache_vs_nocache);
fs.writeFileSync(OUT, JSON.stringify(out, null, 1));
fs.rmSync(TMP, { recursive: true, force: true });
process.exit(0);
