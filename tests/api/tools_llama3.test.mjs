// Llama 3.x JSON tool calls end to end: the tiny Llama test model (the real Llama 3 tokenizer)
// serves Llama 3.3's real chat template (tests/template/fixtures), so the format is detected as
// llama3_json, and is scripted (serve --test-script) to answer with a call as its whole turn,
// with `<|python_tag|>` before it, or with a JSON answer that is not a call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startServer, derivedModel } from "./lib/server.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function llamaToolModel() {
  return derivedModel("llama-tiny-llama33-template", (dir) => {
    const cfgPath = path.join(dir, "tokenizer_config.json");
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    cfg.chat_template = fs.readFileSync(path.join(ROOT, "tests/template/fixtures/llama-3.3.jinja"), "utf8");
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  }, "llama-tiny");
}

const RULES = [
  { when: ["14 degrees and cloudy"], output: "Lima is at 14 degrees and cloudy." },
  { when: ["What is the weather in Lima?"], output: '{"name": "get_weather", "parameters": {"city": "Lima", "days": 3}}' },
  { when: ["Use the python tag."], output: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Quito"}}' },
  { when: ["Answer in JSON please."], output: '{"answer": 42, "name": "x"}' },
];

const TOOLS = [{
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] },
  },
}];
const reusable = (prompt, completion) => Math.floor((prompt + completion - 1) / 16) * 16;

let srv, openai, anthropic;
before(async () => {
  srv = await startServer({ modelDir: llamaToolModel(), testScript: { rules: RULES } });
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "dummy", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
});
after(async () => {
  await srv?.stop();
});

const ask = (text) => [{ role: "user", content: text }];

test("the format is detected from Llama 3.3's template", () => {
  assert.match(srv.log(), /tools\s+llama3_json \(detected from the chat template\)/);
});

test("OpenAI stream: a turn that is a JSON call arrives as a tool call; the next turn reuses it all", async () => {
  const stream = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("What is the weather in Lima?"), tools: TOOLS, max_tokens: 100, stream: true,
    stream_options: { include_usage: true },
  });
  let content = "", id = null, name = null, args = "", finish = null, usage = null;
  for await (const c of stream) {
    const d = c.choices[0]?.delta ?? {};
    content += d.content ?? "";
    for (const tc of d.tool_calls ?? []) {
      if (tc.id) [id, name] = [tc.id, tc.function.name];
      else args += tc.function.arguments;
    }
    finish = c.choices[0]?.finish_reason ?? finish;
    usage = c.usage ?? usage;
  }
  assert.equal(content, "");
  assert.equal(name, "get_weather");
  assert.deepEqual(JSON.parse(args), { city: "Lima", days: 3 });
  assert.equal(finish, "tool_calls");

  const second = await openai.chat.completions.create({
    model: srv.modelId, tools: TOOLS, max_tokens: 100,
    messages: [...ask("What is the weather in Lima?"),
      { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name, arguments: args } }] },
      { role: "tool", tool_call_id: id, content: "14 degrees and cloudy" }],
  });
  assert.equal(second.choices[0].message.content, "Lima is at 14 degrees and cloudy.");
  assert.ok(second.usage.prompt_tokens_details.cached_tokens >= reusable(usage.prompt_tokens, usage.completion_tokens),
            `cached ${second.usage.prompt_tokens_details.cached_tokens}: turn 1 was ${usage.prompt_tokens} + ${usage.completion_tokens}`);
});

test("Anthropic: a call after <|python_tag|> is a tool_use block", async () => {
  const m = await anthropic.messages.create({
    model: "claude-haiku-4-5", max_tokens: 100, messages: ask("Use the python tag."),
    tools: TOOLS.map((t) => ({ name: t.function.name, description: t.function.description, input_schema: t.function.parameters })),
  });
  assert.equal(m.stop_reason, "tool_use");
  assert.deepEqual(m.content.map((b) => [b.type, b.name, b.input]), [["tool_use", "get_weather", { city: "Quito" }]]);
});

test("a JSON answer that is not a call stays text", async () => {
  const r = await openai.chat.completions.create({
    model: srv.modelId, messages: ask("Answer in JSON please."), tools: TOOLS, max_tokens: 100,
  });
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.equal(r.choices[0].message.content, '{"answer": 42, "name": "x"}');
});
