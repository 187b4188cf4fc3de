// A client that stops reading mid-stream (a paused terminal, a slow link): the server's direct
// sends find the socket buffer full, output waits in the server, other requests go on, and when
// the client reads again it gets the whole stream, byte-exact. Counted in /metrics as
// agentserve_stream_stalls_total, which also proves the buffer really filled.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startServer } from "./lib/server.mjs";

// Enough SSE to fill the kernel's socket buffers, which on loopback grow to ~4 MB for the
// sender and a few hundred KB for the receiver: 16 choices (n = 16) of 2,000 scripted tokens,
// ~6.7 MB in ~210-byte frames, in 2,000 engine steps of the tiny model.
const WORDS = Array.from({ length: 1500 }, (_, i) => `w${i}`).join(" ");
const N = 16;
const MAX_TOKENS = 2000;

const script = { rules: [{ when: ["LONG-MARKER"], output: WORDS }] };
let srv, strict;
before(async () => {
  srv = await startServer({ model: "qwen3-tiny", args: ["--ctx", "40000"], testScript: script });
  // A server that holds at most 1 MiB of unsent output per stream.
  strict = await startServer({ model: "qwen3-tiny", args: ["--ctx", "40000", "--stream-buffer-mb", "1"], testScript: script });
});
after(async () => {
  await srv?.stop();
  await strict?.stop();
});

async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)$`, "m"))[1]);
}
const stalls = () => metric(srv, "agentserve_stream_stalls_total");

const body = () => JSON.stringify({ model: srv.modelId, stream: true, n: N, max_tokens: MAX_TOKENS, temperature: 0,
                                    messages: [{ role: "user", content: "Please say LONG-MARKER." }] });

// Opens the stream; returns { res, done } where done resolves with the raw SSE text once read
// (and rejects if the connection breaks first).
function openStream(server = srv) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${server.url}/v1/chat/completions`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST",
                               headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      const done = new Promise((ok, fail) => {
        res.on("data", (d) => { text += d; });
        res.on("end", () => ok(text));
        res.on("error", fail);
        res.on("aborted", () => fail(new Error("aborted")));
      });
      resolve({ res, done });
    });
    req.on("error", reject);
    req.end(body());
  });
}

// Each choice's text and finish reason from the raw SSE, every frame checked to parse.
function choices(sse) {
  const frames = sse.split("\n\n").filter((f) => f.length > 0);
  assert.equal(frames.at(-1), "data: [DONE]", "the stream ends with [DONE]");
  const out = Array.from({ length: N }, () => ({ text: "", finish: null }));
  for (const f of frames.slice(0, -1)) {
    assert.match(f, /^data: \{/, `every frame is a data frame: ${f.slice(0, 80)}`);
    const c = JSON.parse(f.slice(6));  // a frame cut or merged by the stall would not parse
    for (const ch of c.choices) {
      out[ch.index].text += ch.delta.content ?? "";
      out[ch.index].finish = ch.finish_reason ?? out[ch.index].finish;
    }
  }
  return out;
}

test("a client that stops reading stalls only its own stream, and gets every byte once it reads", async () => {
  const before = await stalls();
  const { res, done } = await openStream();
  res.pause();  // stop reading: the socket buffers fill and the server's sends stall
  const deadline = Date.now() + 120000;
  while ((await stalls()) === before) {
    assert.ok(Date.now() < deadline, "the stream never found the client's socket full");
    await new Promise((r) => setTimeout(r, 50));
  }
  // While that client sleeps, the server answers others.
  const t0 = Date.now();
  const other = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ max_tokens: 4, messages: [{ role: "user", content: "hello" }] }),
  });
  assert.equal(other.status, 200);
  assert.equal((await other.json()).object, "chat.completion");
  assert.ok(Date.now() - t0 < 30000, "another request was answered while the stream was stalled");

  res.resume();
  const stalled = choices(await done);
  for (const c of stalled) {
    assert.equal(c.finish, "length");
    assert.ok(c.text.length > 1000 && WORDS.startsWith(c.text), "each choice is the scripted text, in order, cut at max_tokens");
    // Every choice said the same tokens: a frame lost or repeated in one would set it apart.
    assert.equal(c.text, stalled[0].text);
  }
});

test("a client that stays stuck past --stream-buffer-mb is cut off: generation cancelled, KV freed, server fine", async () => {
  const { res, done } = await openStream(strict);
  res.pause();
  const deadline = Date.now() + 120000;
  while (!/the client stopped reading; over 1 MiB of output unsent/.test(strict.log())) {
    assert.ok(Date.now() < deadline, "the stuck client was never cut off");
    await new Promise((r) => setTimeout(r, 50));
  }
  // Cancelled at the next step: no sequence runs, and no KV page is held but by the prefix
  // cache (pages in use minus cached pages).
  let running = -1, held = -1;
  for (let i = 0; i < 100 && (running !== 0 || held !== 0); ++i) {
    await new Promise((r) => setTimeout(r, 50));
    running = await metric(strict, "agentserve_running_sequences");
    held = await metric(strict, "agentserve_kv_pages_used") - await metric(strict, "agentserve_kv_pages_cached");
  }
  assert.equal(running, 0);
  assert.equal(held, 0);
  // The client, reading again, finds its stream cut short (no [DONE]).
  res.resume();
  const outcome = await done.then((text) => text, (e) => e);
  if (typeof outcome === "string") assert.ok(!outcome.includes("data: [DONE]"), "the stream was cut, not finished");
  else assert.match(String(outcome.message ?? outcome), /aborted|terminated|ECONNRESET|socket hang up/);
  // Other clients are served as before.
  const r = await fetch(`${strict.url}/v1/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ max_tokens: 4, messages: [{ role: "user", content: "hello" }] }),
  });
  assert.equal(r.status, 200);
});
