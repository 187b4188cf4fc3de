// The OpenAI API (/v1/chat/completions, /v1/completions) against a real `agentserve serve`,
// through the official `openai` SDK where client behaviour matters and raw fetch where the exact
// wire shape does. The test models have random weights: text is gibberish, but greedy decoding
// (temperature 0) and seeded sampling are deterministic, so outputs are compared request to
// request rather than to fixed strings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startServer, parseSse, thinkingModel } from "./lib/server.mjs";

let srv, client;        // default context (8192)
let small, smallClient; // --ctx 256: clamping and overflow
let authed;             // --api-key k
let thinker, thinkClient;  // a template that opens <think> in the generation prompt

const hello = [{ role: "user", content: "Write a short poem about the sea." }];

before(async () => {
  // Tests here compare outputs request to request. With the prefix cache on, a prompt's first
  // request prefills everything while a repeat reuses cached pages and computes only the tail,
  // with other kernel shapes: equal within bf16 rounding, not bit for bit — and the random test
  // model's top logits are nearly tied, so that can flip a token. So these servers run without
  // the cache; the cache-on server (authed) checks cached-token reporting.
  [srv, small, authed, thinker] = await Promise.all([
    startServer({ model: "qwen3-tiny", args: ["--no-prefix-cache"] }),
    startServer({ model: "qwen3-tiny", args: ["--ctx", "256", "--no-prefix-cache"] }),
    startServer({ model: "qwen3-tiny", args: ["--api-key", "k"] }),
    startServer({ modelDir: thinkingModel(), args: ["--served-name", "thinker", "--no-prefix-cache"] }),
  ]);
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "dummy", maxRetries: 0 });
  smallClient = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: "dummy", maxRetries: 0 });
  thinkClient = new OpenAI({ baseURL: `${thinker.url}/v1`, apiKey: "dummy", maxRetries: 0 });
});

after(async () => {
  await Promise.all([srv?.stop(), small?.stop(), authed?.stop(), thinker?.stop()]);
});

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// A streamed response's data frames (comments dropped), after checking the framing every
// OpenAI stream must have: SSE content type, JSON frames, and exactly one final [DONE].
async function streamFrames(url, body) {
  const r = await post(url, { ...body, stream: true });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get("content-type"), /^text\/event-stream/);
  const frames = parseSse(r.text).filter((f) => !f.comment);
  assert.equal(frames.at(-1).data, "[DONE]", "the stream ends with data: [DONE]");
  assert.ok(frames.slice(0, -1).every((f) => typeof f.data === "object" && f.event === null));
  return frames.slice(0, -1).map((f) => f.data);
}

// Per choice index: the concatenated content and reasoning deltas, the finish reason, and the
// order of events (role first).
function collectChat(chunks) {
  const byIndex = new Map();
  for (const c of chunks) {
    for (const ch of c.choices) {
      if (!byIndex.has(ch.index)) byIndex.set(ch.index, { content: "", reasoning: "", finish: null, first: ch.delta, count: 0, logprobs: [] });
      const s = byIndex.get(ch.index);
      assert.equal(s.finish, null, "nothing follows a choice's finish_reason");
      s.count++;
      s.content += ch.delta.content ?? "";
      s.reasoning += ch.delta.reasoning_content ?? "";
      if (ch.logprobs) s.logprobs.push(...ch.logprobs.content);
      if (ch.finish_reason) s.finish = ch.finish_reason;
    }
  }
  return byIndex;
}

const chatUrl = () => `${srv.url}/v1/chat/completions`;

// ---------------------------------------------------------------------------------------------
// Chat completions

test("chat: non-streaming response shape through the SDK", async () => {
  const r = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 8, temperature: 0 });
  assert.equal(r.object, "chat.completion");
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.model, srv.modelId);
  assert.ok(Math.abs(r.created - Date.now() / 1000) < 60);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.message.role, "assistant");
  assert.equal(typeof c.message.content, "string");
  assert.ok(c.message.content.length > 0);
  assert.equal(c.finish_reason, "length");
  assert.equal(r.usage.completion_tokens, 8);
  assert.ok(r.usage.prompt_tokens > 5);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, "number");
  assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 0);
});

test("chat: a developer message is the system message (same prompt, same greedy text), not dropped", async () => {
  const ask = async (messages) => client.chat.completions.create({ model: srv.modelId, messages, max_tokens: 8, temperature: 0 });
  const rules = "Answer in one short sentence.";
  const asDeveloper = await ask([{ role: "developer", content: rules }, ...hello]);
  const asSystem = await ask([{ role: "system", content: rules }, ...hello]);
  const without = await ask(hello);
  assert.equal(asDeveloper.usage.prompt_tokens, asSystem.usage.prompt_tokens);
  assert.equal(asDeveloper.choices[0].message.content, asSystem.choices[0].message.content);
  assert.ok(asDeveloper.usage.prompt_tokens > without.usage.prompt_tokens, "the developer text reached the prompt");
});

test("chat: the model field echoes the client's name; absent model means the served one", async () => {
  const r = JSON.parse((await post(chatUrl(), { messages: hello, max_tokens: 1 })).text);
  assert.equal(r.model, srv.modelId);
  const a = await client.chat.completions.create({ model: "gpt-4o", messages: hello, max_tokens: 1 }).catch((e) => e);
  // gpt-4o is not an alias of this server: unknown.
  assert.equal(a.status, 404);
});

test("chat: streamed deltas (raw SSE) concatenate to the non-streamed greedy text", async () => {
  const body = { messages: hello, max_tokens: 20, temperature: 0, stream_options: { include_usage: true } };
  const full = JSON.parse((await post(chatUrl(), body)).text);
  const chunks = await streamFrames(chatUrl(), body);
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" }, "the first delta is the role");
  const usageChunk = chunks.at(-1);
  assert.deepEqual(usageChunk.choices, [], "the usage chunk has choices: []");
  assert.deepEqual(usageChunk.usage, full.usage);
  for (const c of chunks) {
    assert.equal(c.object, "chat.completion.chunk");
    assert.equal(c.id, chunks[0].id);
    assert.match(c.id, /^chatcmpl-/);
  }
  const s = collectChat(chunks.slice(0, -1)).get(0);
  assert.equal(s.content, full.choices[0].message.content);
  assert.equal(s.finish, "length");
  assert.equal(chunks.at(-2).choices[0].finish_reason, "length", "finish_reason comes in the last choice chunk");
});

test("chat: without include_usage there is no usage chunk", async () => {
  const chunks = await streamFrames(chatUrl(), { messages: hello, max_tokens: 3, temperature: 0 });
  assert.ok(chunks.every((c) => c.choices.length === 1 && c.usage === undefined));
});

test("chat: SDK streaming yields the same text and finish reason", async () => {
  const full = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 15, temperature: 0 });
  const stream = await client.chat.completions.create({
    model: srv.modelId, messages: hello, max_tokens: 15, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = "", finish = null, usage = null, first = null;
  for await (const chunk of stream) {
    if (first === null && chunk.choices.length) first = chunk.choices[0].delta;
    for (const ch of chunk.choices) {
      text += ch.delta.content ?? "";
      if (ch.finish_reason) finish = ch.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(first.role, "assistant");
  assert.equal(text, full.choices[0].message.content);
  assert.equal(finish, "length");
  assert.equal(usage.completion_tokens, 15);
});

// A diverse greedy output: the frequency penalty keeps the random model from repeating a token,
// so a substring from the middle does not also occur earlier.
const diverse = { messages: hello, temperature: 0, frequency_penalty: 2, max_tokens: 30, logprobs: true };

test("chat: a stop string from the middle of the output cuts the text right before it", async () => {
  const first = await client.chat.completions.create({ model: srv.modelId, ...diverse });
  const text = first.choices[0].message.content;
  assert.ok(text.length >= 12, `long enough output: ${JSON.stringify(text)}`);
  const mid = Math.floor(text.length / 2);
  const stop = text.slice(mid, mid + 3);
  const expected = text.slice(0, text.indexOf(stop));
  const r = await client.chat.completions.create({ model: srv.modelId, ...diverse, stop: ["zzzzqqq", stop] });
  assert.equal(r.choices[0].message.content, expected);
  assert.equal(r.choices[0].finish_reason, "stop");
  // Streamed: the held-back text is never leaked.
  const chunks = await streamFrames(chatUrl(), { ...diverse, stop });
  const s = collectChat(chunks).get(0);
  assert.equal(s.content, expected);
  assert.equal(s.finish, "stop");
});

test("chat: a stop string spanning two tokens is matched across the boundary", async () => {
  const first = await client.chat.completions.create({ model: srv.modelId, ...diverse });
  const toks = first.choices[0].logprobs.content.map((t) => t.token);
  const text = first.choices[0].message.content;
  // Two adjacent plain-ASCII tokens of 2+ characters in the middle.
  let k = -1;
  for (let i = 3; i + 1 < toks.length; i++) {
    if (/^[\x20-\x7e]{2,}$/.test(toks[i]) && /^[\x20-\x7e]{2,}$/.test(toks[i + 1])) { k = i; break; }
  }
  assert.ok(k > 0, `two adjacent ASCII tokens in ${JSON.stringify(toks)}`);
  const stop = toks[k].slice(-2) + toks[k + 1].slice(0, 2);
  const expected = text.slice(0, text.indexOf(stop));
  assert.ok(expected.length > 0);
  const r = await client.chat.completions.create({ model: srv.modelId, ...diverse, stop });
  assert.equal(r.choices[0].message.content, expected);
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.ok(!r.choices[0].message.content.includes(stop));
});

test("chat: max_tokens and max_completion_tokens end with length after exactly that many tokens", async () => {
  for (const key of ["max_tokens", "max_completion_tokens"]) {
    const r = await client.chat.completions.create({ model: srv.modelId, messages: hello, temperature: 0, [key]: 7 });
    assert.equal(r.choices[0].finish_reason, "length", key);
    assert.equal(r.usage.completion_tokens, 7, key);
  }
  // max_completion_tokens wins over the deprecated field.
  const r = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 9, max_completion_tokens: 4 });
  assert.equal(r.usage.completion_tokens, 4);
});

test("chat: logprobs and top_logprobs shape; greedy picks the top alternative", async () => {
  const r = await client.chat.completions.create({
    model: srv.modelId, messages: hello, temperature: 0, max_tokens: 10, logprobs: true, top_logprobs: 3,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, 10);
  let bytes = [];
  for (const e of content) {
    assert.equal(typeof e.token, "string");
    assert.ok(e.logprob <= 0, `logprob ${e.logprob} <= 0`);
    assert.ok(Array.isArray(e.bytes) && e.bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256));
    assert.equal(e.top_logprobs.length, 3);
    for (let i = 1; i < 3; i++) assert.ok(e.top_logprobs[i - 1].logprob >= e.top_logprobs[i].logprob, "best first");
    for (const t of e.top_logprobs) assert.ok(t.logprob <= 0);
    assert.deepEqual(e.top_logprobs[0].bytes, e.bytes, "greedy: the chosen token is the most likely");
    assert.equal(e.top_logprobs[0].logprob, e.logprob);
    bytes.push(...e.bytes);
  }
  assert.equal(Buffer.from(bytes).toString("utf8"), r.choices[0].message.content, "token bytes spell the content");
  // Without logprobs: null.
  const plain = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 2 });
  assert.equal(plain.choices[0].logprobs, null);
});

test("chat: streamed logprobs cover every token", async () => {
  const body = { messages: hello, temperature: 0, max_tokens: 12, logprobs: true, top_logprobs: 1 };
  const full = JSON.parse((await post(chatUrl(), body)).text);
  const s = collectChat(await streamFrames(chatUrl(), body)).get(0);
  assert.deepEqual(s.logprobs, full.choices[0].logprobs.content);
});

test("chat: top_logprobs out of range or without logprobs is a 400", async () => {
  for (const body of [{ logprobs: true, top_logprobs: 21 }, { top_logprobs: 2 }]) {
    const r = await post(chatUrl(), { messages: hello, ...body });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).error.param, "top_logprobs");
  }
});

test("chat: n=2 with a seed gives two different, reproducible choices (choice i uses seed+i)", async () => {
  const req = { model: srv.modelId, messages: hello, max_tokens: 12, temperature: 1, seed: 42, n: 2 };
  const a = await client.chat.completions.create(req);
  const b = await client.chat.completions.create(req);
  assert.equal(a.choices.length, 2);
  assert.deepEqual(a.choices.map((c) => c.index), [0, 1]);
  assert.notEqual(a.choices[0].message.content, a.choices[1].message.content);
  assert.deepEqual(b.choices.map((c) => c.message.content), a.choices.map((c) => c.message.content));
  assert.equal(a.usage.completion_tokens, 24, "usage adds up the choices");
  const one0 = await client.chat.completions.create({ ...req, n: 1 });
  const one1 = await client.chat.completions.create({ ...req, n: 1, seed: 43 });
  assert.equal(one0.choices[0].message.content, a.choices[0].message.content);
  assert.equal(one1.choices[0].message.content, a.choices[1].message.content);
  // A different seed samples something else.
  const other = await client.chat.completions.create({ ...req, n: 1, seed: 7 });
  assert.notEqual(other.choices[0].message.content, a.choices[0].message.content);
});

test("chat: streamed n=2 tags chunks with their choice index", async () => {
  const body = { messages: hello, max_tokens: 10, temperature: 1, seed: 5, n: 2 };
  const full = JSON.parse((await post(chatUrl(), body)).text);
  const chunks = await streamFrames(chatUrl(), body);
  const by = collectChat(chunks);
  assert.deepEqual([...by.keys()].sort(), [0, 1]);
  for (const i of [0, 1]) {
    assert.deepEqual(by.get(i).first, { role: "assistant", content: "" });
    assert.equal(by.get(i).content, full.choices[i].message.content);
    assert.equal(by.get(i).finish, "length");
  }
});

test("chat: sampling parameters are validated and extensions accepted", async () => {
  const ok = await client.chat.completions.create({
    model: srv.modelId, messages: hello, max_tokens: 3, temperature: 0.7, top_p: 0.9, presence_penalty: 1,
    frequency_penalty: -1, seed: 1, top_k: 20, min_p: 0.05, repetition_penalty: 1.1, user: "u", metadata: { a: "b" },
    store: false, reasoning_effort: "low", parallel_tool_calls: true, some_unknown_field: 1,
  });
  assert.equal(ok.usage.completion_tokens, 3);
  for (const [body, param] of [
    [{ temperature: 2.5 }, "temperature"], [{ temperature: "hot" }, "temperature"], [{ top_p: 1.5 }, "top_p"],
    [{ presence_penalty: -3 }, "presence_penalty"], [{ frequency_penalty: 2.1 }, "frequency_penalty"],
    [{ n: 0 }, "n"], [{ max_tokens: 0 }, "max_tokens"], [{ max_tokens: 1.5 }, "max_tokens"],
    [{ stop: ["a", "b", "c", "d", "e"] }, "stop"], [{ stop: 3 }, "stop"], [{ seed: "x" }, "seed"],
    [{ stream: "yes" }, "stream"], [{ logit_bias: { "100": 5 } }, "logit_bias"],
    [{ response_format: { type: "xml" } }, "response_format"], [{ tool_choice: "sometimes" }, "tool_choice"],
  ]) {
    const r = await post(chatUrl(), { messages: hello, ...body });
    assert.equal(r.status, 400, JSON.stringify(body));
    const e = JSON.parse(r.text).error;
    assert.equal(e.type, "invalid_request_error");
    assert.equal(e.param, param, JSON.stringify(body));
    assert.ok(e.message.includes(param), e.message);
  }
});

test("chat: seeded sampling is reproducible, and differs from greedy", async () => {
  const req = { model: srv.modelId, messages: hello, max_tokens: 16, temperature: 1.0, seed: 1234 };
  const a = await client.chat.completions.create(req);
  const b = await client.chat.completions.create(req);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  const g = await client.chat.completions.create({ ...req, temperature: 0 });
  assert.notEqual(a.choices[0].message.content, g.choices[0].message.content);
  // top_p and top_k reach the sampler: keeping only the most likely token is greedy decoding
  // (with the same seed that gave a different text above).
  assert.equal((await client.chat.completions.create({ ...req, top_p: 1e-6 })).choices[0].message.content, g.choices[0].message.content);
  assert.equal((await client.chat.completions.create({ ...req, top_k: 1 })).choices[0].message.content, g.choices[0].message.content);
});

test("chat: response_format, tools and tool_choice are accepted; tools reach the template", async () => {
  const tools = [{ type: "function", function: { name: "get_weather", description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const plain = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 2 });
  const r = await client.chat.completions.create({
    model: srv.modelId, messages: hello, max_tokens: 2, tools, tool_choice: "auto",
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } },
  });
  assert.equal(r.choices[0].finish_reason, "length");
  assert.ok(r.usage.prompt_tokens > plain.usage.prompt_tokens + 20, "the tool definitions were rendered into the prompt");
  const required = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 1, tools,
    tool_choice: { type: "function", function: { name: "get_weather" } }, response_format: { type: "json_object" } });
  assert.equal(required.choices.length, 1);
  // A whole agent turn: assistant tool call with content null, then the tool result.
  const turn = await client.chat.completions.create({
    model: srv.modelId, max_tokens: 2, tools,
    messages: [
      { role: "system", content: "be brief" }, { role: "user", content: "weather?" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
    ],
  });
  assert.equal(turn.choices[0].message.role, "assistant");
});

test("chat: chat_template_kwargs reach the template (enable_thinking=false writes an empty think block)", async () => {
  const base = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 1 });
  const off = await client.chat.completions.create({
    model: srv.modelId, messages: hello, max_tokens: 1, chat_template_kwargs: { enable_thinking: false },
  });
  // "<think>", "\n\n", "</think>", "\n\n"
  assert.equal(off.usage.prompt_tokens, base.usage.prompt_tokens + 4);
});

// ---------------------------------------------------------------------------------------------
// Reasoning (a template that opens <think> for the model)

test("reasoning: text inside the opened <think> goes to reasoning_content, counted as reasoning tokens", async () => {
  const r = await thinkClient.chat.completions.create({ model: "thinker", messages: hello, max_tokens: 12, temperature: 0 });
  const m = r.choices[0].message;
  assert.ok(m.reasoning_content.length > 0);
  assert.equal(m.content, "", "the block never closed: no answer text");
  assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 12);
  // The same prompt as a raw completion: the model wrote exactly the reasoning text.
  const prompt = "<|im_start|>user\nWrite a short poem about the sea.<|im_end|>\n<|im_start|>assistant\n<think>\n";
  const raw = await thinkClient.completions.create({ model: "thinker", prompt, max_tokens: 12, temperature: 0 });
  assert.equal(raw.usage.prompt_tokens, r.usage.prompt_tokens, "the completions prompt matches the rendered chat prompt");
  assert.equal(m.reasoning_content, raw.choices[0].text);
  // Streamed: reasoning_content deltas, no content beyond the role chunk's "".
  const s = collectChat(await streamFrames(`${thinker.url}/v1/chat/completions`, { messages: hello, max_tokens: 12, temperature: 0 })).get(0);
  assert.equal(s.reasoning, m.reasoning_content);
  assert.equal(s.content, "");
});

test("reasoning: enable_thinking=false closes the block in the prompt: everything is content", async () => {
  const r = await thinkClient.chat.completions.create({
    model: "thinker", messages: hello, max_tokens: 8, temperature: 0, chat_template_kwargs: { enable_thinking: false },
  });
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].message.reasoning_content, undefined);
  assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 0);
});

// ---------------------------------------------------------------------------------------------
// Context limits (--ctx 256)

test("context: max_tokens beyond the room left is clamped; generation ends with length", async () => {
  const r = await smallClient.chat.completions.create({ model: small.modelId, messages: hello, max_tokens: 100000, temperature: 0 });
  assert.equal(r.choices[0].finish_reason, "length");
  assert.equal(r.usage.prompt_tokens + r.usage.completion_tokens, 256);
});

test("context: a prompt longer than the context is a 400 context_length_exceeded naming both numbers", async () => {
  const long = "the quick brown fox jumps over the lazy dog ".repeat(60);
  const err = await smallClient.chat.completions.create({ model: small.modelId, messages: [{ role: "user", content: long }] }).catch((e) => e);
  assert.equal(err.status, 400);
  assert.equal(err.code, "context_length_exceeded");
  assert.equal(err.type, "invalid_request_error");
  const m = err.message.match(/maximum context length is (\d+) tokens.*resulted in (\d+) tokens/);
  assert.ok(m, err.message);
  assert.equal(+m[1], 256);
  assert.ok(+m[2] > 256);
  const c = await post(`${small.url}/v1/completions`, { prompt: long, stream: true });
  assert.equal(c.status, 400);
  assert.equal(JSON.parse(c.text).error.code, "context_length_exceeded");
});

// ---------------------------------------------------------------------------------------------
// Completions

const complUrl = () => `${srv.url}/v1/completions`;

test("completions: non-streaming shape; default max_tokens is 16", async () => {
  const r = await client.completions.create({ model: srv.modelId, prompt: "Once upon a time", temperature: 0 });
  assert.equal(r.object, "text_completion");
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.choices[0].index, 0);
  assert.equal(r.choices[0].finish_reason, "length");
  assert.equal(r.choices[0].logprobs, null);
  assert.equal(r.usage.completion_tokens, 16);
  assert.ok(r.choices[0].text.length > 0);
});

test("completions: streamed text concatenates to the non-streamed text; usage chunk and [DONE]", async () => {
  const body = { prompt: "Once upon a time", temperature: 0, max_tokens: 20, stream_options: { include_usage: true } };
  const full = JSON.parse((await post(complUrl(), body)).text);
  const chunks = await streamFrames(complUrl(), body);
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, full.usage);
  let text = "", finish = null;
  for (const c of chunks.slice(0, -1)) {
    assert.equal(c.object, "text_completion");
    assert.equal(c.choices[0].index, 0);
    text += c.choices[0].text;
    if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
  }
  assert.equal(text, full.choices[0].text);
  assert.equal(finish, "length");
  // The SDK agrees.
  let sdkText = "";
  for await (const c of await client.completions.create({ model: srv.modelId, ...body, stream: true })) {
    for (const ch of c.choices) sdkText += ch.text;
  }
  assert.equal(sdkText, full.choices[0].text);
});

test("completions: echo prepends the prompt, streamed and not", async () => {
  const prompt = "Once upon a time";
  const plain = await client.completions.create({ model: srv.modelId, prompt, temperature: 0, max_tokens: 6 });
  const echo = await client.completions.create({ model: srv.modelId, prompt, temperature: 0, max_tokens: 6, echo: true });
  assert.equal(echo.choices[0].text, prompt + plain.choices[0].text);
  const chunks = await streamFrames(complUrl(), { prompt, temperature: 0, max_tokens: 6, echo: true });
  assert.equal(chunks[0].choices[0].text, prompt, "the echo comes first");
  assert.equal(chunks.map((c) => c.choices[0].text).join(""), echo.choices[0].text);
});

test("completions: prompt forms (list of one string, token ids) and special tokens recognised", async () => {
  const a = await client.completions.create({ model: srv.modelId, prompt: "Hello there", temperature: 0, max_tokens: 5 });
  const b = await client.completions.create({ model: srv.modelId, prompt: ["Hello there"], temperature: 0, max_tokens: 5 });
  assert.equal(b.choices[0].text, a.choices[0].text);
  const ids = await client.completions.create({ model: srv.modelId, prompt: [9707, 1052], temperature: 0, max_tokens: 5, echo: true });
  assert.equal(ids.usage.prompt_tokens, 2);
  assert.ok(ids.choices[0].text.length > 0);
  const nested = await client.completions.create({ model: srv.modelId, prompt: [[9707, 1052]], temperature: 0, max_tokens: 5, echo: true });
  assert.equal(nested.choices[0].text, ids.choices[0].text);
  // "<|im_start|>" is one special token, as Hugging Face's tokenizer(prompt) makes it.
  const sp = await client.completions.create({ model: srv.modelId, prompt: "<|im_start|><|im_start|>", max_tokens: 1 });
  assert.equal(sp.usage.prompt_tokens, 2);
  const bad = await post(complUrl(), { prompt: [1, -2] });
  assert.equal(bad.status, 400);
  const oov = await post(complUrl(), { prompt: [1, 99999999] });
  assert.equal(oov.status, 400);
  assert.match(JSON.parse(oov.text).error.message, /vocabulary/);
  const two = await post(complUrl(), { prompt: ["a", "b"] });
  assert.equal(two.status, 400);
});

test("completions: legacy logprobs shape", async () => {
  const r = await client.completions.create({ model: srv.modelId, prompt: "Once upon a time", temperature: 0, max_tokens: 8, logprobs: 2 });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.tokens.length, 8);
  assert.equal(lp.token_logprobs.length, 8);
  assert.equal(lp.top_logprobs.length, 8);
  assert.equal(lp.text_offset.length, 8);
  assert.equal(lp.tokens.join(""), r.choices[0].text);
  for (let i = 0; i < 8; i++) {
    assert.ok(lp.token_logprobs[i] <= 0);
    const alts = Object.entries(lp.top_logprobs[i]);
    assert.ok(alts.length >= 1 && alts.length <= 2);
    assert.equal(Math.max(...alts.map(([, v]) => v)), lp.token_logprobs[i], "greedy picks the best");
    if (i > 0) assert.equal(lp.text_offset[i], lp.text_offset[i - 1] + Buffer.byteLength(lp.tokens[i - 1]));
  }
  // Streamed: the batches add up to the same.
  const chunks = await streamFrames(complUrl(), { prompt: "Once upon a time", temperature: 0, max_tokens: 8, logprobs: 2 });
  const tokens = chunks.flatMap((c) => c.choices[0].logprobs?.tokens ?? []);
  assert.deepEqual(tokens, lp.tokens);
});

test("completions: n=2 with a seed; suffix, best_of and echo+logprobs are refused clearly", async () => {
  const r = await client.completions.create({ model: srv.modelId, prompt: "Hi", max_tokens: 8, n: 2, seed: 9, best_of: 2 });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
  assert.notEqual(r.choices[0].text, r.choices[1].text);
  for (const [body, param, re] of [
    [{ suffix: "end" }, "suffix", /suffix is not supported/],
    [{ best_of: 3 }, "best_of", /best_of must equal n/],
    [{ echo: true, logprobs: 1 }, "echo", /echo with logprobs/],
    [{ prompt: null }, "prompt", /prompt is required/],
  ]) {
    const res = await post(complUrl(), { prompt: "Hi", ...body });
    assert.equal(res.status, 400, JSON.stringify(body));
    const e = JSON.parse(res.text).error;
    assert.equal(e.param, param);
    assert.match(e.message, re);
  }
});

// ---------------------------------------------------------------------------------------------
// Errors, auth, cancellation

test("errors: malformed JSON, wrong types, missing messages, bad messages, invalid UTF-8", async () => {
  const cases = [
    ['{"messages": [', /not valid JSON/],
    ["[1,2]", /must be a JSON object/],
    [{ model: srv.modelId }, /messages is required/],
    [{ messages: "hi" }, /messages must be an array/],
    [{ messages: [] }, /at least one message/],
    [{ messages: [{ role: "wizard", content: "x" }] }, /role/],
    [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), /UTF-8/],
  ];
  for (const [body, re] of cases) {
    const r = await post(chatUrl(), body);
    assert.equal(r.status, 400, String(body));
    const e = JSON.parse(r.text).error;
    assert.deepEqual(Object.keys(e), ["message", "type", "param", "code"]);
    assert.equal(e.type, "invalid_request_error");
    assert.match(e.message, re);
  }
  const sdkErr = await client.chat.completions.create({ model: srv.modelId, messages: hello, temperature: 9 }).catch((e) => e);
  assert.ok(sdkErr instanceof OpenAI.BadRequestError);
  assert.equal(sdkErr.param, "temperature");
});

test("errors: an unknown model is a 404 model_not_found (both endpoints)", async () => {
  const err = await client.chat.completions.create({ model: "no-such-model", messages: hello }).catch((e) => e);
  assert.ok(err instanceof OpenAI.NotFoundError);
  assert.equal(err.code, "model_not_found");
  assert.match(err.message, /no-such-model/);
  const c = await client.completions.create({ model: "no-such-model", prompt: "x" }).catch((e) => e);
  assert.equal(c.status, 404);
  assert.equal(c.code, "model_not_found");
});

test("auth: --api-key demands the key (401 in OpenAI's shape) and accepts a Bearer token", async () => {
  const r = await post(`${authed.url}/v1/chat/completions`, { messages: hello, max_tokens: 1 });
  assert.equal(r.status, 401);
  const e = JSON.parse(r.text).error;
  assert.equal(e.type, "authentication_error");
  const wrong = new OpenAI({ baseURL: `${authed.url}/v1`, apiKey: "nope", maxRetries: 0 });
  const err = await wrong.chat.completions.create({ model: authed.modelId, messages: hello, max_tokens: 1 }).catch((x) => x);
  assert.ok(err instanceof OpenAI.AuthenticationError);
  const right = new OpenAI({ baseURL: `${authed.url}/v1`, apiKey: "k", maxRetries: 0 });
  const ok = await right.chat.completions.create({ model: authed.modelId, messages: hello, max_tokens: 1 });
  assert.equal(ok.object, "chat.completion");
  const c = await right.completions.create({ model: authed.modelId, prompt: "x", max_tokens: 1 });
  assert.equal(c.object, "text_completion");
});

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return +text.match(new RegExp(`^${name} (\\d+)`, "m"))[1];
}

// Aborts a streamed request once content flows, then waits for the engine to drop its
// sequences. Unless cancelled, the generation would run ~15 s (8000 tokens); the generated-token
// counter (added when a generation ends) shows that it stopped early. KV pages are no measure:
// the prefix cache keeps a finished request's pages.
async function abortMidStream(url, body) {
  const before = await metric(srv.url, "agentserve_generated_tokens_total");
  const ac = new AbortController();
  const res = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }), signal: ac.signal,
  });
  const reader = res.body.getReader();
  let seen = "";
  while (!/"(content|text)":"[^"]/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
  assert.equal(await metric(srv.url, "agentserve_running_sequences"), body.n ?? 1, "the generations run");
  ac.abort();
  let running = -1;
  for (let i = 0; i < 40 && running !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    running = await metric(srv.url, "agentserve_running_sequences");
  }
  assert.equal(running, 0, "every generation of the request stopped after the client left");
  const generated = (await metric(srv.url, "agentserve_generated_tokens_total")) - before;
  assert.ok(generated < 4000 * (body.n ?? 1), `generation stopped early (${generated} tokens)`);
}

test("cancel: aborting a chat stream cancels the generation; the server keeps answering", async () => {
  await abortMidStream(chatUrl(), { messages: hello, max_tokens: 8000, temperature: 0 });
  const r = await client.chat.completions.create({ model: srv.modelId, messages: hello, max_tokens: 3 });
  assert.equal(r.usage.completion_tokens, 3);
});

test("cancel: aborting a stream with n=2 cancels both generations", async () => {
  await abortMidStream(chatUrl(), { messages: hello, max_tokens: 8000, temperature: 1, seed: 3, n: 2 });
});

test("cancel: aborting a completions stream cancels it too", async () => {
  await abortMidStream(complUrl(), { prompt: "Once upon a time", max_tokens: 8000, temperature: 0 });
  const r = await client.completions.create({ model: srv.modelId, prompt: "x", max_tokens: 2 });
  assert.equal(r.usage.completion_tokens, 2);
});

test("prefix cache: a repeated prompt reports its reused tokens in prompt_tokens_details.cached_tokens", async () => {
  const c = new OpenAI({ baseURL: `${authed.url}/v1`, apiKey: "k", maxRetries: 0 });
  const messages = [{ role: "system", content: "You are a careful assistant. ".repeat(20) }, ...hello];
  const first = await c.chat.completions.create({ model: authed.modelId, messages, max_tokens: 2, temperature: 0 });
  const second = await c.chat.completions.create({ model: authed.modelId, messages, max_tokens: 2, temperature: 0 });
  assert.equal(second.usage.prompt_tokens, first.usage.prompt_tokens);
  // Whole 16-token pages, and never the last prompt token (it must be computed for logits).
  const expected = Math.floor((first.usage.prompt_tokens - 1) / 16) * 16;
  assert.ok(expected > 0);
  assert.equal(second.usage.prompt_tokens_details.cached_tokens, expected);
});
