// Shared helpers of the Node benchmark drivers (bench/http_load.mjs, bench/session_replay.mjs):
// argument parsing, starting and stopping `agentserve serve`, raw HTTP posts and /metrics.

import { spawn, execFileSync } from "node:child_process";
import http from "node:http";

// "--key value" and bare "--flag" (→ "1") into an object.
export function parseArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(argv.reduce((acc, a, i, all) => {
    if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1]?.startsWith("--") || all[i + 1] === undefined ? "1" : all[i + 1]]);
    return acc;
  }, []));
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// Starts `BIN serve --model MODEL --port 0 ...extra`; resolves { proc, url, log() } once it serves.
export function startServer(bin, model, extra = [], { onLog } = {}) {
  const proc = spawn(bin, ["serve", "--model", model, "--port", "0", ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    let served = false;
    proc.stderr.on("data", (d) => {
      log += d;
      onLog?.(String(d));
      const m = !served && log.match(/is serving \S+ on (http:\/\/[\d.]+:\d+)/);
      if (m) { served = true; resolve({ proc, url: m[1], log: () => log }); }
    });
    proc.on("exit", (c, sig) => { if (!served) reject(new Error(`server exited ${c ?? sig}: ${log}`)); });
  });
}

// Sends `signal` and waits for the process to exit (SIGKILL after `graceMs`).
export function stopServer(srv, signal = "SIGTERM", graceMs = 10000) {
  if (srv.proc.exitCode !== null || srv.proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => srv.proc.kill("SIGKILL"), graceMs);
    srv.proc.once("exit", (code, sig) => { clearTimeout(t); resolve({ code, sig }); });
    srv.proc.kill(signal);
  });
}

// Does `BIN serve --help` list `flag`?
export function serveSupports(bin, flag) {
  const help = execFileSync(bin, ["serve", "--help"], { encoding: "utf8" });
  return help.includes(flag);
}

// POST JSON; onData(chunk) for each received chunk; resolves with { status, body } (body is the
// text when onData is not given).
export function post(url, body, onData, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: "POST", agent,
      headers: { "content-type": "application/json", ...headers } }, (res) => {
      res.setEncoding("utf8");
      if (res.statusCode !== 200) {
        let err = "";
        res.on("data", (d) => { err += d; });
        res.on("end", () => reject(new Error(`HTTP ${res.statusCode}: ${err}`)));
        return;
      }
      let text = "";
      res.on("data", (d) => (onData ? onData(d) : (text += d)));
      res.on("end", () => resolve({ status: res.statusCode, body: text }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

// /metrics as a Map of "name{labels}" → number.
export async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new Map();
  for (const line of text.split("\n")) {
    const r = line.match(/^(\S+) (\S+)$/);
    if (r && !line.startsWith("#")) m.set(r[1], Number(r[2]));
  }
  return m;
}
