// Streams must not go quiet during a long prefill: Claude Code aborts a stream after 300 s
// without bytes, and proxies time out idle connections. The server sends its first frame as soon
// as the prompt is rendered, then a keep-alive frame whenever the stream has been quiet for
// --ping-interval-ms: Anthropic `event: ping`, OpenAI an SSE comment. A ~4k-token prompt on the
// tiny model prefills for a second or more on 2 cores; with a 20 ms interval, pings must arrive
// between the first frame and the first generated text.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";

let srv;
before(async () => {
  srv = await startServer({ model: "qwen3-tiny", args: ["--ctx", "16384", "--ping-interval-ms", "20", "--no-prefix-cache"] });
});
after(async () => {
  await srv?.stop();
});

const longText = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(" ");

// The raw SSE text of a streamed request, with the arrival time of each chunk.
async function rawStream(path, body, headers = {}) {
  const res = await fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of res.body) text += decoder.decode(chunk, { stream: true });
  return text;
}

test("Anthropic: message_start at once, pings during the prefill, then the content", async () => {
  const text = await rawStream("/v1/messages",
    { model: "claude-x", max_tokens: 3, stream: true, messages: [{ role: "user", content: longText }] },
    { "anthropic-version": "2023-06-01" });
  const events = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
  assert.equal(events[0], "message_start");
  const firstBlock = events.indexOf("content_block_start");
  assert.ok(firstBlock > 0, "a content block follows");
  const pingsBefore = events.slice(1, firstBlock).filter((e) => e === "ping").length;
  assert.ok(pingsBefore >= 3, `pings while the prompt was prefilled: ${pingsBefore}`);
  for (const m of text.matchAll(/^event: ping\ndata: (.*)$/gm)) assert.deepEqual(JSON.parse(m[1]), { type: "ping" });
  assert.equal(events.at(-1), "message_stop");
});

test("OpenAI: the role chunk at once, keep-alive comments during the prefill, then the content", async () => {
  const text = await rawStream("/v1/chat/completions",
    { max_tokens: 3, stream: true, messages: [{ role: "user", content: longText }] });
  const blocks = text.split("\n\n").filter((b) => b.length > 0);
  assert.match(blocks[0], /^data: .*"role":"assistant"/);
  const firstContent = blocks.findIndex((b) => b.startsWith("data: ") && /"content":"[^"]/.test(b));
  assert.ok(firstContent > 0, "content follows");
  const comments = blocks.slice(1, firstContent).filter((b) => b.startsWith(":")).length;
  assert.ok(comments >= 3, `keep-alive comments while the prompt was prefilled: ${comments}`);
  assert.equal(blocks.at(-1), "data: [DONE]");
});
