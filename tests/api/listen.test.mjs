// Where the server listens (--host) and the URL it prints for clients: a name resolves
// (localhost), every-interface binds print a loopback URL a local client can use, IPv6
// addresses print in brackets, and a host that is neither fails at start with a clear message.

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawnSync } from "node:child_process";
import { BIN, startServer, testModel } from "./lib/server.mjs";

async function servesModels(url) {
  const r = await fetch(`${url}/v1/models`);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).object, "list");
}

test("--host localhost listens on 127.0.0.1", async () => {
  const srv = await startServer({ args: ["--host", "localhost"] });
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await servesModels(srv.url);
  } finally {
    await srv.stop();
  }
});

test("--host 0.0.0.0 prints a loopback URL for local clients and says it listens everywhere", async () => {
  const srv = await startServer({ args: ["--host", "0.0.0.0"] });
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(srv.log(), /is serving \S+ on http:\/\/127\.0\.0\.1:\d+ \(and every other interface\)/);
    assert.match(srv.log(), /ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:\d+ /);
    await servesModels(srv.url);
  } finally {
    await srv.stop();
  }
});

// Whether this machine has an IPv6 loopback to bind (containers may not).
const hasIpv6 = await new Promise((resolve) => {
  const s = net.createServer();
  s.once("error", () => resolve(false));
  s.listen(0, "::1", () => s.close(() => resolve(true)));
});

test("--host ::1 prints the address in brackets", { skip: hasIpv6 ? false : "no IPv6 loopback here" }, async () => {
  const srv = await startServer({ args: ["--host", "::1"] });
  try {
    assert.match(srv.url, /^http:\/\/\[::1\]:\d+$/);
    assert.match(srv.log(), /OPENAI_BASE_URL=http:\/\/\[::1\]:\d+\/v1/);
    await servesModels(srv.url);
  } finally {
    await srv.stop();
  }
});

test("a host that is neither an address nor a resolvable name fails at start", () => {
  const r = spawnSync(BIN, ["serve", "--model", testModel("qwen3-tiny"), "--host", "no-such-host.invalid",
                            "--port", "0", "--kv-cache-disk", "0"], { encoding: "utf8", timeout: 60000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--host no-such-host\.invalid is neither an IP address nor a name this machine resolves/);
});
