// Out of file descriptors (clients holding every connection the process may open), the server
// must not spin: it says so once, waits, and accepts again when connections close. Run under a
// hard limit of 64 descriptors (`ulimit -n 64` in the shell that starts it), which the server
// cannot raise.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { BIN, testModel } from "./lib/server.mjs";

let proc, url, log = "";
before(async () => {
  const cmd = `ulimit -n 64 && exec "$0" serve --model "$1" --port 0 --kv-cache-disk 0`;
  proc = spawn("sh", ["-c", cmd, BIN, testModel("qwen3-tiny")], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60000);
    proc.stderr.on("data", () => {
      const m = log.match(/is serving \S+ on (http:\/\/[\d.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
});
after(() => { proc?.kill("SIGKILL"); });

// CPU seconds the server used so far (utime + stime from /proc, in clock ticks of 1/100 s).
function cpuSeconds() {
  const fields = fs.readFileSync(`/proc/${proc.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test("with every descriptor taken the server waits instead of spinning, then serves again", async () => {
  const port = Number(new URL(url).port);
  const socks = [];
  for (let i = 0; i < 100; ++i) {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => {});
    socks.push(s);
  }
  const deadline = Date.now() + 20000;
  while (!/cannot accept connections: out of file descriptors/.test(log)) {
    assert.ok(Date.now() < deadline, `no warning about descriptors:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(log, /the limit is 64 per process/);
  const cpu0 = cpuSeconds();
  await new Promise((r) => setTimeout(r, 1500));
  const used = cpuSeconds() - cpu0;
  assert.ok(used < 0.3, `the server used ${used} s of CPU in 1.5 s while out of descriptors`);
  for (const s of socks) s.destroy();
  // Served again once the connections are gone.
  let ok = false;
  for (let i = 0; i < 50 && !ok; ++i) {
    await new Promise((r) => setTimeout(r, 100));
    ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
  }
  assert.ok(ok, "the server answers /health again");
  assert.equal(log.match(/cannot accept connections/g).length, 1, "said once per episode");
});
