// How Anthropic request content reaches the prompt, checked through exact token counts
// (count_tokens renders through the same path as /v1/messages) and greedy outputs: same-role
// turns merged, images as "[image]", document text, tool_result content lists and is_error, and
// the sampling fields top_k / top_p; plus count_tokens under a burst of concurrent calls, as
// Claude Code sends them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { startServer } from "./lib/server.mjs";

let srv, client;
before(async () => {
  // Outputs are compared request to request: no prefix cache (see anthropic.test.mjs).
  srv = await startServer({ model: "qwen3-tiny", args: ["--no-prefix-cache"] });
  client = new Anthropic({ baseURL: srv.url, apiKey: "dummy", maxRetries: 0 });
});
after(async () => {
  await srv?.stop();
});

const MODEL = "claude-sonnet-4-6";
const count = async (body) => (await client.messages.countTokens({ model: MODEL, ...body })).input_tokens;
const text = (t) => ({ type: "text", text: t });
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

test("consecutive turns of one role are merged into one turn of their blocks", async () => {
  const merged = await count({ messages: [{ role: "user", content: [text("First part."), text("Second part.")] }] });
  assert.equal(await count({ messages: [{ role: "user", content: "First part." }, { role: "user", content: "Second part." }] }), merged);
  // Not dropped, not rendered as two turns: both would change the count.
  assert.notEqual(await count({ messages: [{ role: "user", content: "First part." }] }), merged);
  assert.notEqual(await count({ messages: [{ role: "user", content: "First part." }, { role: "assistant", content: "ok" },
                                           { role: "user", content: "Second part." }] }), merged);
  // Assistant turns too, and the merged conversation generates what the one-turn form does.
  const split = [{ role: "user", content: "Hi." }, { role: "assistant", content: "Hello" }, { role: "assistant", content: "there." },
                 { role: "user", content: "Go on." }];
  const joined = [{ role: "user", content: "Hi." }, { role: "assistant", content: [text("Hello"), text("there.")] },
                  { role: "user", content: "Go on." }];
  assert.equal(await count({ messages: split }), await count({ messages: joined }));
  const a = await client.messages.create({ model: MODEL, max_tokens: 8, temperature: 0, messages: split });
  const b = await client.messages.create({ model: MODEL, max_tokens: 8, temperature: 0, messages: joined });
  assert.equal(a.content[0].text, b.content[0].text);
  assert.equal(a.usage.input_tokens, b.usage.input_tokens);
});

test("images (base64 and URL) become the text [image]; the text around them stays", async () => {
  const asText = await count({ messages: [{ role: "user", content: [text("[image]"), text("What is in it?")] }] });
  assert.equal(await count({ messages: [{ role: "user", content: [
    { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }, text("What is in it?")] }] }), asText);
  assert.equal(await count({ messages: [{ role: "user", content: [
    { type: "image", source: { type: "url", url: "https://example.com/cat.png" } }, text("What is in it?")] }] }), asText);
});

test("documents with a text source become their text", async () => {
  const asText = await count({ messages: [{ role: "user", content: [text("The contract says: pay on time."), text("Summarise.")] }] });
  assert.equal(await count({ messages: [{ role: "user", content: [
    { type: "document", source: { type: "text", media_type: "text/plain", data: "The contract says: pay on time." } },
    text("Summarise.")] }] }), asText);
  assert.equal(await count({ messages: [{ role: "user", content: [
    { type: "document", source: { type: "content", content: [text("The contract says:"), text("pay on time.")] } },
    text("Summarise.")] }] }),
  await count({ messages: [{ role: "user", content: [text("The contract says:\npay on time."), text("Summarise.")] }] }));
});

test("tool_result: a content list of text and image, and is_error marked as Error:", async () => {
  const tools = [{ name: "read", description: "Read a file", input_schema: { type: "object", properties: { path: { type: "string" } } } }];
  const conv = (result) => ({
    tools,
    messages: [
      { role: "user", content: "Read a.txt" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "read", input: { path: "a.txt" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", ...result }] },
    ],
  });
  assert.equal(await count(conv({ content: [text("line one"), { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }] })),
               await count(conv({ content: [text("line one"), text("[image]")] })));
  const failed = await count(conv({ content: "file not found", is_error: true }));
  assert.equal(failed, await count(conv({ content: "Error: file not found" })));
  assert.notEqual(failed, await count(conv({ content: "file not found" })));
  assert.equal(await count(conv({ content: [], is_error: true })), await count(conv({ content: "Error:" })));
});

test("top_k and top_p reach the sampler; service_tier is accepted", async () => {
  const ask = (extra) => client.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "Tell me a story." }], ...extra });
  const greedy = (await ask({ temperature: 0 })).content[0].text;
  // Temperature 1 over this random model's near-flat distribution: a different text (checked,
  // so the two cases below cannot pass by chance) ...
  const free = await Promise.all([1, 2, 3].map(() => ask({ temperature: 1 })));
  assert.ok(free.some((r) => r.content[0].text !== greedy), "temperature 1 alone samples");
  // ... while keeping only the most likely token is greedy decoding.
  assert.equal((await ask({ temperature: 1, top_k: 1 })).content[0].text, greedy);
  assert.equal((await ask({ temperature: 1, top_p: 1e-6 })).content[0].text, greedy);
  assert.equal((await ask({ temperature: 0, service_tier: "auto" })).content[0].text, greedy);
  await assert.rejects(ask({ top_k: -1 }), (e) => e.status === 400 && /top_k/.test(e.message));
  await assert.rejects(ask({ top_p: 1.5 }), (e) => e.status === 400 && /top_p/.test(e.message));
});

test("count_tokens: 48 concurrent calls (Claude Code sends bursts) all get the exact count", async () => {
  const body = { system: "You are a careful assistant. ".repeat(200), messages: [{ role: "user", content: "Count me. ".repeat(300) }] };
  const expected = await count(body);
  assert.ok(expected > 1000);
  const all = await Promise.all(Array.from({ length: 48 }, () => count(body)));
  assert.deepEqual(all, Array(48).fill(expected));
});
