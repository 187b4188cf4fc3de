// A generation that fails inside the engine (a backend error), after some output or before any:
// each API answers in its own error shape — mid-stream as an Anthropic `event: error` or an
// OpenAI `data: {"error": ...}` frame that the official SDKs raise, before the headers as a
// 500/529 error body — frees what the request held and keeps serving. The failure is injected by
// `serve --test-script` ("fail"), which ends a scripted output the way a failed forward pass
// ends a request (engine FinishReason::kError), so everything after the engine is the real path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startServer, parseSse } from "./lib/server.mjs";

const PARTIAL = "Partial answer before the failure.";
const script = {
  rules: [
    { when: ["FAIL-MID"], output: PARTIAL, fail: "injected backend failure" },
    { when: ["FAIL-FIRST"], output: "", fail: "injected failure before any token" },
    // Out of memory on the device: Anthropic's 529 overloaded_error (clients retry it).
    { when: ["FAIL-OOM"], output: "", fail: "out of memory on the device" },
  ],
};

let srv, anthropic, openai;
before(async () => {
  srv = await startServer({ model: "qwen3-tiny", testScript: script });
  anthropic = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "dummy", maxRetries: 0 });
});
after(async () => {
  await srv?.stop();
});

const user = (content) => [{ role: "user", content }];

async function post(path, body) {
  const res = await fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function metric(name) {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)$`, "m"))[1]);
}

// Nothing runs and no KV page is held but by the prefix cache.
async function assertNothingHeld() {
  let running = -1, held = -1;
  for (let i = 0; i < 100 && (running !== 0 || held !== 0); ++i) {
    running = await metric("agentserve_running_sequences");
    held = await metric("agentserve_kv_pages_used") - await metric("agentserve_kv_pages_cached");
    if (running !== 0 || held !== 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(running, 0, "no sequence still running");
  assert.equal(held, 0, "no KV page held outside the prefix cache");
}

test("Anthropic stream: the text so far, then event: error, and no message_stop", async () => {
  const r = await post("/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 64, stream: true,
                                         messages: user("Please FAIL-MID now.") });
  assert.equal(r.status, 200);
  const frames = parseSse(r.text).filter((f) => !f.comment);
  const types = frames.map((f) => f.event);
  assert.equal(types[0], "message_start");
  const text = frames.filter((f) => f.data?.delta?.type === "text_delta").map((f) => f.data.delta.text).join("");
  assert.equal(text, PARTIAL, "every token before the failure reached the client");
  const last = frames.at(-1);
  assert.equal(last.event, "error");
  assert.deepEqual(last.data, { type: "error", error: { type: "api_error", message: "generation failed: injected backend failure" } });
  assert.ok(!types.includes("message_stop") && !types.includes("message_delta"), "the stream ends with the error");
  await assertNothingHeld();
});

test("Anthropic SDK: a mid-stream failure is raised as an API error after the text it received", async () => {
  let received = "";
  const stream = anthropic.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 64, messages: user("Please FAIL-MID now.") });
  stream.on("text", (t) => { received += t; });
  await assert.rejects(stream.finalMessage(), (e) => {
    assert.match(String(e.message), /injected backend failure/);
    return true;
  });
  assert.equal(received, PARTIAL);
});

test("Anthropic non-streamed: 500 api_error (529 overloaded_error when out of memory), with a request-id", async () => {
  const r = await post("/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 64, messages: user("Please FAIL-MID now.") });
  assert.equal(r.status, 500);
  assert.ok(r.headers.get("request-id"));
  assert.deepEqual(JSON.parse(r.text), { type: "error", error: { type: "api_error", message: "generation failed: injected backend failure" },
                                         request_id: r.headers.get("request-id") });
  await assert.rejects(
    anthropic.messages.create({ model: "claude-sonnet-4-6", max_tokens: 64, messages: user("FAIL-OOM") }),
    (e) => e instanceof Anthropic.APIError && e.status === 529 && e.error?.error?.type === "overloaded_error");
  // Streamed, the same failure is an overloaded_error event.
  const s = await post("/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 64, stream: true, messages: user("FAIL-OOM") });
  const last = parseSse(s.text).filter((f) => !f.comment).at(-1);
  assert.equal(last.event, "error");
  assert.equal(last.data.error.type, "overloaded_error");
});

test("Anthropic stream failing before its first token: message_start, then the error", async () => {
  const r = await post("/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 64, stream: true, messages: user("FAIL-FIRST") });
  const frames = parseSse(r.text).filter((f) => !f.comment && f.event !== "ping");
  assert.deepEqual(frames.map((f) => f.event), ["message_start", "error"]);
  assert.match(frames[1].data.error.message, /injected failure before any token/);
});

test("OpenAI stream: content deltas, then a data: {error} frame that the SDK raises; no [DONE]", async () => {
  const r = await post("/v1/chat/completions", { model: srv.modelId, max_tokens: 64, stream: true, messages: user("Please FAIL-MID now.") });
  assert.equal(r.status, 200);
  const frames = parseSse(r.text);
  const content = frames.filter((f) => f.data?.choices?.[0]?.delta?.content).map((f) => f.data.choices[0].delta.content).join("");
  assert.equal(content, PARTIAL);
  assert.deepEqual(frames.at(-1).data, { error: { message: "generation failed: injected backend failure", type: "server_error", param: null, code: "engine_error" } });
  assert.ok(!frames.some((f) => f.data === "[DONE]"), "a failed stream does not claim to be done");

  let received = "";
  await assert.rejects((async () => {
    const stream = await openai.chat.completions.create({ model: srv.modelId, max_tokens: 64, stream: true, messages: user("Please FAIL-MID now.") });
    for await (const chunk of stream) received += chunk.choices[0]?.delta?.content ?? "";
  })(), (e) => e instanceof OpenAI.APIError && /injected backend failure/.test(e.message));
  assert.equal(received, PARTIAL);
  await assertNothingHeld();
});

test("OpenAI non-streamed (chat and completions): 500 server error body", async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: srv.modelId, max_tokens: 64, messages: user("Please FAIL-MID now.") }),
    (e) => e instanceof OpenAI.APIError && e.status === 500 && e.code === "engine_error" && /injected backend failure/.test(e.message));
  const c = await post("/v1/completions", { model: srv.modelId, max_tokens: 64, prompt: "FAIL-FIRST" });
  assert.equal(c.status, 500);
  assert.equal(JSON.parse(c.text).error.code, "engine_error");
  const cs = await post("/v1/completions", { model: srv.modelId, max_tokens: 64, prompt: "FAIL-MID", stream: true });
  const frames = parseSse(cs.text);
  assert.equal(frames.at(-1).data.error.code, "engine_error");
  assert.ok(!frames.some((f) => f.data === "[DONE]"));
});

test("n > 1: one failing choice fails the whole answer; the server goes on serving", async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: srv.modelId, max_tokens: 64, n: 3, messages: user("Please FAIL-MID now.") }),
    (e) => e instanceof OpenAI.APIError && e.status === 500);
  await assertNothingHeld();
  const ok = await openai.chat.completions.create({ model: srv.modelId, max_tokens: 5, messages: user("Hello there.") });
  assert.equal(ok.choices[0].finish_reason, "length");
  assert.equal(ok.usage.completion_tokens, 5);
  // The failures are counted as server errors by endpoint.
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(text, /agentserve_requests_total\{endpoint="POST \/v1\/messages",status="500"\} [1-9]/);
  assert.match(text, /agentserve_requests_total\{endpoint="POST \/v1\/chat\/completions",status="500"\} [1-9]/);
});
