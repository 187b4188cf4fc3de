// The routes that belong to no single API (health, HEAD /, metrics, models) and the HTTP layer's
// own guarantees: body limit, unknown paths and methods, auth, garbage on the socket, many
// connections at once. A real `agentserve serve` on the tiny Qwen3 test model.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { startServer } from "./lib/server.mjs";

let srv, authed;
before(async () => {
  [srv, authed] = await Promise.all([
    startServer({ model: "qwen3-tiny", args: ["--max-body-mb", "1", "--alias", "my-coder=api-qwen3-tiny"] }),
    startServer({ model: "qwen3-tiny", args: ["--api-key", "sekrit"] }),
  ]);
});
after(async () => {
  await Promise.all([srv?.stop(), authed?.stop()]);
});

// Prometheus text → {name{labels}: value}.
function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/);
    assert.ok(m, `malformed metrics line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

test("startup lines tell how to point Claude Code and OpenAI clients at the server", () => {
  assert.match(srv.log(), /ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:\d+ /);
  assert.match(srv.log(), /OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v1/);
  assert.match(srv.log(), /context \d+ tokens/);
});

test("GET /health and HEAD /", async () => {
  const h = await fetch(`${srv.url}/health`);
  assert.equal(h.status, 200);
  assert.equal((await h.json()).status, "ok");
  const head = await fetch(`${srv.url}/`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.ok(head.headers.get("request-id")?.startsWith("req_"));
});

// The SDKs normalise a trailing slash in their base URL; hand-written clients often join
// `${base}/chat/completions` onto "http://host:8080/v1/".
test("doubled slashes (a base URL set with a trailing slash) name the same endpoint", async () => {
  const r = await fetch(`${srv.url}//v1//chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ max_tokens: 2, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).object, "chat.completion");
  assert.equal((await fetch(`${srv.url}/v1//models`)).status, 200);
});

test("HEAD is GET without the body on every GET route (health checks: wget --spider, curl -I)", async () => {
  for (const path of ["/health", "/v1/models", "/metrics"]) {
    const head = await fetch(`${srv.url}${path}`, { method: "HEAD" });
    assert.equal(head.status, 200, path);
    assert.equal(await head.text(), "", path);
    if (path !== "/metrics") {  // metrics move between the two requests
      const body = await (await fetch(`${srv.url}${path}`)).text();
      assert.equal(Number(head.headers.get("content-length")), Buffer.byteLength(body), path);
    }
  }
  assert.equal((await fetch(`${srv.url}/v1/chat/completions`, { method: "HEAD" })).status, 405);
  assert.equal((await fetch(`${srv.url}/v1/nothing`, { method: "HEAD" })).status, 404);
  // The API key guards HEAD as it guards GET; /health stays open.
  assert.equal((await fetch(`${authed.url}/health`, { method: "HEAD" })).status, 200);
  assert.equal((await fetch(`${authed.url}/v1/models`, { method: "HEAD" })).status, 401);
});

test("GET /v1/models in OpenAI shape, and in Anthropic shape with anthropic-version", async () => {
  const o = await (await fetch(`${srv.url}/v1/models`)).json();
  assert.equal(o.object, "list");
  assert.deepEqual(o.data.map((m) => m.id), ["api-qwen3-tiny", "my-coder"]);
  assert.equal(o.data[0].object, "model");
  assert.equal(typeof o.data[0].created, "number");
  const a = await (await fetch(`${srv.url}/v1/models`, { headers: { "anthropic-version": "2023-06-01" } })).json();
  assert.equal(a.data[0].type, "model");
  assert.match(a.data[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(a.first_id, "api-qwen3-tiny");
  assert.equal(a.last_id, "my-coder");
  assert.equal(a.has_more, false);
  // The context clients may fill: the one the startup line announces, in both shapes.
  const context = Number(srv.log().match(/context (\d+) tokens/)[1]);
  assert.ok(context > 0);
  assert.equal(o.data[0].max_model_len, context);
  assert.equal(o.data[0].owned_by, "agentserve");
  assert.equal(a.data[0].max_input_tokens, context);
  assert.equal(a.data[0].display_name, "api-qwen3-tiny");
  const one = await (await fetch(`${srv.url}/v1/models/my-coder`)).json();
  assert.equal(one.id, "my-coder");
  const missing = await fetch(`${srv.url}/v1/models/gpt-9`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "model_not_found");
  const missingA = await fetch(`${srv.url}/v1/models/gpt-9`, { headers: { "anthropic-version": "2023-06-01" } });
  const body = await missingA.json();
  assert.equal(body.type, "error");
  assert.equal(body.error.type, "not_found_error");
});

test("Anthropic's model list pages: limit, after_id, before_id, and the SDK's auto-pagination", async () => {
  const page = async (query) => {
    const r = await fetch(`${srv.url}/v1/models?${query}`, { headers: { "anthropic-version": "2023-06-01" } });
    return { status: r.status, body: await r.json() };
  };
  const first = await page("limit=1");
  assert.deepEqual(first.body.data.map((m) => m.id), ["api-qwen3-tiny"]);
  assert.equal(first.body.has_more, true);
  assert.equal(first.body.first_id, "api-qwen3-tiny");
  assert.equal(first.body.last_id, "api-qwen3-tiny");
  const second = await page("limit=1&after_id=api-qwen3-tiny");
  assert.deepEqual(second.body.data.map((m) => m.id), ["my-coder"]);
  assert.equal(second.body.has_more, false);
  const backwards = await page("limit=1&before_id=my-coder");
  assert.deepEqual(backwards.body.data.map((m) => m.id), ["api-qwen3-tiny"]);
  assert.equal(backwards.body.has_more, false);
  const past = await page("after_id=my-coder");
  assert.deepEqual(past.body, { data: [], first_id: null, has_more: false, last_id: null });
  for (const bad of ["limit=0", "limit=1001", "limit=two", "after_id=gpt-9"]) {
    const r = await page(bad);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.error.type, "invalid_request_error");
    assert.match(r.body.error.message, /limit must be an integer from 1 to 1000|after_id "gpt-9" is not a model served here/);
  }
  // The SDK follows has_more / last_id page by page.
  const client = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
  const ids = [];
  for await (const m of client.models.list({ limit: 1 })) ids.push(m.id);
  assert.deepEqual(ids, ["api-qwen3-tiny", "my-coder"]);
  assert.equal((await client.models.retrieve("my-coder")).id, "my-coder");
});

test("unknown paths get 404 and wrong methods 405, in the API's error shape", async () => {
  const r = await fetch(`${srv.url}/v2/nothing`, { method: "POST", body: "{}" });
  assert.equal(r.status, 404);
  assert.match((await r.json()).error.message, /no such endpoint: POST \/v2\/nothing/);
  const m = await fetch(`${srv.url}/v1/models`, { method: "DELETE" });
  assert.equal(m.status, 405);
  const a = await fetch(`${srv.url}/v1/messages`, { method: "GET" });
  assert.equal(a.status, 405);
  const ab = await a.json();
  assert.equal(ab.type, "error");
  assert.ok(ab.request_id.startsWith("req_"));
});

test("a body over the limit is refused with 413 naming the limit", async () => {
  const big = JSON.stringify({ model: "x", messages: [{ role: "user", content: "a".repeat(1_200_000) }] });
  for (const [path, anthropic] of [["/v1/chat/completions", false], ["/v1/messages", true]]) {
    const r = await fetch(`${srv.url}${path}`, { method: "POST", body: big, headers: { "content-type": "application/json" } });
    assert.equal(r.status, 413);
    const b = await r.json();
    const msg = anthropic ? b.error.message : b.error.message;
    assert.match(msg, /larger than the limit of 1048576 bytes/);
    if (anthropic) assert.equal(b.error.type, "request_too_large");
  }
  assert.equal((await fetch(`${srv.url}/health`)).status, 200);
});

test("with --api-key: 401 in each API's shape without the key; x-api-key or Bearer pass; /health stays open", async () => {
  const none = await fetch(`${authed.url}/v1/models`);
  assert.equal(none.status, 401);
  assert.ok((await none.json()).error.message.includes("API key"));
  const noneA = await fetch(`${authed.url}/v1/messages`, { method: "POST", body: "{}", headers: { "anthropic-version": "2023-06-01" } });
  assert.equal(noneA.status, 401);
  assert.equal((await noneA.json()).error.type, "authentication_error");
  const wrong = await fetch(`${authed.url}/v1/models`, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  assert.equal((await fetch(`${authed.url}/v1/models`, { headers: { authorization: "Bearer sekrit" } })).status, 200);
  assert.equal((await fetch(`${authed.url}/v1/models`, { headers: { "x-api-key": "sekrit" } })).status, 200);
  assert.equal((await fetch(`${authed.url}/health`)).status, 200);
});

test("garbage and half requests on the socket never take the server down", async () => {
  const junk = [
    "GARBAGE\r\n\r\n",
    "POST /v1/messages HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"a\"",  // then hang up
    "\x00\x01\x02\xff\xfe",
  ];
  await Promise.all(junk.map((payload) => new Promise((resolve) => {
    const s = net.connect(new URL(srv.url).port, "127.0.0.1", () => {
      s.write(payload, "latin1");
      setTimeout(() => s.destroy(), 100);
    });
    s.on("error", () => {});
    s.on("close", resolve);
  })));
  assert.equal((await fetch(`${srv.url}/health`)).status, 200);
});

// Raw HTTP/1.1 on a socket: sends `head`, collects what the server writes; `onData(text, s)`
// may write more (the body). Resolves with everything received when the server closes or after
// `ms`.
function rawExchange(head, onData = () => {}, ms = 3000) {
  return new Promise((resolve, reject) => {
    let got = "";
    const s = net.connect(new URL(srv.url).port, "127.0.0.1", () => s.write(head));
    const timer = setTimeout(() => { s.destroy(); resolve(got); }, ms);
    s.on("data", (d) => { got += d.toString("latin1"); onData(got, s); });
    s.on("error", reject);
    s.on("close", () => { clearTimeout(timer); resolve(got); });
  });
}

test("Expect: 100-continue is answered before the body is sent; a body over the limit is refused unsent", async () => {
  const body = JSON.stringify({ max_tokens: 2, messages: [{ role: "user", content: "hello" }] });
  const t0 = Date.now();
  let sent = false;
  const got = await rawExchange(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    (text, s) => {
      if (!sent && text.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) { sent = true; s.write(body); }
    });
  assert.ok(sent, `no 100 Continue before the body: ${got.slice(0, 80)}`);
  assert.match(got.slice("HTTP/1.1 100 Continue\r\n\r\n".length), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(got, /"object":"chat.completion"/);
  assert.ok(Date.now() - t0 < 900, "answered without the client's one-second wait");
  // Over the 1 MiB limit of this server: 413 from the headers alone, the body never asked for.
  const refused = await rawExchange(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n`);
  assert.doesNotMatch(refused, /100 Continue/);
  assert.match(refused, /^HTTP\/1\.1 413 /);
  assert.match(refused, /larger than the limit of 1048576 bytes/);
});

test("200 connections at once are all answered", async () => {
  const rs = await Promise.all(Array.from({ length: 200 }, () => fetch(`${srv.url}/v1/models`).then((r) => r.status)));
  assert.deepEqual(new Set(rs), new Set([200]));
});

test("GET /metrics is Prometheus text with requests, tokens, latency histograms, queue and KV gauges", async () => {
  await fetch(`${srv.url}/health`);
  const r = await fetch(`${srv.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/plain/);
  const m = parseMetrics(await r.text());
  assert.ok(m.get('agentserve_requests_total{endpoint="GET /health",status="200"}') >= 1);
  assert.ok(m.get('agentserve_requests_total{endpoint="POST (unrouted)",status="413"}') >= 1 ||
            [...m.keys()].some((k) => k.includes('status="413"')));
  for (const name of ["agentserve_prompt_tokens_total", "agentserve_generated_tokens_total",
    "agentserve_cached_prompt_tokens_total", "agentserve_queue_depth", "agentserve_kv_pages_used",
    "agentserve_kv_pages_total", "agentserve_time_to_first_token_seconds_count",
    "agentserve_inter_token_latency_seconds_count", "agentserve_token_to_socket_seconds_count",
    "agentserve_socket_send_seconds_count",
    "agentserve_queue_seconds_count", "agentserve_prefill_seconds_count"]) {
    assert.ok(m.has(name), `missing ${name}`);
  }
  assert.ok(m.get("agentserve_kv_pages_total") > 0);
  // The engine's busy time and its forward passes' part (earlier tests generated tokens).
  const busy = m.get("agentserve_engine_busy_seconds_total"), forward = m.get("agentserve_engine_forward_seconds_total");
  assert.ok(busy > 0 && forward > 0 && forward < busy, `busy ${busy}, forward ${forward}`);
  assert.equal(m.get('agentserve_time_to_first_token_seconds_bucket{le="+Inf"}'),
               m.get("agentserve_time_to_first_token_seconds_count"));
});
