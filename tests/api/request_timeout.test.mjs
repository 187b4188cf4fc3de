// Clients that start a request and stall (or trickle it): from its first byte a request must
// arrive whole within --request-timeout (here 1 s), else 408 in the API's error shape and the
// connection is closed — while an idle keep-alive connection between requests is left alone.
// Raw sockets, since the point is what a well-behaved client never sends.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer } from "./lib/server.mjs";

let srv;
before(async () => {
  srv = await startServer({ model: "qwen3-tiny", args: ["--request-timeout", "1"] });
});
after(async () => {
  await srv?.stop();
});

// A socket to the server with what it has received so far and a promise of its close.
function openSocket() {
  const s = net.connect(new URL(srv.url).port, "127.0.0.1");
  const conn = { s, got: "", closedAt: null };
  conn.ready = new Promise((resolve, reject) => { s.once("connect", resolve); s.once("error", reject); });
  conn.closed = new Promise((resolve) => s.on("close", () => { conn.closedAt = Date.now(); resolve(); }));
  s.on("data", (d) => { conn.got += d.toString("latin1"); });
  s.on("error", () => {});
  return conn;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chatBody = JSON.stringify({ max_tokens: 2, messages: [{ role: "user", content: "hello" }] });

// The JSON body of a raw HTTP/1.1 response (Content-Length framed).
function jsonBody(raw) {
  return JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
}

test("a header that stops half way gets 408 in the OpenAI shape and the connection closes", async () => {
  const c = openSocket();
  await c.ready;
  const t0 = Date.now();
  c.s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Ty");
  await c.closed;
  const waited = c.closedAt - t0;
  assert.ok(waited >= 900 && waited < 4000, `closed after ${waited} ms`);
  assert.match(c.got, /^HTTP\/1\.1 408 /);
  const body = jsonBody(c.got);
  assert.equal(body.error.type, "invalid_request_error");
  assert.equal(body.error.code, "request_timeout");
  assert.match(body.error.message, /did not arrive whole within 1 s .*--request-timeout/);
  await srv.waitForLog(/\(header incomplete\): the request did not arrive whole within 1 s \(header incomplete\)/);
});

test("a body that stops short gets 408 in the Anthropic shape on /v1/messages", async () => {
  const c = openSocket();
  await c.ready;
  const body = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 2, messages: [{ role: "user", content: "hi" }] });
  c.s.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `anthropic-version: 2023-06-01\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await c.closed;
  assert.match(c.got, /^HTTP\/1\.1 408 /);
  const err = jsonBody(c.got);
  assert.equal(err.type, "error");
  assert.equal(err.error.type, "invalid_request_error");
  assert.match(err.error.message, /within 1 s/);
  assert.match(err.request_id, /^req_/);
  await srv.waitForLog(/POST \/v1\/messages: the request did not arrive whole within 1 s \(body incomplete\)/);
});

test("a request trickled in within the limit is answered", async () => {
  const c = openSocket();
  await c.ready;
  const whole = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
                `Content-Length: ${chatBody.length}\r\nConnection: close\r\n\r\n${chatBody}`;
  const pieces = 5;
  for (let i = 0; i < pieces; ++i) {
    c.s.write(whole.slice(Math.floor(i * whole.length / pieces), Math.floor((i + 1) * whole.length / pieces)));
    await sleep(120);  // 0.6 s in all
  }
  await c.closed;
  assert.match(c.got, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(c.got, /"object":"chat.completion"/);
});

test("an idle keep-alive connection outlives the timeout and serves its next request", async () => {
  const c = openSocket();
  await c.ready;
  const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
                  `Content-Length: ${chatBody.length}\r\n\r\n${chatBody}`;
  c.s.write(request);
  for (let i = 0; i < 100 && !c.got.includes('"object":"chat.completion"'); ++i) await sleep(20);
  assert.match(c.got, /^HTTP\/1\.1 200 OK\r\n/);
  await sleep(2500);  // idle, two and a half timeouts
  assert.equal(c.closedAt, null, "the server closed an idle keep-alive connection");
  const before = c.got.length;
  c.s.write(request);
  for (let i = 0; i < 100 && !c.got.slice(before).includes('"object":"chat.completion"'); ++i) await sleep(20);
  assert.match(c.got.slice(before), /^HTTP\/1\.1 200 OK\r\n/);
  c.s.destroy();
});

// All requests answered 408 so far, whatever their endpoint label.
async function count408() {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  return [...text.matchAll(/^agentserve_requests_total\{[^}]*status="408"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

test("other clients are served while stalled requests wait, and 408s are counted", async () => {
  const logBefore = srv.log().length;
  const counted = await count408();
  const stalled = Array.from({ length: 8 }, () => openSocket());
  await Promise.all(stalled.map((c) => c.ready));
  for (const c of stalled) c.s.write("GET /v1/mod");
  const r = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" }, body: chatBody,
  });
  assert.equal(r.status, 200);
  await Promise.all(stalled.map((c) => c.closed));
  for (const c of stalled) assert.match(c.got, /^HTTP\/1\.1 408 /);
  assert.equal(await count408() - counted, 8);
  // The eight 408s of one moment take at most a line a second in the log, not eight lines (the
  // next such line counts the ones left out).
  const lines = srv.log().slice(logBefore).split("\n").filter((l) => l.includes("did not arrive whole"));
  assert.ok(lines.length <= 2, lines.join("\n"));
});
