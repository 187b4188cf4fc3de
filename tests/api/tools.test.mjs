// Tool calls end to end: a test model made to write exact tool calls (serve --test-script:
// scripted tokens behind the sampler, the forward pass and everything after it real) must reach
// the official `openai` and `@anthropic-ai/sdk` clients as proper tool calls — streamed as
// generated and whole — and the tool results sent back must render into a prompt that extends
// the previous turn's (the prefix cache reuses it).
//
// The tiny test model uses Qwen3's template, so calls are in the Hermes format.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startServer, parseSse } from "./lib/server.mjs";

const WEATHER_CALL =
  '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';
const FILE_A = 'print("héllo 🌍")\nx = {\'k\': [1, 2]}\n\tif a < b and c > d: pass\n';
const FILE_B = "第二行\n👩‍💻 emoji with joiner";
const TWO_CALLS =
  "I will write both files.\n\n" +
  `<tool_call>\n${JSON.stringify({ name: "write_file", arguments: { path: "a.py", content: FILE_A } })}\n</tool_call>\n` +
  `<tool_call>\n${JSON.stringify({ name: "write_file", arguments: { path: "b/文件.txt", content: FILE_B, mode: { append: false, perms: [6, 4, 4] } } })}\n</tool_call>`;

// Rules are tried in order against the whole rendered prompt, so a later turn's rule (matching
// its tool result) comes before the rule of the turn whose text it repeats.
const RULES = [
  { when: ["18 degrees celsius, sunny"], output: "<think>\nThe tool answered.\n</think>\n\nIt is 18 degrees and sunny in Paris." },
  { when: ["What is the weather in Paris?"], output: `<think>\nI should call the weather tool.\n</think>\n\nLet me check.\n${WEATHER_CALL}` },
  { when: ["Write the two files now."], output: `<think>\nTwo calls.\n</think>\n\n${TWO_CALLS}` },
  { when: ["Think about calling a tool."], output: `<think>\nMaybe ${WEATHER_CALL} but no.\n</think>\n\nNo call needed.` },
  // tool_choice: the server prefills the call's opening, so the prompt ends with it and the
  // model writes the rest. Without the prefill these rules never match.
  { when: ["Name the weather tool.", '<tool_call>\n{"name": "get_weather", "arguments": '], output: '{"city": "Oslo"}}\n</tool_call>' },
  { when: ["Use any tool.", '<tool_call>\n{"name": "'], output: 'get_weather", "arguments": {"city": "Rome"}}\n</tool_call>' },
  { when: ["Break the format."], output: '<think>\nx\n</think>\n\n<tool_call>\nget_weather(city="Paris")\n</tool_call>' },
];

const TOOLS_OPENAI = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather of a city",
      parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } }, required: ["city"] },
    },
  },
  {
    type: "function",
    function: {
      name: "write_file",
      description: "Write a file",
      parameters: { type: "object", properties: { path: { type: "string" }, content: { type: "string" }, mode: { type: "object" } } },
    },
  },
];
const TOOLS_ANTHROPIC = TOOLS_OPENAI.map((t) => ({
  name: t.function.name,
  description: t.function.description,
  input_schema: t.function.parameters,
}));

let srv, openai, anthropic;
before(async () => {
  srv = await startServer({ model: "qwen3-tiny", testScript: { rules: RULES } });
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "dummy", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
});
after(async () => {
  await srv?.stop();
});

const ask = (text) => [{ role: "user", content: text }];

// The KV a follow-up turn can reuse when its prompt starts with the previous turn's prompt and
// everything generated, byte for byte (the call re-rendered by the template exactly as the model
// wrote it): all whole 16-token pages of those tokens but the last generated one (the
// end-of-turn token, whose KV is never computed).
const reusable = (prompt, completion) => Math.floor((prompt + completion - 1) / 16) * 16;

// ---- OpenAI ----

test("OpenAI: a whole response carries the call, content without markers, finish_reason tool_calls", async () => {
  const r = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("What is the weather in Paris?"), tools: TOOLS_OPENAI, max_tokens: 200,
  });
  const choice = r.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, "Let me check.");
  assert.match(choice.message.reasoning_content, /I should call the weather tool\./);
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(call.type, "function");
  assert.equal(call.function.name, "get_weather");
  // The arguments text is the model's own (byte-stable when the client sends it back).
  assert.equal(call.function.arguments, '{"city": "Paris", "unit": "celsius"}');
});

async function streamChat(body) {
  const stream = await openai.chat.completions.create({ ...body, stream: true });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

// Checks OpenAI's delta rules and returns the calls the deltas add up to.
function callsFromDeltas(chunks) {
  const calls = [];
  let content = "";
  for (const c of chunks) {
    const d = c.choices[0]?.delta;
    if (!d) continue;
    if (d.content) content += d.content;
    for (const tc of d.tool_calls ?? []) {
      if (tc.id !== undefined) {
        // The first delta of a call: index, id, type and the whole name, arguments "".
        assert.equal(tc.index, calls.length, "calls are numbered in order");
        assert.equal(tc.type, "function");
        assert.ok(tc.function.name, "never a null or empty name");
        assert.equal(tc.function.arguments, "");
        calls.push({ id: tc.id, name: tc.function.name, arguments: "", fragments: 0 });
      } else {
        // Later deltas: the index and an argument fragment only.
        assert.deepEqual(Object.keys(tc).sort(), ["function", "index"]);
        assert.deepEqual(Object.keys(tc.function), ["arguments"]);
        calls[tc.index].arguments += tc.function.arguments;
        calls[tc.index].fragments++;
      }
    }
  }
  assert.doesNotMatch(content, /tool_call/, "no marker text in content");
  return { calls, content };
}

test("OpenAI stream: tool_calls deltas (id, type, name first; then argument fragments), finish_reason tool_calls", async () => {
  const chunks = await streamChat({ model: srv.modelId, messages: ask("What is the weather in Paris?"), tools: TOOLS_OPENAI, max_tokens: 200 });
  const { calls, content } = callsFromDeltas(chunks);
  assert.equal(content, "Let me check.");
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, "get_weather");
  assert.ok(calls[0].fragments > 1, "arguments arrive as they are generated, in several fragments");
  assert.deepEqual(JSON.parse(calls[0].arguments), { city: "Paris", unit: "celsius" });
  const finish = chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);
  assert.deepEqual(finish, ["tool_calls"]);
});

test("OpenAI stream: two calls with multi-line, Unicode and nested arguments", async () => {
  const chunks = await streamChat({ model: srv.modelId, messages: ask("Write the two files now."), tools: TOOLS_OPENAI, max_tokens: 400 });
  const { calls, content } = callsFromDeltas(chunks);
  assert.equal(content, "I will write both files.");
  assert.deepEqual(calls.map((c) => c.name), ["write_file", "write_file"]);
  assert.notEqual(calls[0].id, calls[1].id);
  const a0 = JSON.parse(calls[0].arguments), a1 = JSON.parse(calls[1].arguments);
  assert.deepEqual(a0, { path: "a.py", content: FILE_A });
  assert.deepEqual(a1, { path: "b/文件.txt", content: FILE_B, mode: { append: false, perms: [6, 4, 4] } });
  assert.deepEqual(Object.keys(a1), ["path", "content", "mode"], "key order as generated");
});

test("OpenAI: parallel_tool_calls false ends the turn after the first call", async () => {
  for (const stream of [false, true]) {
    const body = { model: srv.modelId, messages: ask("Write the two files now."), tools: TOOLS_OPENAI, max_tokens: 400, parallel_tool_calls: false };
    if (!stream) {
      const r = await openai.chat.completions.create(body);
      assert.equal(r.choices[0].finish_reason, "tool_calls");
      assert.equal(r.choices[0].message.tool_calls.length, 1);
      assert.deepEqual(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments), { path: "a.py", content: FILE_A });
    } else {
      const chunks = await streamChat(body);
      const { calls } = callsFromDeltas(chunks);
      assert.equal(calls.length, 1);
      assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean), ["tool_calls"]);
    }
  }
  assert.match(srv.log(), /1 tool call\(s\) allowed per turn/);
});

test("OpenAI: a named tool_choice makes the turn a call to that tool (streamed and whole)", async () => {
  const body = { model: srv.modelId, messages: ask("Name the weather tool."), tools: TOOLS_OPENAI, max_tokens: 100,
                 tool_choice: { type: "function", function: { name: "get_weather" } } };
  const r = await openai.chat.completions.create(body);
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.equal(r.choices[0].message.content, null);
  assert.deepEqual(r.choices[0].message.tool_calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
                   [["get_weather", { city: "Oslo" }]]);
  const { calls, content } = callsFromDeltas(await streamChat(body));
  assert.equal(content, "");
  assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.arguments)]), [["get_weather", { city: "Oslo" }]]);
  assert.match(srv.log(), /tool_choice: the turn starts as the tool "get_weather"/);
});

test("OpenAI: tool_choice required makes the turn a call; the model picks the tool", async () => {
  const r = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("Use any tool."), tools: TOOLS_OPENAI, max_tokens: 100, tool_choice: "required",
  });
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(r.choices[0].message.tool_calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
                   [["get_weather", { city: "Rome" }]]);
});

test("OpenAI: tool_choice naming an undeclared tool, or required without tools, is a 400", async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: srv.modelId, messages: ask("x"), tools: TOOLS_OPENAI, max_tokens: 5,
                                     tool_choice: { type: "function", function: { name: "nope" } } }),
    (e) => e.status === 400 && /nope.*not among the request's tools/.test(e.message));
  await assert.rejects(
    openai.chat.completions.create({ model: srv.modelId, messages: ask("x"), max_tokens: 5, tool_choice: "required" }),
    (e) => e.status === 400 && /no tools/.test(e.message));
});

test("OpenAI: a call written inside the reasoning block is not a call", async () => {
  const r = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("Think about calling a tool."), tools: TOOLS_OPENAI, max_tokens: 200,
  });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(m.tool_calls, undefined);
  assert.equal(m.content, "No call needed.");
  assert.match(m.reasoning_content, /<tool_call>/, "the reasoning keeps what the model wrote");
});

test("OpenAI: tool_choice none returns the model's call as text", async () => {
  const r = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("What is the weather in Paris?"), tools: TOOLS_OPENAI, tool_choice: "none", max_tokens: 200,
  });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(m.tool_calls, undefined);
  assert.equal(m.content, `Let me check.\n${WEATHER_CALL}`);
});

test("OpenAI: output that breaks the format comes back as text (streamed and whole), with a warning", async () => {
  const body = { model: srv.modelId, messages: ask("Break the format."), tools: TOOLS_OPENAI, max_tokens: 200 };
  const raw = '<tool_call>\nget_weather(city="Paris")\n</tool_call>';
  const r = await openai.chat.completions.create(body);
  assert.equal(r.choices[0].message.content, raw);
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.equal(r.choices[0].finish_reason, "stop");
  const chunks = await streamChat(body);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  assert.equal(text, raw);
  assert.ok(!chunks.some((c) => c.choices[0]?.delta?.tool_calls), "no call was announced");
  assert.match(srv.log(), /warn +hermes tool call malformed before its name \(.*\); kept as text/);
});

test("OpenAI: a call cut off by max_tokens is not a call in a whole response (its text is kept)", async () => {
  const r = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("What is the weather in Paris?"), tools: TOOLS_OPENAI, max_tokens: 33,
  });
  const c = r.choices[0];
  assert.equal(c.finish_reason, "length");
  assert.equal(c.message.tool_calls, undefined);
  assert.match(c.message.content, /^Let me check\.\n<tool_call>\n\{"name": "get_weather"/);
});

test("OpenAI: the tool result turn extends the call turn's prompt and output (prefix cache hit)", async () => {
  const first = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("What is the weather in Paris?"), tools: TOOLS_OPENAI, max_tokens: 200,
  });
  const msg = first.choices[0].message;
  const second = await openai.chat.completions.create({
    model: srv.modelId,
    tools: TOOLS_OPENAI,
    max_tokens: 200,
    messages: [
      ...ask("What is the weather in Paris?"),
      // reasoning_content too: Qwen3's template prints the last turn's reasoning back.
      { role: "assistant", content: msg.content, reasoning_content: msg.reasoning_content, tool_calls: msg.tool_calls },
      { role: "tool", tool_call_id: msg.tool_calls[0].id, content: "18 degrees celsius, sunny" },
    ],
  });
  assert.equal(second.choices[0].message.content, "It is 18 degrees and sunny in Paris.");
  assert.equal(second.choices[0].finish_reason, "stop");
  const p1 = first.usage.prompt_tokens;
  const cached = second.usage.prompt_tokens_details.cached_tokens;
  assert.ok(cached >= reusable(p1, first.usage.completion_tokens),
            `cached ${cached}: turn 1 was ${p1} prompt + ${first.usage.completion_tokens} generated tokens`);
  console.log(`OpenAI turn 2: ${cached} cached of ${second.usage.prompt_tokens}; turn 1 was ${p1} + ${first.usage.completion_tokens} generated`);
});

// ---- Anthropic ----

test("Anthropic: a whole message has thinking, text and tool_use blocks, stop_reason tool_use", async () => {
  const m = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 200, messages: ask("What is the weather in Paris?"), tools: TOOLS_ANTHROPIC,
  });
  assert.equal(m.stop_reason, "tool_use");
  assert.deepEqual(m.content.map((b) => b.type), ["thinking", "text", "tool_use"]);
  assert.equal(m.content[1].text, "Let me check.");
  const use = m.content[2];
  assert.match(use.id, /^toolu_[A-Za-z0-9]{24}$/);
  assert.equal(use.name, "get_weather");
  assert.deepEqual(use.input, { city: "Paris", unit: "celsius" });
});

async function rawStream(body) {
  const res = await fetch(`${srv.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  return parseSse(await res.text()).filter((f) => f.event !== "ping");
}

test("Anthropic stream: tool_use blocks start with id, name and input {}, then input_json_delta fragments", async () => {
  const frames = await rawStream({
    model: "claude-sonnet-4-5", max_tokens: 400, messages: ask("Write the two files now."), tools: TOOLS_ANTHROPIC,
  });
  const blocks = [];
  let open = null;
  for (const f of frames) {
    const d = f.data;
    if (f.event === "content_block_start") {
      assert.equal(open, null, "a block is closed before the next opens");
      assert.equal(d.index, blocks.length, "indices are sequential");
      open = { ...d.content_block, json: "", fragments: 0 };
      if (open.type === "tool_use") {
        assert.match(open.id, /^toolu_/);
        assert.deepEqual(open.input, {});
      }
    } else if (f.event === "content_block_delta") {
      assert.equal(d.index, blocks.length);
      if (d.delta.type === "input_json_delta") {
        assert.equal(open.type, "tool_use");
        open.json += d.delta.partial_json;
        open.fragments++;
      } else if (d.delta.type === "text_delta") {
        assert.equal(open.type, "text");
        open.text += d.delta.text;
      }
    } else if (f.event === "content_block_stop") {
      blocks.push(open);
      open = null;
    }
  }
  assert.deepEqual(blocks.map((b) => b.type), ["thinking", "text", "tool_use", "tool_use"]);
  assert.equal(blocks[1].text, "I will write both files.");
  assert.ok(blocks[2].fragments > 1, "input streams as it is generated");
  assert.deepEqual(JSON.parse(blocks[2].json), { path: "a.py", content: FILE_A });
  assert.deepEqual(JSON.parse(blocks[3].json), { path: "b/文件.txt", content: FILE_B, mode: { append: false, perms: [6, 4, 4] } });
  const delta = frames.find((f) => f.event === "message_delta").data;
  assert.equal(delta.delta.stop_reason, "tool_use");
});

test("Anthropic SDK stream: finalMessage() has the calls; the tool_result turn reuses the call turn's prompt and output", async () => {
  const stream = anthropic.messages.stream({
    model: "claude-sonnet-4-5", max_tokens: 200, messages: ask("What is the weather in Paris?"), tools: TOOLS_ANTHROPIC,
  });
  const first = await stream.finalMessage();
  assert.equal(first.stop_reason, "tool_use");
  const use = first.content.find((b) => b.type === "tool_use");
  assert.deepEqual(use.input, { city: "Paris", unit: "celsius" });

  const second = await anthropic.messages.create({
    model: "claude-sonnet-4-5",
    max_tokens: 200,
    tools: TOOLS_ANTHROPIC,
    messages: [
      ...ask("What is the weather in Paris?"),
      { role: "assistant", content: first.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "18 degrees celsius, sunny" }] },
    ],
  });
  assert.equal(second.stop_reason, "end_turn");
  assert.equal(second.content.find((b) => b.type === "text").text, "It is 18 degrees and sunny in Paris.");
  const p1 = first.usage.input_tokens + first.usage.cache_read_input_tokens;
  assert.ok(second.usage.cache_read_input_tokens >= reusable(p1, first.usage.output_tokens),
            `cached ${second.usage.cache_read_input_tokens}: turn 1 was ${p1} prompt + ${first.usage.output_tokens} generated tokens`);
  console.log(`Anthropic turn 2: ${second.usage.cache_read_input_tokens} cached of ` +
              `${second.usage.input_tokens + second.usage.cache_read_input_tokens}; turn 1 was ${p1} + ${first.usage.output_tokens} generated`);
});

test("Anthropic: disable_parallel_tool_use ends the turn after the first call", async () => {
  const m = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 400, messages: ask("Write the two files now."), tools: TOOLS_ANTHROPIC,
    tool_choice: { type: "auto", disable_parallel_tool_use: true },
  });
  assert.equal(m.stop_reason, "tool_use");
  assert.deepEqual(m.content.map((b) => b.type), ["thinking", "text", "tool_use"]);
  assert.deepEqual(m.content[2].input, { path: "a.py", content: FILE_A });
});

test("Anthropic: tool_choice tool and any make the turn a call", async () => {
  const named = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 100, messages: ask("Name the weather tool."), tools: TOOLS_ANTHROPIC,
    tool_choice: { type: "tool", name: "get_weather" },
  });
  assert.equal(named.stop_reason, "tool_use");
  assert.deepEqual(named.content.map((b) => [b.type, b.name, b.input]), [["tool_use", "get_weather", { city: "Oslo" }]]);
  const any = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 100, messages: ask("Use any tool."), tools: TOOLS_ANTHROPIC,
    tool_choice: { type: "any" },
  });
  assert.deepEqual(any.content.map((b) => [b.type, b.name, b.input]), [["tool_use", "get_weather", { city: "Rome" }]]);
  // count_tokens stays exact: it counts the prefilled opening too.
  const counted = await anthropic.messages.countTokens({
    model: "claude-sonnet-4-5", messages: ask("Use any tool."), tools: TOOLS_ANTHROPIC, tool_choice: { type: "any" },
  });
  assert.equal(counted.input_tokens, any.usage.input_tokens + any.usage.cache_read_input_tokens);
  await assert.rejects(
    anthropic.messages.create({ model: "claude-sonnet-4-5", max_tokens: 5, messages: ask("x"), tools: TOOLS_ANTHROPIC,
                                tool_choice: { type: "tool", name: "nope" } }),
    (e) => e.status === 400 && e.error?.error?.type === "invalid_request_error");
});

test("Anthropic: tool_choice none returns the call as text", async () => {
  const m = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 200, messages: ask("What is the weather in Paris?"),
    tools: TOOLS_ANTHROPIC, tool_choice: { type: "none" },
  });
  assert.equal(m.stop_reason, "end_turn");
  assert.ok(!m.content.some((b) => b.type === "tool_use"));
  assert.equal(m.content.find((b) => b.type === "text").text, `Let me check.\n${WEATHER_CALL}`);
});
