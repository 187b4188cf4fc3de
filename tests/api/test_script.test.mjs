// serve --test-script (server/test_script.h): the random-weight test model says scripted text
// when a prompt matches a rule, through the real engine (forced tokens behind the sampler) and
// the real text pipeline; other prompts are sampled as usual; a bad script stops startup.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, startServer, testModel, writeTestScript } from "./lib/server.mjs";

// Texts the random model would not write on its own.
const BOTH = "Scripted reply: both ALPHA and BETA were asked about.";
const ALPHA = "Scripted reply: only ALPHA.";
const COUNT = "one two three four five six seven eight nine ten";
const script = {
  rules: [
    { when: ["ALPHA-MARKER", "BETA-MARKER"], output: BOTH },
    { when: ["ALPHA-MARKER"], output: ALPHA, end: true },
    { when: ["COUNT-MARKER"], output: COUNT },
    // A special token in the text is its token: here the stop token, which ends the turn.
    { when: ["STOP-MARKER"], output: "Done.<|im_end|>", end: false },
    { when: ["THINK-MARKER"], output: "<think>\nplanning the answer\n</think>\n\nThe plan is ready." },
  ],
};

let srv;
before(async () => {
  srv = await startServer({ model: "qwen3-tiny", testScript: script });
});
after(async () => {
  await srv?.stop();
});

async function chat(content, extra = {}) {
  const r = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: srv.modelId, messages: [{ role: "user", content }], max_tokens: 40, ...extra }),
  });
  assert.equal(r.status, 200);
  return r.json();
}

const firings = () => (srv.log().match(/scripted output: rule \d+/g) ?? []).length;

test("a matching prompt gets the rule's text exactly, and the turn ends with the stop token", async () => {
  const before = firings();
  const r = await chat("Tell me about ALPHA-MARKER please.", { temperature: 1.5 });
  assert.equal(r.choices[0].message.content, ALPHA);
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(firings(), before + 1);
  assert.match(srv.log(), /scripted output: rule 1\b/);
});

test("the first rule whose substrings all occur applies", async () => {
  const r = await chat("BETA-MARKER first, then ALPHA-MARKER.");
  assert.equal(r.choices[0].message.content, BOTH);
  assert.match(srv.log(), /scripted output: rule 0\b/);
  // Streaming gives the same text.
  const s = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: srv.modelId, stream: true, max_tokens: 40,
                           messages: [{ role: "user", content: "ALPHA-MARKER and BETA-MARKER" }] }),
  });
  let text = "";
  for (const line of (await s.text()).split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    text += JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? "";
  }
  assert.equal(text, BOTH);
});

test("a prompt no rule matches is sampled by the model as usual", async () => {
  const before = firings();
  const r = await chat("Nothing scripted here.", { max_tokens: 12, temperature: 0 });
  assert.equal(firings(), before);
  const content = r.choices[0].message.content ?? "";
  for (const rule of script.rules) assert.notEqual(content, rule.output);
  assert.equal(r.usage.completion_tokens, 12);
  assert.equal(r.choices[0].finish_reason, "length");
});

test("max_tokens truncates the scripted text", async () => {
  const r = await chat("COUNT-MARKER", { max_tokens: 3 });
  assert.equal(r.choices[0].message.content, "one two three");
  assert.equal(r.choices[0].finish_reason, "length");
  assert.equal(r.usage.completion_tokens, 3);
});

test("special tokens in the output are tokens: a stop token written there ends the turn", async () => {
  const r = await chat("STOP-MARKER");
  assert.equal(r.choices[0].message.content, "Done.");
  assert.equal(r.choices[0].finish_reason, "stop");
});

test("scripted reasoning goes through the reasoning split", async () => {
  const r = await chat("THINK-MARKER");
  assert.equal(r.choices[0].message.content, "The plan is ready.");
  assert.equal(r.choices[0].message.reasoning_content, "planning the answer");
});

// `serve` with a script that must be refused: its exit code and what it printed.
function serveWith(scriptText) {
  const file = writeTestScript(scriptText);
  try {
    const r = spawnSync(BIN, ["serve", "--model", testModel("qwen3-tiny"), "--port", "0", "--kv-cache-disk", "0",
                              "--test-script", file], { encoding: "utf8", timeout: 60000 });
    return { file, status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

test("a bad script stops serve at startup with a message naming the file and the problem", () => {
  const cases = [
    ["{ not json", /not valid JSON/],
    [JSON.stringify({ rule: [] }), /no "rules"/],
    [JSON.stringify({ rules: [{ when: "x", output: "y" }] }), /rules\[0\]\.when must be an array of strings/],
    [JSON.stringify({ rules: [{ when: ["x"], output: "y" }, { when: ["x"], ouput: "y" }] }), /rules\[1\]: unknown key "ouput"/],
    [JSON.stringify({ rules: [{ when: [], output: "y", end: "yes" }] }), /rules\[0\]\.end must be true or false/],
    [JSON.stringify({ rules: [{ when: [], output: "y", fail: "boom", end: true }] }), /rules\[0\]: "end": true and "fail" exclude each other/],
    [JSON.stringify({ rules: [{ when: [], output: "y", fail: "" }] }), /rules\[0\]\.fail must be a non-empty message/],
  ];
  for (const [text, problem] of cases) {
    const r = serveWith(text);
    assert.notEqual(r.status, 0, r.out);
    assert.ok(r.out.includes(r.file), `the message names the file:\n${r.out}`);
    assert.match(r.out, problem);
  }
  const missing = spawnSync(BIN, ["serve", "--model", testModel("qwen3-tiny"), "--port", "0", "--kv-cache-disk", "0",
                                  "--test-script", "/nonexistent/agentserve-script.json"], { encoding: "utf8", timeout: 60000 });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stdout + missing.stderr, /\/nonexistent\/agentserve-script\.json/);
});
