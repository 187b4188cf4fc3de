// Deterministic Claude-Code-shaped request material for bench/session_replay.mjs: the system
// blocks (volatile attribution line, identity line, ~3k-token prompt), 24 tool schemas
// (~64 KB of JSON), per-turn user text, system reminders, synthetic tool calls and tool results
// of a chosen token size. Everything is drawn from a seeded PRNG, so a seed gives the same
// session on every run.

export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    hex: (n) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(next() * 16)]).join(""),
  };
  return r;
}

const WORDS = ("file path directory repository branch commit diff patch test suite build target module package " +
  "function method class struct interface schema field value option flag argument parameter result error warning " +
  "output input stream buffer cache page token request response server client session agent tool call command shell " +
  "process thread timeout retry limit offset line column range pattern glob regex match search replace edit write read " +
  "create delete update rename move copy list show format lint check verify validate parse render encode decode " +
  "config environment variable secret key user project workspace notebook cell kernel task todo plan step status").split(" ");
const VERBS = ["Reads", "Writes", "Runs", "Searches", "Lists", "Edits", "Fetches", "Creates", "Updates", "Deletes", "Checks", "Formats"];
const TOOL_NAMES = ["Agent", "Bash", "BashOutput", "Edit", "ExitPlanMode", "Glob", "Grep", "KillShell", "ListMcpResources",
  "MultiEdit", "NotebookEdit", "Read", "ReadMcpResource", "SlashCommand", "Skill", "TaskCreate", "TaskGet", "TaskList",
  "TaskUpdate", "TodoWrite", "WebFetch", "WebSearch", "Write", "AskUserQuestion"];
const IDENTS = ["buf", "len", "idx", "count", "node", "page", "tokens", "result", "request", "config", "cache", "entry",
  "offset", "limit", "key", "value", "parent", "child", "seq", "batch", "step", "state", "writer", "reader", "hash"];
const TYPES = ["int", "size_t", "std::string", "bool", "double", "uint64_t", "std::vector<int>", "Status", "Result<Page>"];

const sentence = (r, n) => {
  const w = Array.from({ length: n }, () => r.pick(WORDS));
  w[0] = w[0][0].toUpperCase() + w[0].slice(1);
  return w.join(" ") + ".";
};
const paragraph = (r, sentences) => Array.from({ length: sentences }, () => sentence(r, r.int(6, 18))).join(" ");

function propertySchema(r, depth) {
  const kind = r.pick(depth > 0 ? ["string", "string", "integer", "boolean", "enum", "array"] :
    ["string", "string", "integer", "boolean", "enum", "array", "object"]);
  const description = sentence(r, r.int(8, 26));
  switch (kind) {
    case "integer": return { type: "integer", description, minimum: 0, maximum: r.pick([100, 1000, 600000]) };
    case "boolean": return { type: "boolean", description, default: r.next() < 0.5 };
    case "enum": return { type: "string", enum: Array.from({ length: r.int(2, 6) }, () => r.pick(WORDS)), description };
    case "array": return { type: "array", items: r.next() < 0.5 ? { type: "string" } : objectSchema(r, depth + 1, r.int(2, 4)), description };
    case "object": return objectSchema(r, depth + 1, r.int(2, 5), description);
    default: return { type: "string", description };
  }
}

function objectSchema(r, depth, nprops, description) {
  const properties = {};
  for (let i = 0; i < nprops; ++i) properties[`${r.pick(WORDS)}_${r.pick(WORDS)}`] = propertySchema(r, depth);
  const keys = Object.keys(properties);
  const out = { type: "object" };
  if (description) out.description = description;
  out.properties = properties;
  out.required = keys.slice(0, Math.max(1, Math.floor(keys.length / 2)));
  out.additionalProperties = false;
  return out;
}

// 24 Anthropic tool definitions, ~64 KB of JSON in all.
export function toolSchemas(seed = 1) {
  const r = rng(seed);
  return TOOL_NAMES.map((name) => {
    const description = `${r.pick(VERBS)} ${paragraph(r, r.int(5, 11))}\n\nUsage notes:\n` +
      Array.from({ length: r.int(3, 6) }, () => `- ${sentence(r, r.int(8, 20))}`).join("\n");
    const input_schema = objectSchema(r, 0, r.int(3, 6));
    input_schema.$schema = "http://json-schema.org/draft-07/schema#";
    return { name, description, input_schema };
  });
}

// The ~3k-token main system prompt; `env` (cwd, date, git status) differs per session.
export function systemPrompt(seed, env) {
  const r = rng(seed);
  const sections = ["Tone and style", "Proactiveness", "Following conventions", "Code style", "Task management",
    "Doing tasks", "Tool usage policy", "Code references"];
  let text = "You are an interactive CLI tool that helps users with software engineering tasks. Use the instructions below and the tools available to you to assist the user.\n\n";
  for (const s of sections) text += `# ${s}\n${paragraph(r, r.int(10, 16))}\n` +
    Array.from({ length: r.int(3, 6) }, () => `- ${sentence(r, r.int(8, 20))}`).join("\n") + "\n\n";
  text += `<env>\nWorking directory: ${env.cwd}\nIs directory a git repo: Yes\nPlatform: linux\nToday's date: ${env.date}\n</env>\n` +
    `gitStatus: Current branch: ${env.branch}\n\nStatus:\n${env.status}`;
  return text;
}

// Claude Code's attribution block: the version is fixed, `cch` is a fresh hash per request.
export const attributionLine = (r) =>
  `x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli; cch=${r.hex(5)};`;
export const IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude.";

export function reminder(r, turn) {
  const kinds = [
    () => `<system-reminder>\nThe TodoWrite tool hasn't been used recently. ${paragraph(r, 2)} Here are the existing contents of your todo list:\n` +
      Array.from({ length: r.int(2, 5) }, (_, i) => `${i + 1}. [${r.pick(["pending", "in_progress", "completed"])}] ${sentence(r, r.int(4, 9))}`).join("\n") + "\n</system-reminder>",
    () => `<system-reminder>\nNote: ${r.pick(IDENTS)}_${turn}.cc was modified, either by the user or by a linter. ${paragraph(r, 1)}\n</system-reminder>`,
    () => `<system-reminder>\n${paragraph(r, r.int(1, 3))}\n</system-reminder>`,
  ];
  return r.pick(kinds)();
}

export const userText = (r, turn) => turn === 0
  ? `Please look at the ${r.pick(WORDS)} ${r.pick(WORDS)} code in src/ and ${sentence(r, r.int(8, 16)).toLowerCase()}`
  : r.pick(["Continue.", "Go on with the next step.", `Also check the ${r.pick(WORDS)} ${r.pick(WORDS)}.`, sentence(r, r.int(5, 12))]);

// A synthetic tool_use block for `tools` (input keys follow its schema's required fields).
export function toolUse(r, tools, id) {
  const tool = r.pick(tools);
  const input = {};
  for (const k of tool.input_schema.required) {
    const p = tool.input_schema.properties[k];
    input[k] = p.type === "integer" ? r.int(0, 100) : p.type === "boolean" ? r.next() < 0.5
      : p.enum ? r.pick(p.enum) : p.type === "array" ? [r.pick(WORDS)]
      : p.type === "object" ? {} : `src/${r.pick(IDENTS)}/${r.pick(IDENTS)}_${r.int(0, 99)}.cc`;
  }
  return { type: "tool_use", id, name: tool.name, input };
}

// Tool output of about `chars` characters: code (a file read), a listing or prose.
export function toolResultText(r, chars) {
  const lines = [];
  let n = 0;
  const mode = r.pick(["code", "code", "grep", "text"]);
  let ln = r.int(1, 400);
  while (n < chars) {
    let line;
    if (mode === "code") {
      const ind = "  ".repeat(r.int(0, 3));
      line = r.pick([
        () => `${ind}${r.pick(TYPES)} ${r.pick(IDENTS)}_${r.int(0, 9)} = ${r.pick(IDENTS)}.${r.pick(IDENTS)}(${r.int(0, 4096)});`,
        () => `${ind}if (${r.pick(IDENTS)} >= ${r.pick(IDENTS)}) return ${r.pick(IDENTS)};`,
        () => `${ind}// ${sentence(r, r.int(5, 14))}`,
        () => `${ind}for (size_t i = 0; i < ${r.pick(IDENTS)}.size(); ++i) ${r.pick(IDENTS)}[i] += ${r.int(1, 64)};`,
        () => `${ind}}`,
      ])();
      line = `${String(ln++).padStart(6)}\t${line}`;
    } else if (mode === "grep") {
      line = `src/${r.pick(IDENTS)}/${r.pick(IDENTS)}.cc:${r.int(1, 2000)}:  ${r.pick(IDENTS)}->${r.pick(IDENTS)}(${r.pick(IDENTS)}, ${r.int(0, 99)});`;
    } else {
      line = paragraph(r, r.int(1, 4));
    }
    lines.push(line);
    n += line.length + 1;
  }
  return lines.join("\n");
}
