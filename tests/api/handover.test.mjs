// The engine wakes the I/O threads for a step's tokens in groups (serve --handover-us, default
// 100 µs). With the widest window, concurrent streams must carry exactly what they carry with a
// wake-up per token: every token, in order, each stream's own, and the finish after the last.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, parseSse } from "./lib/server.mjs";

let grouped, single;
before(async () => {
  [grouped, single] = await Promise.all([
    startServer({ model: "qwen3-tiny", args: ["--handover-us", "900", "--parallel", "16", "--no-prefix-cache"] }),
    startServer({ model: "qwen3-tiny", args: ["--handover-us", "0", "--parallel", "16", "--no-prefix-cache"] }),
  ]);
});
after(async () => {
  await Promise.all([grouped?.stop(), single?.stop()]);
});

async function streamText(url, i) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ stream: true, stream_options: { include_usage: true }, temperature: 0,
                           max_tokens: 24 + (i % 5), ignore_eos: true,
                           messages: [{ role: "user", content: `Stream ${i}: tell me about the sea.` }] }),
  });
  assert.equal(res.status, 200);
  const frames = parseSse(await res.text());
  assert.equal(frames.at(-1).data, "[DONE]");
  const chunks = frames.filter((f) => f.data !== "[DONE]").map((f) => f.data);
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta?.content ?? "")).join("");
  const finish = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean);
  return { text, finish, usage: chunks.at(-1).usage };
}

test("16 concurrent streams carry the same tokens with grouped wake-ups as with one per token", async () => {
  const n = 16;
  const [a, b] = await Promise.all([
    Promise.all(Array.from({ length: n }, (_, i) => streamText(grouped.url, i))),
    Promise.all(Array.from({ length: n }, (_, i) => streamText(single.url, i))),
  ]);
  for (let i = 0; i < n; ++i) {
    assert.equal(a[i].usage.completion_tokens, 24 + (i % 5), `stream ${i}`);
    assert.deepEqual(a[i].finish, ["length"], `stream ${i}`);
    assert.equal(a[i].text, b[i].text, `stream ${i}`);
    assert.deepEqual(a[i].usage, b[i].usage, `stream ${i}`);
  }
  // Different prompts: the streams did not get each other's tokens.
  assert.ok(new Set(a.map((r) => r.text)).size > n / 2);
  // And in time: a token's wake-up waits at most the window (0.9 ms), not for a later event
  // such as the request's finish (which would hold early tokens for the whole generation:
  // tens of ms here). Loose bounds for a busy 2-core CI machine.
  const text = await (await fetch(`${grouped.url}/metrics`)).text();
  const metric = (name) => Number(text.match(new RegExp(`^${name.replace(/[{}"+.]/g, "\\$&")} (\\S+)$`, "m"))[1]);
  const all = metric("agentserve_token_to_socket_seconds_count");
  const within10ms = metric('agentserve_token_to_socket_seconds_bucket{le="0.01"}');
  assert.ok(all >= n * 12, `${all} writes measured`);  // a write per token, but some carry several
  assert.ok(within10ms / all >= 0.8, `${within10ms} of ${all} writes reached the socket within 10 ms`);
});
