// What the HTTP server costs decoding: the same batch (N streams × T tokens, stop tokens
// ignored) decoded over HTTP (bench/http_load.mjs: N streamed chat completions, a Node client
// on the same machine) and with no server (`agentserve bench-batch`: the engine alone, as serve
// runs it, nothing reading tokens until the end), in alternating rounds (ABBA order, so a drift
// of the machine's speed during a round hits both sides alike). Per round it reports the
// engine's time per token both ways over the steady window (every stream decoding) and their
// ratio; the median ratio over the rounds is the figure. http_load's own proxy (I/O thread CPU
// ÷ engine busy time) is printed beside it.
//
//   node bench/http_overhead.mjs --bin build/agentserve --model DIR [--rounds 6] [--streams 64]
//                                [--tokens 512] [--temperature 0] [--threads 0] [--http-threads N]
//                                [--taskset 0,1] [--server-cpus 0-11 --client-cpus 12-15]
//                                [--handover-us N]
//
// --taskset CPUS runs both sides (server, client and reference) on those CPUs only: on a larger
// machine it stands in for a small one. --server-cpus and --client-cpus separate them: the server
// and the reference on one set, the load driver on the other, so that the figure is the server's
// cost alone, without the client's share of the CPUs (a client on another host, as far as CPUs
// go; caches and memory are still shared).

import { execFileSync } from "node:child_process";
import { parseArgs } from "./lib/server.mjs";

const args = parseArgs();
const BIN = args.bin ?? "build/agentserve";
const MODEL = args.model;
if (!MODEL) throw new Error("--model DIR is required");
const ROUNDS = Number(args.rounds ?? 6);
const STREAMS = Number(args.streams ?? 64);
const TOKENS = Number(args.tokens ?? 512);
const TEMPERATURE = String(args.temperature ?? 0);
const THREADS = String(args.threads ?? 0);
// --http-threads N: the served side's compute threads, when they differ from the reference's
// (a CPU left to the I/O thread and the client against the engine on every CPU).
const HTTP_THREADS = String(args["http-threads"] ?? THREADS);
const SERVER_CPUS = args["server-cpus"];
const CLIENT_CPUS = args["client-cpus"];
if (Boolean(SERVER_CPUS) !== Boolean(CLIENT_CPUS)) throw new Error("--server-cpus and --client-cpus go together");
if (SERVER_CPUS && args.taskset) throw new Error("--taskset or --server-cpus/--client-cpus, not both");
const TASKSET = args.taskset ?? SERVER_CPUS;
// As http_load sizes the server's KV pool: every stream whole.
const CTX = String(Math.max(40960, STREAMS * (TOKENS + 64)));

function run(cmd, cmdArgs) {
  const [file, argv] = TASKSET ? ["taskset", ["-c", TASKSET, cmd, ...cmdArgs]] : [cmd, cmdArgs];
  const out = execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 24 });
  return JSON.parse(out.slice(out.indexOf("{")));
}

const http = () => run(process.execPath, [new URL("./http_load.mjs", import.meta.url).pathname,
  "--bin", BIN, "--model", MODEL, "--streams", String(STREAMS), "--tokens", String(TOKENS),
  "--idle", "0", "--temperature", TEMPERATURE, "--threads", HTTP_THREADS,
  ...(CLIENT_CPUS ? ["--driver-cpus", CLIENT_CPUS] : []),
  ...(args["handover-us"] ? ["--handover-us", args["handover-us"]] : [])]);
let promptTokens = 0;
const reference = () => run(BIN, ["bench-batch", "--model", MODEL, "--streams", String(STREAMS),
  "--tokens", String(TOKENS), "--prompt-tokens", String(promptTokens), "--temperature", TEMPERATURE,
  "--threads", THREADS, "--ctx", CTX, "--kv-cache-disk", "0"]);

const rounds = [];
for (let r = 0; r < ROUNDS; ++r) {
  let h, ref;
  if (r % 2 === 0 || promptTokens === 0) {
    h = http();
    promptTokens = h.prompt_tokens_per_stream;
    ref = reference();
  } else {
    ref = reference();
    h = http();
  }
  // The steady windows (every stream decoding) are the figure; the whole runs also count the
  // ramp at the start and end, where HTTP's requests reach the engine over a few steps.
  const pct = (a, b) => +(100 * (a / b - 1)).toFixed(2);
  const row = {
    round: r + 1,
    http_steady_us_per_token: h.steady_engine_us_per_token,
    reference_steady_us_per_token: ref.steady_engine_us_per_token,
    steady_slowdown_pct: pct(h.steady_engine_us_per_token, ref.steady_engine_us_per_token),
    // Where it went: the forward passes (all compute threads), and the rest of the step (the
    // engine thread alone: sampling, and over HTTP the tokens' hand-over to the I/O threads).
    steady_forward_slowdown_pct: pct(h.steady_forward_us_per_token, ref.steady_forward_us_per_token),
    http_steady_rest_us_per_token: h.steady_rest_us_per_token,
    reference_steady_rest_us_per_token: ref.steady_rest_us_per_token,
    steady_rest_slowdown_pct: pct(h.steady_rest_us_per_token, ref.steady_rest_us_per_token),
    http_steady_steps: h.steady_steps, reference_steady_steps: ref.steady_steps,
    whole_run_slowdown_pct: pct(h.engine_us_per_token, ref.engine_us_per_token),
    http_tokens_per_step: h.tokens_per_step, reference_tokens_per_step: ref.tokens_per_step,
    io_us_per_token: h.io_us_per_token, steady_io_cpu_share_pct: h.steady_io_cpu_share_pct,
    token_to_socket_p99_le_s: h.token_to_socket_p99_le_s,
    token_to_socket_within_1ms_pct: h.token_to_socket_within_1ms_pct,
  };
  rounds.push(row);
  console.error(JSON.stringify(row));
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(JSON.stringify({
  streams: STREAMS, tokens_per_stream: TOKENS, temperature: Number(TEMPERATURE), threads: THREADS, http_threads: HTTP_THREADS,
  handover_us: args["handover-us"] ?? null, taskset: args.taskset ?? null, server_cpus: SERVER_CPUS ?? null, client_cpus: CLIENT_CPUS ?? null, prompt_tokens: promptTokens, rounds: ROUNDS,
  steady_slowdown_pct_median: median(rounds.map((r) => r.steady_slowdown_pct)),
  steady_slowdown_pct_min: Math.min(...rounds.map((r) => r.steady_slowdown_pct)),
  steady_slowdown_pct_max: Math.max(...rounds.map((r) => r.steady_slowdown_pct)),
  steady_forward_slowdown_pct_median: median(rounds.map((r) => r.steady_forward_slowdown_pct)),
  steady_rest_slowdown_pct_median: median(rounds.map((r) => r.steady_rest_slowdown_pct)),
  whole_run_slowdown_pct_median: median(rounds.map((r) => r.whole_run_slowdown_pct)),
  steady_io_cpu_share_pct_median: median(rounds.map((r) => r.steady_io_cpu_share_pct)),
  per_round: rounds,
}, null, 1));
