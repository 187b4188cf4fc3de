// The Anthropic Messages API against a real `agentserve serve`, through the official SDK
// (@anthropic-ai/sdk, the client Claude Code is built on) and raw fetch where the exact wire
// shape matters.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { startServer, parseSse, thinkingModel } from "./lib/server.mjs";

let srv, client;      // default context (8192)
let small, smallClient;  // --ctx 256: clamping and overflow
let authed;           // --api-key
let thinker;          // a template that opens <think>: the model's output is a thinking block

before(async () => {
  [srv, small, authed, thinker] = await Promise.all([
    // Outputs are compared request to request here; with the prefix cache a repeat computes
    // only the prompt's tail with other kernel shapes (equal within bf16 rounding, not bit for
    // bit, and the random model's top logits are nearly tied). So these run without it; the
    // cache-on server (authed) checks the cached-token usage fields.
    startServer({ model: "qwen3-tiny", args: ["--no-prefix-cache"] }),
    startServer({ model: "qwen3-tiny", args: ["--ctx", "256", "--no-prefix-cache"] }),
    startServer({ model: "qwen3-tiny", args: ["--api-key", "sekret"] }),
    startServer({ modelDir: thinkingModel(), args: ["--no-prefix-cache"] }),
  ]);
  client = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
  smallClient = new Anthropic({ baseURL: small.url, apiKey: "dummy", maxRetries: 0 });
});

after(async () => {
  await Promise.all([srv?.stop(), small?.stop(), authed?.stop(), thinker?.stop()]);
});

const MODEL = "claude-opus-4-8";
const hello = [{ role: "user", content: "Write a short poem about the sea." }];

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// A streamed request's frames, checked for the invariants every stream must hold.
async function streamFrames(url, body, headers = {}) {
  const r = await post(url, { ...body, stream: true }, headers);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get("content-type"), /^text\/event-stream/);
  const frames = parseSse(r.text);
  for (const f of frames) {
    assert.ok(f.event, `frame without an event line: ${JSON.stringify(f)}`);
    assert.equal(f.data.type, f.event, "event line and data.type agree");
  }
  return frames;
}

function checkSequence(frames) {
  const names = frames.map((f) => f.event).filter((e) => e !== "ping");
  assert.equal(names[0], "message_start");
  assert.equal(names.at(-1), "message_stop");
  assert.equal(names.at(-2), "message_delta");
  let open = null;
  let next = 0;
  for (const f of frames) {
    const d = f.data;
    if (f.event === "content_block_start") {
      assert.equal(open, null, "a block opens only after the previous one closed");
      assert.equal(d.index, next, "block indices are sequential");
      open = d.index;
    } else if (f.event === "content_block_delta") {
      assert.equal(d.index, open, "deltas belong to the open block");
    } else if (f.event === "content_block_stop") {
      assert.equal(d.index, open);
      open = null;
      next++;
    }
  }
  assert.equal(open, null, "every block is closed");
}

test("non-streamed and streamed greedy answers agree (SDK)", async () => {
  const body = { model: MODEL, max_tokens: 24, temperature: 0, messages: hello };
  const msg = await client.messages.create(body);
  assert.match(msg.id, /^msg_/);
  assert.equal(msg.type, "message");
  assert.equal(msg.role, "assistant");
  assert.equal(msg.model, MODEL);
  assert.equal(msg.stop_reason, "max_tokens");
  assert.equal(msg.stop_sequence, null);
  assert.equal(msg.content.length, 1);
  assert.equal(msg.content[0].type, "text");
  assert.ok(msg.content[0].text.length > 0);
  assert.equal(msg.usage.output_tokens, 24);
  assert.ok(msg.usage.input_tokens > 0);
  assert.equal(msg.usage.cache_creation_input_tokens, 0);
  assert.equal(typeof msg.usage.cache_read_input_tokens, "number");

  const final = await client.messages.stream(body).finalMessage();
  assert.deepEqual(final.content, msg.content);
  assert.equal(final.stop_reason, msg.stop_reason);
  assert.equal(final.stop_sequence, null);
  assert.equal(final.usage.output_tokens, msg.usage.output_tokens);
  assert.equal(final.usage.input_tokens + final.usage.cache_read_input_tokens,
               msg.usage.input_tokens + msg.usage.cache_read_input_tokens);
});

test("stream wire format: event lines, order, indices, usage", async () => {
  const frames = await streamFrames(`${srv.url}/v1/messages`,
                                    { model: MODEL, max_tokens: 8, temperature: 0, messages: hello });
  checkSequence(frames);
  const start = frames[0].data.message;
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  assert.equal(start.stop_sequence, null);
  for (const k of ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"])
    assert.equal(typeof start.usage[k], "number", `message_start usage.${k}`);
  assert.ok(start.usage.input_tokens > 0);
  assert.equal(frames[1].event, "ping", "a ping follows message_start");
  const delta = frames.find((f) => f.event === "message_delta").data;
  assert.equal(delta.delta.stop_reason, "max_tokens");
  assert.ok("stop_sequence" in delta.delta);
  assert.equal(delta.usage.output_tokens, 8);
  // message_start waits for the prefix-cache lookup: it splits the prompt as message_delta does.
  assert.equal(delta.usage.input_tokens, start.usage.input_tokens);
  assert.equal(delta.usage.cache_read_input_tokens, start.usage.cache_read_input_tokens);
  const text = frames.filter((f) => f.event === "content_block_delta").map((f) => f.data.delta.text).join("");
  assert.ok(text.length > 0);
  // One message_start and one message_stop; a text block opens empty, as Anthropic's do.
  assert.equal(frames.filter((f) => f.event === "message_start").length, 1);
  assert.equal(frames.filter((f) => f.event === "message_stop").length, 1);
  assert.deepEqual(frames.find((f) => f.event === "content_block_start").data,
                   { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
});

test("a follow-up turn's message_start reports its prompt read from the cache, before the prefill", async () => {
  // The prefix cache is on for `authed` only. An agent's second request repeats the first one's
  // prompt and adds to it.
  const key = { "x-api-key": "sekret" };
  const history = [{ role: "user", content: `cache split ${Date.now()}: ` + "read the file and fix the bug. ".repeat(40) }];
  const body = (messages) => ({ model: MODEL, max_tokens: 4, temperature: 0, messages });
  const count = async (messages) =>
    JSON.parse((await post(`${authed.url}/v1/messages/count_tokens`, { model: MODEL, messages }, key)).text).input_tokens;
  const first = await streamFrames(`${authed.url}/v1/messages`, body(history), key);
  const firstStart = first[0].data.message.usage;
  assert.equal(firstStart.cache_read_input_tokens, 0);
  assert.equal(firstStart.input_tokens, await count(history));
  const text = first.filter((f) => f.event === "content_block_delta").map((f) => f.data.delta.text).join("");
  const turn2 = [...history, { role: "assistant", content: text }, { role: "user", content: "and run the tests" }];
  const second = await streamFrames(`${authed.url}/v1/messages`, body(turn2), key);
  checkSequence(second);
  const start = second[0].data.message.usage;
  const delta = second.find((f) => f.event === "message_delta").data.usage;
  // Turn 1's prompt, whole pages of 16 tokens of it, is read from the cache.
  assert.ok(start.cache_read_input_tokens >= 16 * Math.floor((firstStart.input_tokens - 16) / 16),
            `turn 2's message_start: ${JSON.stringify(start)}, turn 1's prompt ${firstStart.input_tokens} tokens`);
  assert.equal(start.input_tokens + start.cache_read_input_tokens, await count(turn2));
  assert.equal(start.cache_read_input_tokens, delta.cache_read_input_tokens);
  assert.equal(start.input_tokens, delta.input_tokens);
});

test("?beta=true is accepted (Claude Code's path)", async () => {
  const r = await post(`${srv.url}/v1/messages?beta=true`, { model: MODEL, max_tokens: 2, messages: hello });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).type, "message");
  const c = await post(`${srv.url}/v1/messages/count_tokens?beta=true`, { model: MODEL, messages: hello });
  assert.equal(c.status, 200, c.text);
});

test("stop_sequences end the output right before the match", async () => {
  const base = { model: MODEL, max_tokens: 40, temperature: 0, messages: hello };
  const full = (await client.messages.create(base)).content[0].text;
  const mid = Math.floor(full.length / 2);
  const stop = full.slice(mid, mid + 3);
  assert.equal(stop.length, 3);
  const expected = full.slice(0, full.indexOf(stop));
  for (const stream of [false, true]) {
    const msg = stream
      ? await client.messages.stream({ ...base, stop_sequences: [stop] }).finalMessage()
      : await client.messages.create({ ...base, stop_sequences: [stop] });
    assert.equal(msg.stop_reason, "stop_sequence");
    assert.equal(msg.stop_sequence, stop);
    assert.equal(msg.content.map((b) => b.text).join(""), expected);
  }
});

test("max_tokens 0 answers at once without generating (cache prewarm)", async () => {
  const msg = await client.messages.create({ model: MODEL, max_tokens: 0, messages: hello });
  assert.equal(msg.stop_reason, "max_tokens");
  assert.equal(msg.usage.output_tokens, 0);
  assert.deepEqual(msg.content, []);
  const frames = await streamFrames(`${srv.url}/v1/messages`, { model: MODEL, max_tokens: 0, messages: hello });
  checkSequence(frames);
  assert.equal(frames.find((f) => f.event === "message_delta").data.delta.stop_reason, "max_tokens");
});

test("max_tokens beyond the context is clamped: model_context_window_exceeded", async () => {
  const body = { model: MODEL, max_tokens: 64000, temperature: 0, messages: hello };
  // Raw fetch: the SDK itself refuses a non-streamed request for 64000 tokens.
  const r = await post(`${small.url}/v1/messages`, body);
  assert.equal(r.status, 200, r.text);
  const msg = JSON.parse(r.text);
  assert.equal(msg.stop_reason, "model_context_window_exceeded");
  const prompt = msg.usage.input_tokens + msg.usage.cache_read_input_tokens;
  assert.equal(prompt + msg.usage.output_tokens, 256);
  const frames = await streamFrames(`${small.url}/v1/messages`, body);
  checkSequence(frames);
  assert.equal(frames.find((f) => f.event === "message_delta").data.delta.stop_reason,
               "model_context_window_exceeded");
});

test("a prompt longer than the context: 400 with Claude Code's compaction wording", async () => {
  const long = [{ role: "user", content: "tide ".repeat(400) }];
  const r = await post(`${small.url}/v1/messages`, { model: MODEL, max_tokens: 10, messages: long });
  assert.equal(r.status, 400);
  const err = JSON.parse(r.text);
  assert.equal(err.type, "error");
  assert.equal(err.error.type, "invalid_request_error");
  const m = err.error.message.match(/^prompt is too long: (\d+) tokens > (\d+) maximum$/);
  assert.ok(m, err.error.message);
  assert.ok(+m[1] > +m[2]);
  const counted = await smallClient.messages.countTokens({ model: MODEL, messages: long });
  assert.equal(counted.input_tokens, +m[1]);
  await assert.rejects(smallClient.messages.create({ model: MODEL, max_tokens: 10, messages: long }),
                       (e) => e instanceof Anthropic.BadRequestError && /prompt is too long/.test(e.message));
});

// A Claude-Code-shaped conversation: system blocks (with cache_control), tools (custom and a
// server tool), a tool_use/tool_result round, a mid-conversation system message.
const agentBody = {
  model: MODEL,
  system: [
    { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=cli;" },
    { type: "text", text: "You are a coding agent." },
    { type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } },
  ],
  tools: [
    { name: "Read", description: "Read a file", input_schema: { type: "object", properties: { path: { type: "string" }, limit: { type: "integer" } }, required: ["path"] } },
    { type: "web_search_20250305", name: "web_search", max_uses: 3 },
  ],
  tool_choice: { type: "auto" },
  thinking: { type: "adaptive" },
  metadata: { user_id: "{\"session_id\":\"abc\"}" },
  context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
  output_config: { effort: "high" },
  messages: [
    { role: "user", content: [{ type: "text", text: "<system-reminder>today</system-reminder>" }, { type: "text", text: "read a.txt", cache_control: { type: "ephemeral" } }] },
    { role: "system", content: "Agent types: general." },
    { role: "assistant", content: [
      { type: "thinking", thinking: "I should read it.", signature: "sig" },
      { type: "text", text: "Reading." },
      { type: "tool_use", id: "toolu_01", name: "Read", input: { path: "a.txt", limit: 10 } },
    ] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: [{ type: "text", text: "hello" }] }] },
    { role: "system", content: [{ type: "text", text: "Reminder: stay on task." }] },
    { role: "user", content: "and now?" },
  ],
};

test("count_tokens equals the prompt that /v1/messages prefills", async () => {
  const counted = await client.messages.countTokens(agentBody);
  assert.ok(counted.input_tokens > 50, JSON.stringify(counted));
  const frames = await streamFrames(`${srv.url}/v1/messages`, { ...agentBody, max_tokens: 1 });
  checkSequence(frames);
  assert.equal(frames[0].data.message.usage.input_tokens, counted.input_tokens);
  const msg = await client.messages.create({ ...agentBody, max_tokens: 1 });
  assert.equal(msg.usage.input_tokens + msg.usage.cache_read_input_tokens, counted.input_tokens);
  // Every part of the body reaches the prompt: dropping any of them changes the count.
  const without = async (patch) => (await client.messages.countTokens({ ...agentBody, ...patch })).input_tokens;
  assert.ok(await without({ tools: [] }) < counted.input_tokens, "tools are rendered");
  assert.ok(await without({ system: "You are a coding agent." }) < counted.input_tokens, "system blocks are rendered");
  // The attribution block is rendered too (prompt hygiene only makes its cch= hash fixed: the
  // tests at the end).
  const noBilling = { system: agentBody.system.slice(1) };
  assert.ok(await without(noBilling) < counted.input_tokens, "the attribution block is rendered");
});

test("merged turns, is_error results and string contents are accepted", async () => {
  const msg = await client.messages.create({
    model: MODEL, max_tokens: 2,
    messages: [
      { role: "user", content: "one" },
      { role: "user", content: [{ type: "text", text: "two" }] },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Bash", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "boom", is_error: true }, { type: "text", text: "fix it" }] },
    ],
  });
  assert.equal(msg.type, "message");
});

test("unknown and server-side block types are dropped, never a 400", async () => {
  const msg = await client.messages.create({
    model: MODEL, max_tokens: 2,
    messages: [
      { role: "user", content: [
        { type: "text", text: "look" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
        { type: "document", source: { type: "text", media_type: "text/plain", data: "doc text" } },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } },
        { type: "a_block_from_the_future", whatever: 1 },
      ] },
      { role: "assistant", content: [
        { type: "redacted_thinking", data: "opaque" },
        { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "x" } },
        { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
        { type: "text", text: "found nothing" },
      ] },
      { role: "user", content: "ok" },
    ],
  });
  assert.equal(msg.type, "message");
});

test("thinking enabled/disabled reaches the template (Qwen3: enable_thinking)", async () => {
  const count = async (thinking) =>
    (await client.messages.countTokens({ model: MODEL, messages: hello, ...(thinking ? { thinking } : {}) })).input_tokens;
  const dflt = await count(null);
  const enabled = await count({ type: "enabled", budget_tokens: 2048 });
  const adaptive = await count({ type: "adaptive" });
  const disabled = await count({ type: "disabled" });
  // Qwen3's template thinks by default; disabled closes an empty <think></think> in the prompt.
  assert.equal(enabled, dflt);
  assert.equal(adaptive, dflt);
  assert.ok(disabled > enabled, `disabled ${disabled} vs enabled ${enabled}`);
});

test("model names: claude-* maps to the served model, others are 404 not_found_error", async () => {
  for (const model of ["claude-opus-4-8", "claude-haiku-4-5-20251001", srv.modelId]) {
    const msg = await client.messages.create({ model, max_tokens: 1, messages: hello });
    assert.equal(msg.model, model);
  }
  await assert.rejects(client.messages.create({ model: "gpt-5", max_tokens: 1, messages: hello }),
                       (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === "not_found_error");
  const r = await post(`${srv.url}/v1/messages/count_tokens`, { model: "gpt-5", messages: hello });
  assert.equal(r.status, 404);
});

test("GET /v1/models in Anthropic's shape (SDK models.list)", async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.type, "model");
    assert.equal(typeof m.display_name, "string");
    assert.ok(!Number.isNaN(Date.parse(m.created_at)));
    ids.push(m.id);
  }
  assert.deepEqual(ids, [srv.modelId]);
});

test("--api-key: x-api-key and Bearer accepted, anything else 401 authentication_error", async () => {
  const body = { model: MODEL, max_tokens: 1, messages: hello };
  assert.equal((await new Anthropic({ baseURL: authed.url, apiKey: "sekret" }).messages.create(body)).type, "message");
  assert.equal((await new Anthropic({ baseURL: authed.url, apiKey: null, authToken: "sekret" }).messages.create(body)).type, "message");
  await assert.rejects(new Anthropic({ baseURL: authed.url, apiKey: "wrong", maxRetries: 0 }).messages.create(body),
                       (e) => e instanceof Anthropic.AuthenticationError && e.error?.error?.type === "authentication_error");
  const r = await post(`${authed.url}/v1/messages/count_tokens`, { model: MODEL, messages: hello });
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.text).error.type, "authentication_error");
  // Refusals are in the server's log (clients that retry a 401 otherwise look stuck), at most
  // one line a second, the others counted into the next line.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.match(authed.log(), /POST \/v1\/messages: refused, wrong API key \(the server runs with --api-key\)/);
  assert.doesNotMatch(authed.log(), /count_tokens: refused/, "the second refusal within the second is not a line of its own");
  assert.equal((await post(`${authed.url}/v1/messages`, { model: MODEL, max_tokens: 1, messages: hello })).status, 401);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.match(authed.log(), /POST \/v1\/messages: refused, no API key sent \(the server runs with --api-key\); 1 more refused since the last such line/);
});

test("malformed requests: 400 invalid_request_error naming the field", async () => {
  const cases = [
    ["{not json", /JSON/],
    [{ model: MODEL, messages: hello }, /max_tokens/],
    [{ model: MODEL, max_tokens: "10", messages: hello }, /max_tokens/],
    [{ model: MODEL, max_tokens: -1, messages: hello }, /max_tokens/],
    [{ model: MODEL, max_tokens: 5, messages: "hi" }, /messages/],
    [{ model: MODEL, max_tokens: 5 }, /messages/],
    [{ model: MODEL, max_tokens: 5, messages: [] }, /at least one message/],
    [{ model: MODEL, max_tokens: 5, messages: [{ role: "robot", content: "hi" }] }, /role/],
    [{ model: MODEL, max_tokens: 5, messages: [{ role: "user", content: [{ type: "text" }] }] }, /messages\.0\.content\.0\.text/],
    [{ model: MODEL, max_tokens: 5, messages: [{ role: "user", content: 5 }] }, /content/],
    [{ model: MODEL, max_tokens: 5, temperature: 1.5, messages: hello }, /temperature/],
    [{ model: MODEL, max_tokens: 5, stop_sequences: [1], messages: hello }, /stop_sequences/],
    [{ model: MODEL, max_tokens: 5, tools: [{ name: "x" }], messages: hello }, /input_schema/],
    [{ model: MODEL, max_tokens: 5, tool_choice: { type: "tool" }, messages: hello }, /tool_choice/],
    [{ model: MODEL, max_tokens: 5, messages: [{ role: "assistant", content: [{ type: "tool_use", id: "a", name: "b", input: "x" }] }] }, /input/],
  ];
  for (const [body, re] of cases) {
    const r = await post(`${srv.url}/v1/messages`, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.text}`);
    const err = JSON.parse(r.text);
    assert.equal(err.type, "error");
    assert.equal(err.error.type, "invalid_request_error");
    assert.match(err.error.message, re);
    assert.match(err.request_id, /^req_/);
    assert.equal(r.headers.get("request-id"), err.request_id);
  }
});

async function kvPagesUsed(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return +text.match(/^agentserve_kv_pages_used (\d+)/m)[1];
}

// Pages held by requests rather than only by the prefix cache, and the running sequences.
async function requestHeld(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const g = (name) => +text.match(new RegExp(`^${name} (\\d+)`, "m"))[1];
  return { pages: g("agentserve_kv_pages_used") - g("agentserve_kv_pages_cached"),
           running: g("agentserve_running_sequences"), generated: g("agentserve_generated_tokens_total") };
}

test("a client that aborts mid-stream cancels the generation", async () => {
  const generatedBefore = (await requestHeld(srv.url)).generated;
  const ac = new AbortController();
  const res = await fetch(`${srv.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, max_tokens: 6000, stream: true, messages: hello }),
    signal: ac.signal,
  });
  const reader = res.body.getReader();
  let seen = "";
  while (!seen.includes("content_block_delta")) seen += new TextDecoder().decode((await reader.read()).value);
  assert.ok(await kvPagesUsed(srv.url) > 0, "the generation holds KV pages while it runs");
  ac.abort();
  // The prefix cache keeps the KV it saw (that is its job); what the request itself held must go.
  let held = null;
  for (let i = 0; i < 50 && !(held && held.running === 0 && held.pages <= 0 && held.generated > generatedBefore); i++) {
    await new Promise((r) => setTimeout(r, 100));
    held = await requestHeld(srv.url);
  }
  assert.equal(held.running, 0, "the generation stopped after the client left");
  assert.ok(held.pages <= 0, `no KV pages held outside the prefix cache (${held.pages})`);
  // The cancelled generation is counted when it finishes: some tokens, far fewer than asked for.
  const generated = held.generated - generatedBefore;
  assert.ok(generated > 0 && generated < 6000, `the cancelled request generated ${generated} of 6000 tokens`);
  const msg = await client.messages.create({ model: MODEL, max_tokens: 2, messages: hello });
  assert.equal(msg.type, "message");
});

test("prefix cache: a repeat reports cache_read_input_tokens, and input_tokens is prompt minus cached", async () => {
  const c = new Anthropic({ baseURL: authed.url, apiKey: "sekret", maxRetries: 0 });
  const body = { model: MODEL, max_tokens: 2, temperature: 0, system: "You are a careful assistant. ".repeat(20), messages: hello };
  const first = await c.messages.create(body);
  const second = await c.messages.create(body);
  const prompt = first.usage.input_tokens + first.usage.cache_read_input_tokens;
  const expected = Math.floor((prompt - 1) / 16) * 16;
  assert.ok(expected > 0);
  assert.equal(second.usage.cache_read_input_tokens, expected);
  assert.equal(second.usage.input_tokens, prompt - expected);
  assert.equal(second.usage.cache_creation_input_tokens, 0);
  // The streamed form reports the same in its final message_delta.
  const stream = c.messages.stream(body);
  const final = await stream.finalMessage();
  assert.equal(final.usage.cache_read_input_tokens, expected);
  assert.equal(final.usage.input_tokens, prompt - expected);
});

test("thinking output: a thinking block with one signature_delta before its stop (streamed), signature in the message", async () => {
  const body = { model: MODEL, max_tokens: 24, temperature: 0, messages: hello };
  const frames = await streamFrames(`${thinker.url}/v1/messages`, body);
  checkSequence(frames);
  const starts = frames.filter((f) => f.event === "content_block_start");
  assert.equal(starts[0].data.content_block.type, "thinking");
  assert.deepEqual(starts[0].data.content_block, { type: "thinking", thinking: "", signature: "" });
  const ofBlock0 = frames.filter((f) => f.data?.index === 0);
  const deltas = ofBlock0.filter((f) => f.event === "content_block_delta").map((f) => f.data.delta);
  assert.ok(deltas.some((d) => d.type === "thinking_delta" && d.thinking.length > 0));
  const sigs = deltas.filter((d) => d.type === "signature_delta");
  assert.equal(sigs.length, 1, "exactly one signature_delta");
  assert.equal(deltas.at(-1).type, "signature_delta", "the signature comes last, just before the stop");
  assert.equal(typeof sigs[0].signature, "string");
  assert.ok(deltas.every((d) => d.type !== "text_delta"), "no text deltas inside the thinking block");
  // The SDK assembles the same message, and the non-streamed answer agrees.
  const c = new Anthropic({ baseURL: thinker.url, apiKey: "dummy", maxRetries: 0 });
  const streamed = await c.messages.stream(body).finalMessage();
  const plain = await c.messages.create(body);
  assert.equal(plain.content[0].type, "thinking");
  assert.equal(typeof plain.content[0].signature, "string");
  assert.equal(plain.content[0].thinking, streamed.content[0].thinking);
  assert.equal(plain.content[0].thinking, deltas.filter((d) => d.type === "thinking_delta").map((d) => d.thinking).join(""));
});

// Claude Code's attribution block as older versions send it: the cch= hash changes with every
// request. The nonce keeps a cache that outlives the server (a disk tier) from answering.
const hygieneNonce = `run ${process.pid}-${Date.now()}`;
const attributed = (cch) => ({
  model: MODEL,
  max_tokens: 2,
  temperature: 0,
  system: [
    { type: "text", text: `x-anthropic-billing-header: cc_version=2.0.14.7a1; cc_entrypoint=cli; cch=${cch};` },
    { type: "text", text: `${hygieneNonce}. You are Claude Code, a coding agent. ` + "Follow the repository's conventions. ".repeat(12) },
  ],
  messages: [{ role: "user", content: "List the files in the repository root, explain what each of them is for, and say which ones a new contributor should read first and why." }],
});
// Hashes of different lengths, so that the token counts differ where the hash reaches the prompt.
const CCH_A = "9a8f7", CCH_B = "1c2d3e4f5a6b";

test("prompt hygiene: requests differing only in cch count the same and reuse the whole system prompt", async () => {
  const c = new Anthropic({ baseURL: authed.url, apiKey: "sekret", maxRetries: 0 });
  const counted = (await c.messages.countTokens(attributed(CCH_A))).input_tokens;
  assert.equal((await c.messages.countTokens(attributed(CCH_B))).input_tokens, counted);
  // The user message alone spans more than a page, so the system prompt ends before the last one.
  const shortUser = { ...attributed(CCH_A), messages: [{ role: "user", content: "x" }] };
  assert.ok((await c.messages.countTokens(shortUser)).input_tokens < counted - 16);
  const first = await c.messages.create(attributed(CCH_A));
  assert.equal(first.usage.input_tokens + first.usage.cache_read_input_tokens, counted);
  const second = await c.messages.create(attributed(CCH_B));
  assert.equal(second.usage.input_tokens + second.usage.cache_read_input_tokens, counted);
  // Everything but the prompt's last partial page came from the cache: the system prompt too.
  assert.equal(second.usage.cache_read_input_tokens, Math.floor((counted - 1) / 16) * 16);
});

test("--no-prompt-hygiene: the attribution block reaches the template as sent, and a new cch misses", async () => {
  const raw = await startServer({ model: "qwen3-tiny", args: ["--no-prompt-hygiene"] });
  try {
    const c = new Anthropic({ baseURL: raw.url, apiKey: "dummy", maxRetries: 0 });
    const countA = (await c.messages.countTokens(attributed(CCH_A))).input_tokens;
    const countB = (await c.messages.countTokens(attributed(CCH_B))).input_tokens;
    assert.notEqual(countA, countB, "the hash as sent is in the prompt");
    await c.messages.create(attributed(CCH_A));
    const second = await c.messages.create(attributed(CCH_B));
    // Reuse stops at the page holding the hash, near the top of the system prompt.
    assert.ok(second.usage.cache_read_input_tokens <= 32, JSON.stringify(second.usage));
    assert.ok(countB > 150);
  } finally {
    await raw.stop();
  }
});
