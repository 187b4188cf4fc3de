// Browser clients (serve --cors-origin): the preflight a browser sends before a JSON POST with
// an API key, the headers that let the page read answers (streamed, errors, 401s), refusals of
// other origins, and no cross-origin access at all by default. Raw fetch with the headers a
// browser would send (Node enforces no CORS itself; what matters is what the server answers).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";

const PAGE = "http://localhost:3000";
let cors, plain;
before(async () => {
  [cors, plain] = await Promise.all([
    startServer({ model: "qwen3-tiny", args: ["--cors-origin", PAGE + "/", "--api-key", "k"] }),
    startServer({ model: "qwen3-tiny" }),
  ]);
});
after(async () => {
  await Promise.all([cors?.stop(), plain?.stop()]);
});

const preflight = (srv, origin, path = "/v1/messages") => fetch(`${srv.url}${path}`, {
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST",
             "access-control-request-headers": "content-type,x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access" },
});

test("the startup lines say which origins may call the API", () => {
  assert.match(cors.log(), /browsers\s+pages from http:\/\/localhost:3000\/ may call the API \(CORS\)/);
  assert.match(plain.log(), /browsers\s+no web page may call the API \(--cors-origin ORIGIN allows one\)/);
});

test("a preflight from an allowed origin is answered without the API key", async () => {
  const r = await preflight(cors, PAGE);
  assert.equal(r.status, 204);
  assert.equal(r.headers.get("access-control-allow-origin"), PAGE);
  assert.equal(r.headers.get("access-control-allow-headers"),
               "content-type,x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access");
  assert.match(r.headers.get("access-control-allow-methods"), /POST/);
  assert.equal(r.headers.get("access-control-max-age"), "600");
  assert.equal(r.headers.get("vary"), "Origin");
  assert.equal(await r.text(), "");
  // Any path may be asked about: only existing ones become a metrics label.
  assert.equal((await preflight(cors, PAGE, "/no/such/path-12345")).status, 204);
  const metrics = await (await fetch(`${cors.url}/metrics`, { headers: { "x-api-key": "k" } })).text();
  assert.match(metrics, /agentserve_requests_total\{endpoint="OPTIONS \/v1\/messages",status="204"\} \d+/);
  assert.match(metrics, /agentserve_requests_total\{endpoint="OPTIONS \(unrouted\)",status="204"\} \d+/);
  assert.doesNotMatch(metrics, /path-12345/);
});

test("a preflight from another origin is refused, and the log names the origin", async () => {
  const r = await preflight(cors, "http://evil.example");
  assert.equal(r.status, 403);
  assert.equal(r.headers.get("access-control-allow-origin"), null);
  const body = await r.json();
  assert.equal(body.error.type, "permission_error");
  assert.match(body.error.message, /origin http:\/\/evil\.example may not call this server from a browser/);
  await cors.waitForLog(/refused a browser request from origin http:\/\/evil\.example \(allow it with --cors-origin\)/);
});

test("answers to the page carry the CORS headers: JSON, streams and 401s", async () => {
  const body = JSON.stringify({ model: "claude-x", max_tokens: 3, messages: [{ role: "user", content: "hi" }] });
  const headers = { origin: PAGE, "content-type": "application/json", "anthropic-version": "2023-06-01" };
  const ok = await fetch(`${cors.url}/v1/messages`, { method: "POST", headers: { ...headers, "x-api-key": "k" }, body });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("access-control-allow-origin"), PAGE);
  assert.equal(ok.headers.get("access-control-expose-headers"), "request-id");
  assert.match(ok.headers.get("request-id"), /^req_/);
  assert.equal((await ok.json()).type, "message");
  const streamed = await fetch(`${cors.url}/v1/chat/completions`, {
    method: "POST", headers: { origin: PAGE, "content-type": "application/json", authorization: "Bearer k" },
    body: JSON.stringify({ max_tokens: 3, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(streamed.status, 200);
  assert.equal(streamed.headers.get("access-control-allow-origin"), PAGE);
  assert.match(await streamed.text(), /data: \[DONE\]/);
  const unauthorized = await fetch(`${cors.url}/v1/messages`, { method: "POST", headers, body });
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.headers.get("access-control-allow-origin"), PAGE, "the page can read why");
  const other = await fetch(`${cors.url}/v1/models`, { headers: { origin: "http://evil.example", "x-api-key": "k" } });
  assert.equal(other.status, 200);  // not a browser-enforced refusal: the page just cannot read it
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});

test("without --cors-origin no page may read an answer, and OPTIONS is no method", async () => {
  const r = await preflight(plain, PAGE);
  assert.equal(r.status, 405);
  assert.equal(r.headers.get("access-control-allow-origin"), null);
  const get = await fetch(`${plain.url}/v1/models`, { headers: { origin: PAGE } });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get("access-control-allow-origin"), null);
});
