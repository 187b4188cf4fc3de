// Claude Code uses a tool through agentserve: headless `claude -p` with --allowedTools Read
// against a test model scripted (serve --test-script) to call Read on a file, and to answer
// from the tool result when it comes back. Claude Code must receive the call as a tool_use
// block, run the tool, send its result in a second request, and print the final answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { ensureClaudeBinary, endsTurnsModel, runClaude } from "./lib/claude.mjs";

const PROMPT = "Read notes.txt and quote its first line.";
const SECRET = "ZEBRA-42 is the first line";

let srv, cwd;
before(async () => {
  ensureClaudeBinary();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "cc-tools-cwd-"));
  fs.writeFileSync(path.join(cwd, "notes.txt"), `${SECRET}\nthe second line\n`);
  const call = { name: "Read", arguments: { file_path: path.join(cwd, "notes.txt") } };
  const rules = [
    // Turn 2: the Read result is in the prompt.
    { when: [SECRET], output: "The first line says: ZEBRA-42 is the first line." },
    // Turn 1: the user's request.
    { when: [PROMPT], output: `I'll read it.\n<tool_call>\n${JSON.stringify(call)}\n</tool_call>` },
  ];
  // Claude Code's side requests (unscripted) need a model that ends its turns.
  srv = await startServer({ modelDir: endsTurnsModel(), args: ["--ctx", "65536"], testScript: { rules } });
});
after(async () => {
  await srv?.stop();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

test("claude -p --allowedTools Read: the call runs and its result comes back for a second turn", async () => {
  const r = runClaude(srv.url, PROMPT, ["--allowedTools", "Read", "--max-turns", "4", "--output-format", "stream-json", "--verbose"],
                      { cwd, timeout: 120000 });
  // spawnSync held the event loop: let the server's log lines written meanwhile arrive.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const diag = `exit ${r.status} after ${r.seconds} s\n${r.stdout}\n${r.stderr}\n${srv.log().slice(-3000)}`;
  assert.equal(r.status, 0, diag);
  const lines = r.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const uses = lines.filter((l) => l.type === "assistant")
    .flatMap((l) => l.message.content.filter((b) => b.type === "tool_use"));
  assert.equal(uses.length, 1, diag);
  assert.equal(uses[0].name, "Read");
  assert.deepEqual(uses[0].input, { file_path: path.join(cwd, "notes.txt") });
  const results = lines.filter((l) => l.type === "user")
    .flatMap((l) => (Array.isArray(l.message.content) ? l.message.content : []).filter((b) => b.type === "tool_result"));
  assert.equal(results.length, 1, diag);
  assert.equal(results[0].tool_use_id, uses[0].id);
  assert.ok(!results[0].is_error, `the Read tool ran: ${JSON.stringify(results[0])}`);
  assert.match(JSON.stringify(results[0].content), /ZEBRA-42/);
  const result = lines.at(-1);
  assert.equal(result.type, "result");
  assert.equal(result.is_error, false, diag);
  assert.equal(result.result, "The first line says: ZEBRA-42 is the first line.");
  assert.ok(!lines.some((l) => l.type === "system" && l.subtype === "api_retry"), "no API retries");
  // The second request (the tool result) extends the first: the prefix cache must serve all of
  // the first request's prompt (pitfall 6 of the conformance list: re-check turn-2 cache hits
  // after every Claude Code upgrade — an attribution hash or a rewritten earlier turn would
  // show here as a miss). Read from the server's request log (message_start goes out before
  // the cache lookup, so the stream's usage cannot say): the longest prompt is turn 2's.
  const logged = [...srv.log().matchAll(/\/v1\/messages: prompt (\d+) tokens \((\d+) cached/g)]
    .map((m) => ({ prompt: Number(m[1]), cached: Number(m[2]) }))
    .sort((a, b) => b.prompt - a.prompt);
  // Turn 1's whole prompt, however its usage splits it into computed and cached tokens.
  const u1 = lines.find((l) => l.type === "assistant").message.usage;
  const firstPrompt = u1.input_tokens + (u1.cache_read_input_tokens ?? 0) + (u1.cache_creation_input_tokens ?? 0);
  assert.ok(logged.length >= 2 && logged[0].prompt > firstPrompt, `${JSON.stringify(logged)} ${firstPrompt}`);
  assert.ok(logged[0].cached >= firstPrompt - 16,
            `turn 2 read ${logged[0].cached} cached tokens of turn 1's ${firstPrompt}: ${JSON.stringify(logged)}`);
  console.log(`claude -p with a Read call took ${r.seconds} s, ${result.num_turns} turns`);
});
