// The prefix cache's introspection endpoints (GET /v1/cache, POST /v1/cache/clear), their
// metrics, and the debug-level divergence log. A real `agentserve serve` on the tiny Qwen3 model.
//
// Every prompt starts with a per-run nonce: a cache that outlives the process (a disk tier)
// must not answer from an earlier run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, parseSse } from "./lib/server.mjs";

const NONCE = `run ${process.pid}-${Date.now()}`;
let srv, authed, nocache, debug;

before(async () => {
  [srv, authed, nocache, debug] = await Promise.all([
    startServer({ model: "qwen3-tiny" }),
    startServer({ model: "qwen3-tiny", args: ["--api-key", "sekret"] }),
    startServer({ model: "qwen3-tiny", args: ["--no-prefix-cache"] }),
    startServer({ model: "qwen3-tiny", args: ["--log-level", "debug"] }),
  ]);
});
after(async () => {
  await Promise.all([srv?.stop(), authed?.stop(), nocache?.stop(), debug?.stop()]);
});

const json = (headers = {}) => ({ "content-type": "application/json", ...headers });

async function getCache(s, headers = {}) {
  const r = await fetch(`${s.url}/v1/cache`, { headers });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

async function clearCache(s, headers = {}) {
  const r = await fetch(`${s.url}/v1/cache/clear`, { method: "POST", headers });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

// A non-streamed completion; returns its usage.
async function complete(s, prompt, extra = {}, headers = {}) {
  const r = await fetch(`${s.url}/v1/completions`, {
    method: "POST",
    headers: json(headers),
    body: JSON.stringify({ prompt, max_tokens: 2, temperature: 0, ...extra }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).usage;
}

const longPrompt = (tag) => `${NONCE} ${tag}: ` + "the quick brown fox jumps over the lazy dog. ".repeat(20);

test("GET /v1/cache: the device tier, entries, cached tokens, lookups, hits and ratios", async () => {
  const before = await getCache(srv);
  assert.equal(before.enabled, true);
  assert.equal(before.page_size, 16);
  assert.equal(before.tiers[0].tier, "device");
  const prompt = longPrompt("stats");
  const first = await complete(srv, prompt);
  const second = await complete(srv, prompt);
  assert.ok(second.prompt_tokens_details.cached_tokens > 0, JSON.stringify(second));
  const c = await getCache(srv);
  assert.equal(c.lookups - before.lookups, 2);
  assert.equal(c.hits - before.hits, 1 + (first.prompt_tokens_details.cached_tokens > 0 ? 1 : 0));
  assert.equal(c.hit_ratio, c.hits / c.lookups);
  assert.ok(c.reused_tokens - before.reused_tokens >= second.prompt_tokens_details.cached_tokens);
  const device = c.tiers.find((t) => t.tier === "device");
  // Both requests' prompt pages (and the output's) are cached, one copy.
  assert.ok(device.pages * 16 >= first.prompt_tokens - 16, JSON.stringify(c));
  assert.equal(c.cached_tokens, device.pages * c.page_size);
  assert.ok(device.bytes > 0 && device.bytes % device.pages === 0);
  assert.ok(device.capacity_pages >= device.pages && device.capacity_bytes >= device.bytes);
  assert.ok(c.entries >= 1);
  assert.ok(c.reused_token_ratio > 0 && c.reused_token_ratio <= 1);
  assert.equal(device.capacity_bytes, device.capacity_pages * (device.bytes / device.pages));
});

test("the RAM and disk tiers are listed when configured, and a clear empties them", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agentserve-cache-test-"));
  const tiered = await startServer({ model: "qwen3-tiny",
                                     args: ["--kv-cache-ram", "1", "--kv-cache-dir", dir, "--kv-cache-disk", "1"] });
  try {
    await complete(tiered, longPrompt("tiers"));
    const names = (c) => c.tiers.map((t) => t.tier);
    let c = await getCache(tiered);
    assert.deepEqual(names(c), ["device", "ram", "disk"]);
    assert.equal(c.tiers[1].capacity_bytes, 1 << 30);
    assert.ok(c.tiers[2].dir.startsWith(dir), c.tiers[2].dir);
    // Pages are written through to disk by a background thread.
    for (let i = 0; i < 100 && c.tiers[2].pages === 0; ++i) {
      await new Promise((r) => setTimeout(r, 50));
      c = await getCache(tiered);
    }
    assert.ok(c.tiers[2].pages > 0 && c.tiers[2].bytes > 0, JSON.stringify(c));
    const cleared = await clearCache(tiered);
    assert.ok(cleared.freed_disk_pages > 0 && cleared.freed_pages > 0, JSON.stringify(cleared));
    c = await getCache(tiered);
    assert.deepEqual(c.tiers.map((t) => t.pages), [0, 0, 0], JSON.stringify(c));
    assert.equal((await complete(tiered, longPrompt("tiers"))).prompt_tokens_details.cached_tokens, 0);
  } finally {
    await tiered.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("POST /v1/cache/clear: frees what no request uses; the same prompt then reuses nothing", async () => {
  const prompt = longPrompt("clear");
  await complete(srv, prompt);
  const warm = await complete(srv, prompt);
  assert.ok(warm.prompt_tokens_details.cached_tokens > 0);
  const cleared = await clearCache(srv);
  assert.equal(cleared.enabled, true);
  assert.ok(cleared.freed_pages * 16 >= warm.prompt_tokens_details.cached_tokens, JSON.stringify(cleared));
  assert.equal(cleared.freed_tokens, cleared.freed_pages * 16);
  assert.ok(cleared.freed_bytes > 0);
  assert.equal(cleared.kept_pages, 0);  // nothing was running
  const c = await getCache(srv);
  assert.equal(c.cached_tokens, 0);
  assert.equal(c.entries, 0);
  const after = await complete(srv, prompt);
  assert.equal(after.prompt_tokens_details.cached_tokens, 0);
  // Clearing an empty cache frees nothing and is no error.
  await clearCache(srv);
  const again = await clearCache(srv);
  assert.equal(again.freed_pages, 0);
});

test("clearing while a stream runs keeps its prefix and does not disturb it", async () => {
  const prompt = longPrompt("stream");
  const r = await fetch(`${srv.url}/v1/completions`, {
    method: "POST",
    headers: json(),
    body: JSON.stringify({ prompt, max_tokens: 1500, temperature: 1, seed: 7, stream: true, logprobs: 0,
                           stream_options: { include_usage: true } }),
  });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n\n")) text += decoder.decode((await reader.read()).value, { stream: true });
  const cleared = await clearCache(srv);
  // The running request holds its prompt's pages: they stay cached.
  assert.ok(cleared.kept_pages > 0, JSON.stringify(cleared));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const frames = parseSse(text).filter((f) => !f.comment);
  assert.equal(frames.at(-1).data, "[DONE]");
  const usage = frames.at(-2).data.usage;
  const finish = frames.find((f) => f.data?.choices?.[0]?.finish_reason)?.data.choices[0].finish_reason;
  assert.ok(finish === "length" || finish === "stop", text.slice(-500));
  // Every generated token arrived (each chunk lists its tokens): the stream was not cut.
  const streamed = frames.reduce((n, f) => n + (f.data?.choices?.[0]?.logprobs?.tokens?.length ?? 0), 0);
  assert.equal(streamed, usage.completion_tokens);
  assert.ok(usage.completion_tokens > 100, JSON.stringify(usage));
  // The same prompt after the stream: its pages were kept and are reused.
  const repeat = await complete(srv, prompt);
  assert.ok(repeat.prompt_tokens_details.cached_tokens > 0);
});

test("with --api-key both endpoints need the key", async () => {
  for (const [method, path] of [["GET", "/v1/cache"], ["POST", "/v1/cache/clear"]]) {
    const r = await fetch(`${authed.url}${path}`, { method });
    assert.equal(r.status, 401, `${method} ${path}`);
    const wrong = await fetch(`${authed.url}${path}`, { method, headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
  }
  assert.equal((await getCache(authed, { authorization: "Bearer sekret" })).enabled, true);
  assert.equal((await clearCache(authed, { "x-api-key": "sekret" })).enabled, true);
  // Without a key configured, no key is needed (the other tests).
});

test("with --no-prefix-cache: enabled false, nothing cached, clear frees nothing", async () => {
  await complete(nocache, longPrompt("off"));
  const c = await getCache(nocache);
  assert.equal(c.enabled, false);
  assert.equal(c.cached_tokens, 0);
  assert.equal(c.lookups, 0);
  const cleared = await clearCache(nocache);
  assert.deepEqual([cleared.enabled, cleared.freed_pages, cleared.kept_pages], [false, 0, 0]);
});

test("/metrics: page bytes and clears", async () => {
  const m = await (await fetch(`${srv.url}/metrics`)).text();
  const page = Number(m.match(/^agentserve_kv_page_bytes (\d+)$/m)?.[1]);
  const device = (await getCache(srv)).tiers[0];
  assert.ok(page > 0);
  assert.equal(page * device.capacity_pages, device.capacity_bytes);
  const clears = Number(m.match(/^agentserve_prefix_cache_clears_total (\d+)$/m)?.[1]);
  await clearCache(srv);
  const m2 = await (await fetch(`${srv.url}/metrics`)).text();
  assert.equal(Number(m2.match(/^agentserve_prefix_cache_clears_total (\d+)$/m)?.[1]), clears + 1);
  assert.match(m2, /^agentserve_prefix_cache_cleared_pages_total \d+$/m);
});

// A five-message conversation; `third` is the text of its 3rd message (index 2).
function conversation(third, second = "It has src, tests and docs; the server lives in src/server.") {
  return {
    model: "claude-test",
    max_tokens: 2,
    temperature: 0,
    system: `${NONCE}. You are a coding agent working in a C++ repository. Answer briefly.`,
    messages: [
      { role: "user", content: "What is in the repository? Describe the layout of the folders please." },
      { role: "assistant", content: second },
      { role: "user", content: [{ type: "text", text: third }] },
      { role: "assistant", content: "Done: I read the file and it looks fine to me." },
      { role: "user", content: "Thanks. Now summarise what we did today in two sentences." },
    ],
  };
}

async function debugRequest(body) {
  const r = await fetch(`${debug.url}/v1/messages`, { method: "POST", headers: json(), body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.clone().text());
  const id = r.headers.get("request-id");
  const usage = (await r.json()).usage;
  // The log line is written when the request finishes, before the response is complete.
  const line = debug.log().split("\n").find((l) => l.includes(id) && l.includes("prefix cache reused"));
  assert.ok(line, `no divergence line for ${id} in:\n${debug.log().slice(-3000)}`);
  return { line, usage };
}

test("--log-level debug: each request logs where its prompt left the cache, by message and block", async () => {
  const base = conversation("Please open src/main.cpp and check the includes for me.");
  await debugRequest(base);
  // The 3rd message (index 2) changes from its first word.
  const changed = conversation("Kindly open src/main.cpp and check the includes for me.");
  const { line, usage } = await debugRequest(changed);
  assert.match(line, /first differing token (\d+) \(exact\)/, line);
  assert.match(line, /: messages\[2\]\.content\[0\] \(user text\) at byte 0 of it/, line);
  const first = Number(line.match(/first differing token (\d+)/)[1]);
  // Reuse stops at the page before the change.
  assert.equal(usage.cache_read_input_tokens, Math.floor(first / 16) * 16);
  // A change in the 2nd message (index 1) is named as such.
  const second = await debugRequest(conversation("Kindly open src/main.cpp and check the includes for me.",
                                                 "It has src, tests and docs; the server lives in src/http."));
  assert.match(second.line, /: messages\[1\]\.content \(assistant\) at byte \d+ of it/, second.line);
  // The same request again diverges nowhere.
  const same = await debugRequest(changed);
  assert.match(same.line, /the prompt equals an earlier one/, same.line);
});

test("prompt hygiene on the OpenAI path: a system message with Claude Code's attribution line", async () => {
  // What a proxy that joins Claude Code's system blocks into one OpenAI system message sends.
  const body = (cch) => ({
    max_tokens: 2,
    temperature: 0,
    messages: [
      { role: "system", content: `x-anthropic-billing-header: cc_version=2.0.14; cc_entrypoint=cli; cch=${cch};\n` +
                                 `${NONCE}. You are a coding agent. ` + "Keep answers short. ".repeat(15) },
      { role: "user", content: "Which files define the HTTP server, and which the engine loop?" },
    ],
  });
  const send = async (cch) => {
    const r = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: json(), body: JSON.stringify(body(cch)) });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()).usage;
  };
  const first = await send("abcde");
  const second = await send("0123456789ab");
  assert.equal(second.prompt_tokens, first.prompt_tokens);
  assert.equal(second.prompt_tokens_details.cached_tokens, Math.floor((first.prompt_tokens - 1) / 16) * 16);
});
