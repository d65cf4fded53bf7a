// CPU profile of a worker isolate under load, by source module: where the JavaScript time of one call goes.
// Not a benchmark (the V8 sampler slows the isolate down); a tool to find what to optimise.
//
//   npx node bench/tools/cpu-profile.mjs [--target rest] [--calls 2000] [--concurrency 8] [--code head] [--out file.cpuprofile]
//   node bench/tools/cpu-profile.mjs --analyze file.cpuprofile --calls 2000     (re-read a saved profile)
//
// Targets: rest, trpc, device (the service; device = a device tool call through a relay WebSocket to a fake ESP32), rest-echo and mcp-shared-echo (server-everything's echo through REST and the shared /mcp), rest-lean, rest-quiet (the profile worker's modes, see
// bench/profile/worker.ts), baseline, relay-echo (the device suite's baseline: one frame to the same fake device). The worker is bundled and started exactly as by `npm run bench`; the
// profile is taken through wrangler dev's inspector port (the same one Chrome DevTools would use) and covers the
// whole isolate: the Worker and its Durable Objects (they share the isolate under wrangler dev). Self time is
// grouped by the `// src/...` / `// node_modules/...` section comments of the (unminified) bundle; time in
// native functions is charged to the module that called them. Needs Node 22 (global WebSocket): use npx node.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BENCH_TOKEN, createContext } from "../lib/context.mjs";
import { actAsDevice, openSocket, waitReady } from "../lib/fake-device.mjs";
import { EXECUTE_LOCAL_TIME } from "../lib/targets.mjs";
import { upstreamFixtures } from "../lib/fixtures.mjs";
import { modernHeaders, modernToolCall } from "../lib/mcp.mjs";
import { expectJson } from "../lib/http.mjs";
import { stopAll } from "../lib/processes.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { runBatch } from "../lib/suite.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
// wrangler's local observability collector (a tail worker fed by every invocation) would be profiled with the
// service: off, as in `npm run bench` (docs/benchmarks.md). The inspector stays: the profile is taken through it.
process.env.X_LOCAL_OBSERVABILITY ??= "false";
const { values: flags } = parseArgs({
  options: {
    target: { type: "string", default: "rest" },
    calls: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    code: { type: "string", default: "working" },
    interval: { type: "string", default: "250" },
    out: { type: "string" },
    top: { type: "string", default: "25" },
    analyze: { type: "string" },
  },
});
const calls = Number(flags.calls);
const concurrency = Number(flags.concurrency);
if (flags.analyze) {
  // Re-read a profile saved with --out (its bundle is saved next to it).
  report(JSON.parse(readFileSync(flags.analyze, "utf8")), readFileSync(`${flags.analyze}.bundle.js`, "utf8"), calls, Number.NaN);
  process.exit(0);
}
if (typeof WebSocket === "undefined") throw new Error("needs Node 22 (global WebSocket): run with `npx node bench/tools/cpu-profile.mjs`");

const EXECUTE = EXECUTE_LOCAL_TIME;
const TARGETS = {
  rest: { server: "service", mode: undefined, prefix: "bench", path: EXECUTE },
  trpc: { server: "service", mode: undefined, prefix: "bench", path: "/trpc/executeTool" },
  "rest-quiet": { server: "profile", mode: "quiet", prefix: "quiet", path: EXECUTE },
  "rest-lean": { server: "profile", mode: "lean", prefix: "lean", path: EXECUTE },
  baseline: { server: "baseline", mode: undefined, prefix: "baseline", path: "/call" },
  device: { server: "service", mode: undefined, prefix: "device", path: "/api/v1/mcp/tools/self_audio_speaker_set_volume/execute" },
  "relay-echo": { server: "baseline", mode: undefined, prefix: "relay", path: "/relay" },
  // tools/call local_get_time on the session's MCP endpoint, as a 2026-07-28 request (path completed per session).
  "mcp-modern": { server: "service", mode: undefined, prefix: "mcp", path: "/api/v1/mcp/sessions/" },
  // server-everything's echo on the shared /mcp endpoint (2026-07-28 request): the Worker straight to the upstream.
  "mcp-shared-echo": { server: "service-external", mode: undefined, prefix: "echo", path: "/mcp" },
  // The same echo through REST: the Worker, the session object, the upstream (the external suite's `rest`).
  "rest-echo": { server: "service-external", mode: undefined, prefix: "echo", path: "/api/v1/mcp/tools/mcp_echo/execute" },
};
const spec = TARGETS[/** @type {keyof typeof TARGETS} */ (flags.target ?? "")];
if (!spec) throw new Error(`--target is one of ${Object.keys(TARGETS).join(", ")}`);

const tmp = mkdtempSync(join(os.tmpdir(), "xiaozhi-cpu-profile-"));
const ctx = createContext({ root, tmp, options: { client: "http", code: flags.code, devServer: "cli" }, log: (line) => process.stderr.write(`${line}\n`) });
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return; // npm forwards the same Ctrl-C: ignore the second one, finish the cleanup
    stopping = true;
    void ctx.close().then(stopAll).then(() => process.exit(130));
  });
}

/** @type {{ url: string, stop(): Promise<void> } | undefined} */
let upstream;
try {
  upstream = spec.server === "service-external" ? await (await upstreamFixtures()).startEverythingServer() : undefined;
  const server = upstream
    ? await ctx.configuredService("service-external", { mcpServers: { everything: { url: upstream.url } } })
    : await ctx[/** @type {"service" | "profile" | "baseline"} */ (spec.server)]();
  const api = ctx.client(server.url, { authorization: `Bearer ${BENCH_TOKEN}`, ...(spec.mode ? { "x-bench-mode": spec.mode } : {}) });
  const echo = flags.target === "mcp-shared-echo";
  const mcp = flags.target === "mcp-modern" || echo ? ctx.client(server.url, { authorization: `Bearer ${BENCH_TOKEN}`, ...modernHeaders("tools/call", echo ? "mcp_echo" : "local_get_time") }) : undefined;
  const sessions = sessionIds(ctx, spec.prefix, concurrency);
  if (spec.server !== "baseline") await bindSessions(api, sessions);
  if (flags.target === "device") {
    for (const session of sessions) {
      const relay = await openSocket(`${server.url.replace(/^http/, "ws")}/api/v1/mcp/sessions/${encodeURIComponent(session)}/device`, {
        authorization: `Bearer ${BENCH_TOKEN}`,
      });
      actAsDevice(relay, session);
      await waitReady(api, session);
    }
  }
  if (flags.target === "relay-echo") {
    for (const session of sessions) actAsDevice(await openSocket(`${server.url.replace(/^http/, "ws")}/ws?id=${encodeURIComponent(session)}&role=device`), session);
  }
  const body = (conn) =>
    spec.server === "baseline"
      ? { id: sessions[conn], arguments: flags.target === "relay-echo" ? { volume: 50 } : {} }
      : flags.target === "device"
        ? { session_id: sessions[conn], arguments: { volume: 50 } }
        : flags.target === "rest-echo"
        ? { session_id: sessions[conn], arguments: { message: "bench" } }
        : spec.path.startsWith("/trpc")
        ? { tool_name: "local_get_time", session_id: sessions[conn], arguments: {} }
        : { session_id: sessions[conn], arguments: {} };
  const target = {
    name: flags.target ?? "",
    description: "",
    callOnce: async (conn) =>
      mcp && echo
        ? void expectJson(await mcp.post(spec.path, modernToolCall(conn, "mcp_echo", { message: "bench" })), () => true, "mcp-shared-echo")
        : mcp
        ? void expectJson(await mcp.post(`${spec.path}${encodeURIComponent(sessions[conn])}/mcp`, modernToolCall(conn, "local_get_time", {})), () => true, "mcp-modern")
        : void expectJson(await api.post(spec.path, body(conn)), () => true, flags.target ?? ""),
  };
  const deadline = Date.now() + 15 * 60_000;
  await runBatch(target, concurrency, Math.min(500, calls), deadline); // warm-up

  const inspector = await connectInspector(server.inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: Number(flags.interval) });
  await inspector.send("Profiler.start");
  const started = Date.now();
  await runBatch(target, concurrency, calls, deadline);
  const wallMs = Date.now() - started;
  const { profile } = /** @type {any} */ (await inspector.send("Profiler.stop"));
  inspector.close();

  const bundle = readFileSync(findBundle(join(tmp, spec.server)), "utf8");
  if (flags.out) {
    writeFileSync(flags.out, JSON.stringify(profile));
    writeFileSync(`${flags.out}.bundle.js`, bundle); // the profile's line numbers refer to this file
  }
  report(profile, bundle, calls, wallMs);
} finally {
  await upstream?.stop();
  await ctx.close();
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

/** The bundled worker the server runs (`<tmp>/<server>/dist/*.js`). */
function findBundle(dir) {
  const dist = join(dir, "dist");
  const file = readdirSync(dist).find((name) => name.endsWith(".js"));
  if (!file) throw new Error(`no bundle in ${dist}`);
  return join(dist, file);
}

/** Chrome DevTools protocol over wrangler's inspector proxy (it checks Host and Origin). */
async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl, /** @type {any} */ ({ headers: { origin: "http://localhost" } }));
  await new Promise((resolveOpen, reject) => {
    socket.onopen = resolveOpen;
    socket.onerror = () => reject(new Error(`cannot open the inspector on port ${port}`));
  });
  let id = 0;
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)(message.result);
      pending.delete(message.id);
    }
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolveSend) => {
        id += 1;
        pending.set(id, resolveSend);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

function report(profile, bundle, callCount, wallMs) {
  const lines = bundle.split("\n");
  /** @type {[number, string][]} */
  const sections = [];
  lines.forEach((line, index) => {
    const match = /^\/\/ (\S+\.(?:[cm]?[jt]sx?|json))$/.exec(line);
    if (match) sections.push([index, match[1]]);
  });
  const moduleOf = (line) => {
    let found = "(bundle prelude)";
    for (const [start, name] of sections) {
      if (start > line) break;
      found = name;
    }
    return found.replace(/^(?:\.\.\/)*(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+).*$/, "pkg:$1");
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  // Frames of the bundle (the most frequent script); others are the runtime's own modules, e.g. the
  // nodejs_compat timers (node-internal:internal_timers) or console formatting (node-internal:internal_inspect).
  const counts = new Map();
  for (const node of profile.nodes) if (node.callFrame.url) counts.set(node.callFrame.url, (counts.get(node.callFrame.url) ?? 0) + 1);
  const bundleUrl = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const frameModule = (frame) => (frame.url === bundleUrl ? moduleOf(frame.lineNumber) : `runtime ${frame.url}`);
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  /** @type {Map<string, number>} */
  const byModule = new Map();
  /** @type {Map<string, number>} */
  const bySrc = new Map();
  const isSrc = (module) => /(^|\/)src\//.test(module);
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((sample, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const node = nodes.get(sample);
    const name = node.callFrame.functionName;
    if (name === "(idle)") {
      idle += delta;
      return;
    }
    busy += delta;
    let key = name;
    if (!["(program)", "(garbage collector)"].includes(name)) {
      let current = sample;
      while (current !== undefined && nodes.get(current).callFrame.url === "") current = parent.get(current);
      key = current === undefined ? `(native ${name})` : frameModule(nodes.get(current).callFrame);
    }
    byModule.set(key, (byModule.get(key) ?? 0) + delta);
    // The service's own module responsible: the nearest src/ frame above the sample (libraries and natives
    // are charged to the src/ code that called them).
    let owner = key;
    for (let current = sample; current !== undefined; current = parent.get(current)) {
      const frame = nodes.get(current).callFrame;
      if (frame.url === bundleUrl && isSrc(moduleOf(frame.lineNumber))) {
        owner = moduleOf(frame.lineNumber);
        break;
      }
    }
    bySrc.set(owner, (bySrc.get(owner) ?? 0) + delta);
  });
  console.log(
    `${flags.target}: ${callCount} calls at concurrency ${concurrency} in ${wallMs} ms; isolate busy ${(busy / 1000).toFixed(0)} ms ` +
      `(${(busy / 1000 / callCount).toFixed(3)} ms/call), idle ${(idle / 1000).toFixed(0)} ms. Sampled wall time: inflated when the machine is busy; compare shares.`,
  );
  const print = (title, map) => {
    console.log(title);
    for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) {
      console.log(`${(micros / 1000 / callCount).toFixed(3).padStart(8)} ms/call ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${key}`);
    }
  };
  print("self time by module (natives charged to their caller):", byModule);
  print("\nby the service's module responsible (nearest src/ frame on the stack; else the module itself):", bySrc);
}
