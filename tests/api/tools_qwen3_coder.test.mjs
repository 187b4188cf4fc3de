// Qwen3-Coder's XML tool calls end to end — the format every peer has shipped bugs in (calls
// left in content, dropped, rejected on long file writes). The tiny test model serves Qwen3-
// Coder's real chat template (tests/template/fixtures), so the format is detected from it; the model
// is scripted (serve --test-script) to write calls whose values the parser types from the
// tool's JSON schema.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startServer, derivedModel } from "./lib/server.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TEMPLATE = path.join(ROOT, "tests/template/fixtures/qwen3-coder.jinja");

function coderModel() {
  return derivedModel("qwen3-tiny-coder-template", (dir) => {
    const cfgPath = path.join(dir, "tokenizer_config.json");
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    cfg.chat_template = fs.readFileSync(TEMPLATE, "utf8");
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  });
}

// A file body with what breaks naive parsers: XML-looking text, a closing tag that is not
// </parameter>, quotes, backslashes, tabs, Unicode.
const BODY = '[server]\nname = "x < y" # <b>bold</b>\npath = "C:\\\\temp"\n\tindent = "中文 👩‍💻"\n</para> is not the end';
const WRITE_CALL =
  "<tool_call>\n<function=write_file>\n<parameter=path>\nconf/app.toml\n</parameter>\n" +
  `<parameter=content>\n${BODY}\n</parameter>\n<parameter=mode>\n420\n</parameter>\n</function>\n</tool_call>`;
const TYPED_CALL =
  "<tool_call>\n<function=configure>\n<parameter=retries>\n3\n</parameter>\n<parameter=ratio>\n0.5\n</parameter>\n" +
  '<parameter=verbose>\ntrue\n</parameter>\n<parameter=tags>\n["a", "b"]\n</parameter>\n<parameter=limits>\n{"cpu": 2}\n</parameter>\n' +
  "<parameter=label>\n007\n</parameter>\n</function>\n</tool_call>";

const RULES = [
  { when: ["wrote 96 bytes"], output: "Done: conf/app.toml is written." },
  { when: ["Create the config file."], output: `I'll create it.\n\n${WRITE_CALL}` },
  { when: ["Configure the service."], output: TYPED_CALL },
];

const TOOLS = [
  {
    type: "function",
    function: {
      name: "write_file",
      description: "Write a file",
      parameters: {
        type: "object",
        properties: { path: { type: "string" }, content: { type: "string" }, mode: { type: "integer" } },
        required: ["path", "content"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "configure",
      description: "Configure the service",
      parameters: {
        type: "object",
        properties: {
          retries: { type: "integer" }, ratio: { type: "number" }, verbose: { type: "boolean" },
          tags: { type: "array", items: { type: "string" } }, limits: { type: "object" }, label: { type: "string" },
        },
      },
    },
  },
];
const WRITE_ARGS = { path: "conf/app.toml", content: BODY, mode: 420 };
const reusable = (prompt, completion) => Math.floor((prompt + completion - 1) / 16) * 16;

let srv, openai, anthropic;
before(async () => {
  srv = await startServer({ modelDir: coderModel(), testScript: { rules: RULES } });
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "dummy", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
});
after(async () => {
  await srv?.stop();
});

test("the format is detected from Qwen3-Coder's template", () => {
  assert.match(srv.log(), /tools\s+qwen3_coder \(detected from the chat template\)/);
});

test("OpenAI stream: the XML call arrives as tool_calls deltas, string values streamed, typed by the schema", async () => {
  const stream = await openai.chat.completions.create({
    model: srv.modelId, messages: [{ role: "user", content: "Create the config file." }], tools: TOOLS,
    max_tokens: 300, stream: true,
  });
  let content = "", name = null, args = "", fragments = 0, finish = null;
  for await (const c of stream) {
    const d = c.choices[0]?.delta ?? {};
    if (d.content) content += d.content;
    for (const tc of d.tool_calls ?? []) {
      if (tc.id) name = tc.function.name;
      else { args += tc.function.arguments; fragments++; }
    }
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(content, "I'll create it.");
  assert.equal(name, "write_file");
  assert.ok(fragments > 5, `the file body streams as it is generated (${fragments} fragments)`);
  assert.deepEqual(JSON.parse(args), WRITE_ARGS);
  assert.equal(finish, "tool_calls");
});

test("Anthropic: every JSON type from the schema (integer, number, boolean, array, object; a string stays text)", async () => {
  const m = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 300, messages: [{ role: "user", content: "Configure the service." }],
    tools: TOOLS.map((t) => ({ name: t.function.name, description: t.function.description, input_schema: t.function.parameters })),
  });
  assert.equal(m.stop_reason, "tool_use");
  assert.deepEqual(m.content.map((b) => b.type), ["tool_use"]);
  assert.deepEqual(m.content[0].input, { retries: 3, ratio: 0.5, verbose: true, tags: ["a", "b"], limits: { cpu: 2 }, label: "007" });
});

test("Anthropic: the tool_result turn reuses the call turn's prompt and output (the XML re-renders byte for byte)", async () => {
  const tools = TOOLS.map((t) => ({ name: t.function.name, description: t.function.description, input_schema: t.function.parameters }));
  const ask = [{ role: "user", content: "Create the config file." }];
  const first = await anthropic.messages.create({ model: "claude-sonnet-4-5", max_tokens: 300, messages: ask, tools });
  const use = first.content.find((b) => b.type === "tool_use");
  assert.deepEqual(use.input, WRITE_ARGS);
  const second = await anthropic.messages.create({
    model: "claude-sonnet-4-5", max_tokens: 300, tools,
    messages: [...ask, { role: "assistant", content: first.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "wrote 96 bytes" }] }],
  });
  assert.equal(second.content[0].text, "Done: conf/app.toml is written.");
  const p1 = first.usage.input_tokens + first.usage.cache_read_input_tokens;
  assert.ok(second.usage.cache_read_input_tokens >= reusable(p1, first.usage.output_tokens),
            `cached ${second.usage.cache_read_input_tokens}: turn 1 was ${p1} + ${first.usage.output_tokens}`);
});
