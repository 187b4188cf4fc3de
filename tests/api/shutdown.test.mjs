// Stopping the server. SIGTERM (systemd, docker stop, Kubernetes) lets the requests in progress
// finish — streams to their end — within --shutdown-grace, refuses new connections, answers a
// new request on an open connection with 503, then exits 0; past the grace period, or on a
// second signal, it stops at once. SIGINT (Ctrl-C) stops at once.

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer, parseSse } from "./lib/server.mjs";

// A streamed chat completion of `maxTokens` tokens (stop tokens ignored); resolves with the raw
// SSE text once the server ends it (whole or cut), after calling onFirst at the first chunk.
function longStream(url, maxTokens, onFirst) {
  return new Promise((resolve, reject) => {
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ stream: true, stream_options: { include_usage: true }, max_tokens: maxTokens,
                             ignore_eos: true, temperature: 0, messages: [{ role: "user", content: "Tell me a long story." }] }),
    }).then(async (res) => {
      assert.equal(res.status, 200);
      const decoder = new TextDecoder();
      let text = "", first = true;
      try {
        for await (const chunk of res.body) {
          text += decoder.decode(chunk, { stream: true });
          if (first) { first = false; onFirst(); }
        }
      } catch { /* cut off: the text so far */ }
      resolve(text);
    }, reject);
  });
}

// A raw connection that has already been served one request (so the server's connection loop
// holds it), for sending another request on it later.
async function servedConnection(url) {
  const u = new URL(url);
  const sock = net.connect(Number(u.port), u.hostname);
  let data = "";
  sock.setEncoding("utf8");
  sock.on("data", (d) => { data += d; });
  const closed = new Promise((r) => sock.on("close", r));
  await new Promise((r) => sock.once("connect", r));
  sock.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  while (!/\r\n\r\n[\s\S]*\S/.test(data)) await new Promise((r) => setTimeout(r, 10));
  return {
    async request(raw) {
      data = "";
      sock.write(raw);
      await closed;  // the server answers and closes
      return data;
    },
  };
}

function refused(url) {
  return fetch(`${url}/health`).then(() => false, (e) => /ECONNREFUSED/.test(String(e.cause?.code ?? e.cause ?? e)));
}

test("SIGTERM: the stream in progress finishes, new requests are refused, then the server exits 0", async () => {
  const srv = await startServer({ model: "qwen3-tiny", args: ["--ctx", "8192", "--no-prefix-cache"] });
  try {
    const conn = await servedConnection(srv.url);
    let signalled;
    const sent = new Promise((r) => { signalled = r; });
    const stream = longStream(srv.url, 2000, () => { srv.proc.kill("SIGTERM"); signalled(); });
    await sent;
    await srv.waitForLog(/SIGTERM: finishing 1 request\(s\) in progress, for at most 30 s/);
    // New connections: refused (the listening socket is closed).
    assert.ok(await refused(srv.url), "a new connection was accepted while shutting down");
    // A new request on a connection opened before: 503 in the API's shape, and the connection closes.
    const answer = await conn.request("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.match(answer, /"code":"server_shutting_down"/);
    // The stream goes on to its end.
    const frames = parseSse(await stream);
    assert.equal(frames.at(-1).data, "[DONE]");
    const usage = frames.map((f) => f.data).find((d) => d?.usage)?.usage;
    assert.equal(usage.completion_tokens, 2000);
    const { code } = await srv.exited;
    assert.equal(code, 0);
    assert.match(srv.log(), /every request in progress finished: shutting down/);
  } finally {
    await srv.stop();
  }
});

test("SIGTERM: past --shutdown-grace the server stops and cuts the stream", async () => {
  const srv = await startServer({ model: "qwen3-tiny", args: ["--ctx", "40000", "--no-prefix-cache", "--shutdown-grace", "1"] });
  try {
    let t0;
    const stream = longStream(srv.url, 39000, () => { t0 = Date.now(); srv.proc.kill("SIGTERM"); });
    const text = await stream;
    const { code } = await srv.exited;
    const took = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(!text.includes("[DONE]"), "the stream was not cut");
    assert.ok(took >= 900 && took < 8000, `exited ${took} ms after SIGTERM`);
    assert.match(srv.log(), /shutdown grace period of 1 s over: 1 request\(s\) in progress cut off/);
  } finally {
    await srv.stop();
  }
});

for (const [name, signals] of [["a second SIGTERM", ["SIGTERM", "SIGTERM"]], ["SIGINT", ["SIGINT"]]]) {
  test(`${name} stops at once, cutting the stream in progress`, async () => {
    const srv = await startServer({ model: "qwen3-tiny", args: ["--ctx", "40000", "--no-prefix-cache"] });
    try {
      let t0;
      const stream = longStream(srv.url, 39000, async () => {
        t0 = Date.now();
        for (const s of signals) {
          srv.proc.kill(s);
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      const text = await stream;
      const { code } = await srv.exited;
      assert.equal(code, 0);
      assert.ok(Date.now() - t0 < 10000);
      assert.ok(!text.includes("[DONE]"));
      assert.match(srv.log(), /shutting down now; 1 request\(s\) in progress cut off/);
    } finally {
      await srv.stop();
    }
  });
}

test("SIGTERM with nothing in progress exits at once", async () => {
  const srv = await startServer({ model: "qwen3-tiny", args: ["--no-prefix-cache"] });
  try {
    await fetch(`${srv.url}/health`);
    const t0 = Date.now();
    srv.proc.kill("SIGTERM");
    const { code } = await srv.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.match(srv.log(), /signal 15: shutting down/);
  } finally {
    await srv.stop();
  }
});
