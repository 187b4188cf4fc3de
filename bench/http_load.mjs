// HTTP-layer benchmark: N concurrent streamed chat completions against a running
// `agentserve serve`, then N idle open streams for memory. Reports
//   - throughput (generated tokens/s over HTTP) and per-stream TTFT;
//   - the server's own overhead: CPU time of its HTTP I/O thread against the engine's compute
//     time over the same run (both from /metrics), total and per streamed token;
//   - what decoding lost to everything else on the machine: the engine threads' run-queue wait
//     (runnable, CPU taken) against the engine's busy time, and the I/O threads' sleeps,
//     preemptions and run-queue wait per token (from /proc/PID/task/*/schedstat and status);
//   - token-to-socket latency (engine produced a token → its bytes going to the socket), p50/p99
//     from the server's histogram, and the send calls' p99;
//   - memory per idle open stream (server RSS with M streams waiting in the queue).
//
//   node bench/http_load.mjs --bin build/agentserve --model DIR [--streams 64] [--tokens 64]
//                            [--idle 256] [--parallel 64] [--temperature 1] [--io-threads 0]
//                            [--threads 0] [--driver-nice 0] [--driver-cpus LIST] [--handover-us N]
//
// The load driver runs on the same machine: its own CPU time is reported too, since on a small
// machine it competes with the server.

import fs from "node:fs";
import os from "node:os";
import http from "node:http";
import { execFileSync } from "node:child_process";
import { parseArgs, startServer as start, post, metrics } from "./lib/server.mjs";

const args = parseArgs();
const BIN = args.bin ?? "build/agentserve";
const MODEL = args.model;
const STREAMS = Number(args.streams ?? 64);
const TOKENS = Number(args.tokens ?? 64);
const IDLE = Number(args.idle ?? 256);
const PARALLEL = Number(args.parallel ?? STREAMS);
const IO_THREADS = args["io-threads"] ?? "0";
const THREADS = args.threads ?? "0";  // compute threads of the server (0: all cores)
const DRIVER_NICE = Number(args["driver-nice"] ?? 0);
const DRIVER_CPUS = args["driver-cpus"];
const HANDOVER_US = args["handover-us"];  // serve --handover-us (default: the server's)
if (!MODEL) throw new Error("--model DIR is required");

// The prefix cache's disk tier would write every run's pages into the user's cache directory:
// this benchmark measures the HTTP layer, so its servers keep KV in the pool only.
const startServer = (extra) => start(BIN, MODEL, ["--kv-cache-disk", "0", ...extra]);

// Quantile from a Prometheus histogram delta (upper bound of the bucket that holds it).
function histQuantile(before, after, name, q) {
  const buckets = [];
  for (const [k, v] of after) {
    const r = k.match(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`));
    if (r) buckets.push([r[1] === "+Inf" ? Infinity : Number(r[1]), v - (before.get(k) ?? 0)]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)[1];
  for (const [le, n] of buckets) if (n >= q * total) return { le, total };
  return { le: Infinity, total };
}

// Share of a histogram delta at or below `le`.
function histQuantileShare(before, after, name, le) {
  const d = (k) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  return d(`${name}_bucket{le="${le}"}`) / d(`${name}_count`);
}

// Per thread of `pid`: name, CPU time and time spent runnable but waiting for a CPU (ns), from
// /proc/PID/task/TID/schedstat (fields 1 and 2).
function threadTimes(pid) {
  const out = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const voluntary = Number(status.match(/^voluntary_ctxt_switches:\s+(\d+)/m)[1]);
      const preempted = Number(status.match(/^nonvoluntary_ctxt_switches:\s+(\d+)/m)[1]);
      // The I/O threads: the main thread runs the first loop, the others are named as-http-N.
      out.set(tid, { name, run, wait, voluntary, preempted, io: tid === String(pid) || name.startsWith("as-http") });
    } catch { /* the thread ended */ }
  }
  return out;
}

// Summed over the engine's threads (the engine thread and its compute workers) between two
// threadTimes() readings: CPU time, and time they were runnable while something else held
// their CPU (the I/O thread, the load driver, the kernel's threads).
function engineThreads(before, after) {
  let run = 0, wait = 0;
  for (const [tid, a] of after) {
    if (a.name !== "as-engine" && !a.name.startsWith("as-compute")) continue;
    const b = before.get(tid) ?? { run: 0, wait: 0 };
    run += a.run - b.run;
    wait += a.wait - b.wait;
  }
  return { run_s: run / 1e9, wait_s: wait / 1e9 };
}

// The I/O threads between two threadTimes() readings: sleeps (voluntary switches, each followed
// by a wake-up), preemptions, and time runnable while waiting for a CPU.
function ioSwitches(before, after) {
  const n = { voluntary: 0, preempted: 0, wait_ns: 0 };
  for (const [tid, a] of after) {
    if (!a.io) continue;
    const b = before.get(tid) ?? { voluntary: 0, preempted: 0, wait: 0 };
    n.voluntary += a.voluntary - b.voluntary;
    n.preempted += a.preempted - b.preempted;
    n.wait_ns += a.wait - b.wait;
  }
  return n;
}

function rssKb(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(s.match(/VmRSS:\s+(\d+)/)[1]);
}

// ignore_eos: every stream decodes exactly maxTokens, as `agentserve bench-batch`'s sequences do
// (the in-process reference bench/http_overhead.mjs sets these runs against).
const chatBody = (i, maxTokens) => ({
  stream: true, stream_options: { include_usage: true }, max_tokens: maxTokens, ignore_eos: true,
  temperature: Number(args.temperature ?? 1), seed: i, messages: [{ role: "user", content: `Request ${i}: write a long story about the sea.` }],
});

// ---- throughput, overhead, latency ----
// A KV pool that holds every stream whole: a smaller one preempts streams (measured: with the
// former 8,192-token default, 64 x 276 tokens ran at 37 streams per step on average).
const CTX = Math.max(40960, STREAMS * (TOKENS + 64));
const srv = await startServer(["--parallel", String(PARALLEL), "--io-threads", IO_THREADS, "--threads", THREADS,
                               "--ctx", String(CTX), ...(HANDOVER_US ? ["--handover-us", HANDOVER_US] : [])]);
// --driver-nice N: the driver's own thread N nice levels down once the server runs (the server
// keeps its priority), so that on a small machine the client stands in for one on another host
// rather than taking the server's cores. Reported in the output.
if (DRIVER_NICE !== 0) os.setPriority(0, DRIVER_NICE);
// --driver-cpus LIST: the driver (all its threads) moves to those CPUs once the server runs (the
// server keeps the CPUs this process started on): a client on another host, as far as CPUs go.
if (DRIVER_CPUS) execFileSync("taskset", ["-a", "-p", "-c", DRIVER_CPUS, String(process.pid)], { stdio: "ignore" });
// Warm up (first allocations, page faults).
await Promise.all(Array.from({ length: Math.min(8, STREAMS) }, (_, i) => post(`${srv.url}/v1/chat/completions`, chatBody(i, 8))));
const m0 = await metrics(srv.url);
const threads0 = threadTimes(srv.proc.pid);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const ttfts = [];
let streamedTokens = 0;
const promptTokens = [];
// The steady window: from the moment every stream has its first token to the first stream's
// last, every engine step decodes all STREAMS sequences. The requests reach the engine over
// a few steps (parsed and templated one by one), so the whole run also counts steps of fewer
// sequences at its start and end, which cost more per token; bench/http_overhead.mjs compares
// this window with the same window of the in-process reference.
let streamsDecoding = 0, mSteadyStart = null, mSteadyEnd = null;
await Promise.all(Array.from({ length: STREAMS }, async (_, i) => {
  const start = performance.now();
  let first = true, decoding = false, ended = false, buf = "";
  await post(`${srv.url}/v1/chat/completions`, chatBody(1000 + i, TOKENS), (d) => {
    if (first) { ttfts.push(performance.now() - start); first = false; }
    // Markers are looked for in the new text and the few bytes before it (a chunk may split one).
    const recent = buf.slice(-40) + d;
    buf += d;
    if (!decoding && recent.includes('"delta":{"content"')) {
      decoding = true;
      if (++streamsDecoding === STREAMS) mSteadyStart = metrics(srv.url);
    }
    if (!ended && recent.includes('"finish_reason":"length"')) {
      ended = true;
      if (mSteadyEnd === null && mSteadyStart !== null) mSteadyEnd = metrics(srv.url);
    }
  });
  const usage = buf.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6))).find((f) => f.usage)?.usage;
  streamedTokens += usage?.completion_tokens ?? 0;
  promptTokens.push(usage?.prompt_tokens ?? 0);
}));
const wall = (performance.now() - t0) / 1000;
// In the steady window each step made STREAMS tokens.
let steady = null;
if (mSteadyEnd !== null) {
  const [a, b] = [await mSteadyStart, await mSteadyEnd];
  const dw = (k) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  const wSteps = dw("agentserve_engine_steps_total"), wBusy = dw("agentserve_engine_busy_seconds_total");
  const wIo = dw("agentserve_io_thread_cpu_seconds_total"), wForward = dw("agentserve_engine_forward_seconds_total");
  if (wSteps > 0) steady = { steps: wSteps, ms_per_step: 1000 * wBusy / wSteps,
                             us_per_token: 1e6 * wBusy / (wSteps * STREAMS), io_cpu_share_pct: 100 * wIo / wBusy,
                             forward_us_per_token: 1e6 * wForward / (wSteps * STREAMS),
                             rest_us_per_token: 1e6 * (wBusy - wForward) / (wSteps * STREAMS) };
}
const cpu = process.cpuUsage(cpu0);
const threads1 = threadTimes(srv.proc.pid);
const m1 = await metrics(srv.url);
const d = (k) => (m1.get(k) ?? 0) - (m0.get(k) ?? 0);
const ioCpu = d("agentserve_io_thread_cpu_seconds_total");
const busy = d("agentserve_engine_busy_seconds_total");
const steps = d("agentserve_engine_steps_total");
const gen = d("agentserve_generated_tokens_total");
const eng = engineThreads(threads0, threads1);
const ioSw = ioSwitches(threads0, threads1);
const p50 = histQuantile(m0, m1, "agentserve_token_to_socket_seconds", 0.5);
const p99 = histQuantile(m0, m1, "agentserve_token_to_socket_seconds", 0.99);
const sendP99 = histQuantile(m0, m1, "agentserve_socket_send_seconds", 0.99);
ttfts.sort((a, b) => a - b);
srv.proc.kill("SIGTERM");

// ---- memory per idle open stream ----
// Server RSS before and after IDLE more streams open and wait in the queue behind one long
// generation, and how many of them the server counted as queued.
async function measureIdle() {
  const idleSrv = await startServer(["--parallel", "1"]);
  // One long generation occupies the engine; the other streams wait in the queue, open and idle.
  post(`${idleSrv.url}/v1/chat/completions`, chatBody(0, 100000)).catch(() => {});
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKb(idleSrv.proc.pid);
  const idleReqs = [];
  for (let i = 0; i < IDLE; ++i) {
    const u = new URL(`${idleSrv.url}/v1/chat/completions`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST",
      agent: new http.Agent({ keepAlive: false }), headers: { "content-type": "application/json" } }, (res) => res.resume());
    req.on("error", () => {});
    req.end(JSON.stringify(chatBody(i, 16)));
    idleReqs.push(req);
  }
  let queued = 0;
  for (let tries = 0; tries < 100 && queued < IDLE; ++tries) {
    await new Promise((r) => setTimeout(r, 100));
    queued = (await metrics(idleSrv.url)).get("agentserve_queue_depth") ?? 0;
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = rssKb(idleSrv.proc.pid);
  idleSrv.proc.kill("SIGKILL");
  for (const r of idleReqs) r.destroy();
  return { before, after, queued };
}
// --idle 0 skips it (bench/http_overhead.mjs runs only the part above).
const idle = IDLE > 0 ? await measureIdle() : { before: null, after: null, queued: 0 };

const result = {
  streams: STREAMS, tokens_per_stream: TOKENS, parallel: PARALLEL, io_threads: IO_THREADS, compute_threads: THREADS, driver_nice: DRIVER_NICE, driver_cpus: DRIVER_CPUS ?? null, handover_us: HANDOVER_US ?? null,
  wall_s: +wall.toFixed(3),
  prompt_tokens_per_stream: promptTokens.sort((a, b) => a - b)[promptTokens.length >> 1],
  generated_tokens: gen, streamed_tokens: streamedTokens,
  http_tok_per_s: +(streamedTokens / wall).toFixed(1),
  engine_steps: steps, engine_busy_s: +busy.toFixed(3),
  engine_ms_per_step: +(1000 * busy / steps).toFixed(2),
  // Below STREAMS: the streams did not all run together (ramp-up, or preemption).
  tokens_per_step: +(gen / steps).toFixed(1),
  io_thread_cpu_s: +ioCpu.toFixed(4),
  io_us_per_token: +(1e6 * ioCpu / gen).toFixed(1),
  engine_us_per_token: +(1e6 * busy / gen).toFixed(1),
  // The steady window (every stream decoding; null if the first stream ended before the last began).
  steady_steps: steady?.steps ?? null,
  steady_engine_ms_per_step: steady ? +steady.ms_per_step.toFixed(3) : null,
  steady_engine_us_per_token: steady ? +steady.us_per_token.toFixed(2) : null,
  // Its two parts: forward passes, and the rest (sampling, handing tokens to the I/O threads).
  steady_forward_us_per_token: steady ? +steady.forward_us_per_token.toFixed(2) : null,
  steady_rest_us_per_token: steady ? +steady.rest_us_per_token.toFixed(2) : null,
  steady_io_cpu_share_pct: steady ? +steady.io_cpu_share_pct.toFixed(2) : null,
  server_overhead_pct: +(100 * ioCpu / busy).toFixed(2),
  // The engine's threads runnable but waiting for a CPU, summed over them, against the engine's
  // busy time: an upper bound of how much everything else on the machine (the I/O thread, the
  // driver, the kernel) delayed decoding. The CPU share above counts every cycle of the I/O
  // thread as taken from decoding; cycles it ran on a CPU the engine left idle (during sampling
  // the compute workers wait for the engine thread) cost decoding nothing.
  engine_threads_cpu_s: +eng.run_s.toFixed(3), engine_threads_wait_s: +eng.wait_s.toFixed(4),
  engine_wait_pct: +(100 * eng.wait_s / busy).toFixed(2),
  // Voluntary: the I/O threads went to sleep (one wake-up each); preempted: they were runnable
  // and lost the CPU; and how long they waited runnable, per token (a token's latency tail).
  io_sleeps_per_token: +(ioSw.voluntary / gen).toFixed(3),
  io_preemptions_per_token: +(ioSw.preempted / gen).toFixed(3),
  io_runqueue_wait_us_per_token: +(ioSw.wait_ns / 1e3 / gen).toFixed(2),
  token_to_socket_p50_le_s: p50.le, token_to_socket_p99_le_s: p99.le, latency_samples: p99.total,
  token_to_socket_within_1ms_pct: +(100 * histQuantileShare(m0, m1, "agentserve_token_to_socket_seconds", 0.001)).toFixed(2),
  // The send call itself (after the latency above ends): on loopback the client's receive, and
  // any time the client it woke ran first on this CPU.
  send_p99_le_s: sendP99.le,
  ttft_ms_p50: +ttfts[Math.floor(ttfts.length / 2)].toFixed(1), ttft_ms_max: +ttfts.at(-1).toFixed(1),
  driver_cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  idle_streams: IDLE, idle_streams_queued: idle.queued,
  rss_kb_before_idle: idle.before, rss_kb_with_idle: idle.after,
  kb_per_idle_stream: IDLE > 0 ? +((idle.after - idle.before) / IDLE).toFixed(1) : null,
};
console.log(JSON.stringify(result, null, 1));
process.exit(0);
