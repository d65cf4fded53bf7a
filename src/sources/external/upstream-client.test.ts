/**
 * The SDK client module against real SDK servers over HTTP (in this Node process): a 2025 Streamable HTTP and
 * an HTTP+SSE server (v1 SDK) and a 2026-07-28-only one (v2 SDK), with code generation from strings disabled
 * around every SDK use — the Workers runtime forbids it, the vitest workers pool does not, so this is where a
 * regression to an Ajv validator (the v2 SDK's default outside workerd) is caught.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ModernServer } from "../../../test/fixtures/modern-upstream";
import type { FixtureTool, TestServer } from "../../../test/fixtures/upstream-servers";
import type { UpstreamTarget, UpstreamTool } from "./upstream-model";

// zod decides per schema, when the schema is built, whether to compile its parser with `new Function`.
// Under workerd it detects that it may not; in Node it may, and the SDK builds its schemas at import. So
// say what workerd would *before* the SDK is loaded — hence the dynamic imports below.
z.config({ jitless: true });
const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client");
const { startTestServer } = await import("../../../test/fixtures/upstream-servers");
const { startModernServer } = await import("../../../test/fixtures/modern-upstream");
const { freePort } = await import("../../../test/fixtures/upstream-servers");
const { UpstreamConnection, callDirect, classify } = await import("./upstream-client");

const weather: FixtureTool = {
  name: "weather",
  description: "Structured weather",
  inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  outputSchema: { type: "object", properties: { city: { type: "string" }, celsius: { type: "number" } }, required: ["city", "celsius"] },
  run: (args) => {
    const data = { city: String(args.city), celsius: 20 };
    return { content: [{ type: "text", text: JSON.stringify(data) }], structuredContent: data };
  },
};
const liar: FixtureTool = { ...weather, name: "liar", run: () => ({ content: [], structuredContent: { city: 1 } }) };
const hang: FixtureTool = {
  name: "hang",
  description: "Never answers",
  inputSchema: { type: "object" },
  run: (_args, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ content: [] }))),
};
const asTool = ({ name, description, inputSchema, outputSchema }: FixtureTool): UpstreamTool => ({ name, description, inputSchema, ...(outputSchema && { outputSchema }) });

const realFunction = globalThis.Function;
/** Throws like workerd does for `new Function(...)` / `Function(...)`. */
const forbidden = new Proxy(realFunction, {
  construct: () => {
    throw new EvalError("Code generation from strings disallowed for this context");
  },
  apply: () => {
    throw new EvalError("Code generation from strings disallowed for this context");
  },
});

let streamable: TestServer;
let sse: TestServer;
let modern: ModernServer;
const hooks = { onToolsChanged: () => undefined, onDead: () => undefined };
const target = (server: { name: string; url: string }, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  name: server.name,
  url: server.url,
  transport: server.url.endsWith("/sse") ? "sse" : "streamable-http",
  headers: {},
  timeout_ms: 2_000,
  connect_timeout_ms: 2_000,
  ...extra,
});

async function open(server: { name: string; url: string }, extra: Partial<UpstreamTarget> = {}) {
  const opened = await UpstreamConnection.open(target(server, extra), hooks);
  if (!opened.ok) throw new Error(opened.failure.message);
  return opened.value;
}

beforeAll(async () => {
  streamable = await startTestServer({ name: "streamable", transport: "streamable-http", tools: [weather, hang, liar], pageSize: 1 });
  sse = await startTestServer({ name: "sse", transport: "sse", tools: [weather] });
  modern = await startModernServer({ name: "modern", port: await freePort(), tools: [weather, hang], ttlMs: 30_000 });
});
afterAll(async () => {
  await streamable.stop();
  await sse.stop();
  await modern.stop();
});
beforeEach(() => {
  globalThis.Function = forbidden;
});
afterEach(() => {
  globalThis.Function = realFunction;
});

describe("the SDK client with code generation forbidden", () => {
  it("the guard is real: the SDK's default validator outside workerd (Ajv) cannot check an outputSchema", async () => {
    const client = new Client({ name: "default-validator", version: "0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(streamable.url)));
    await client.listTools();
    await expect(client.callTool({ name: "weather", arguments: { city: "Oslo" } })).rejects.toThrow(/Code generation from strings disallowed/);
    await client.close();
  });

  it.each(["streamable", "sse", "modern"])("lists (every page) and calls a tool with an outputSchema over %s", async (which) => {
    const server = which === "sse" ? sse : which === "modern" ? modern : streamable;
    const conn = await open(server);
    const listed = await conn.listTools(2_000);
    if (!listed.ok) throw new Error(listed.failure.message);
    expect(listed.value.tools.map((t) => t.name)).toEqual(which === "sse" ? ["weather"] : which === "modern" ? ["weather", "hang"] : ["weather", "hang", "liar"]);
    expect(listed.value.tools[0]?.outputSchema).toEqual(weather.outputSchema);
    expect(listed.value.ttl_ms).toBe(which === "modern" ? 30_000 : undefined);
    const result = await conn.callTool(asTool(weather), { city: "Oslo" }, 2_000);
    expect(result).toEqual({
      ok: true,
      value: { content: [{ type: "text", text: '{"city":"Oslo","celsius":20}' }], structuredContent: { city: "Oslo", celsius: 20 } },
    });
    await conn.close();
  });

  it("checks structured content against the output schema on a direct call", async () => {
    const conn = await open(streamable);
    const route = conn.route!;
    const result = await callDirect(target(streamable), route, asTool(liar), {}, 2_000);
    expect(result).toMatchObject({ ok: false, failure: { kind: "protocol" } });
    await conn.close();
  });
});

describe("eras and routes", () => {
  it("speaks 2026-07-28 to a modern server: stateless, its discover result is the route", async () => {
    const conn = await open(modern);
    expect(conn.protocol).toEqual({ era: "modern", protocol_version: "2026-07-28" });
    expect(conn.route).toMatchObject({ era: "modern", protocol_version: "2026-07-28", discover: { supportedVersions: ["2026-07-28"] } });
    expect(await conn.probe(2_000)).toEqual({ ok: true, value: undefined }); // server/discover: ping is gone
    await conn.close();
  });

  it("speaks 2025 to legacy servers: a shared session for Streamable HTTP, no route for HTTP+SSE", async () => {
    const conn = await open(streamable);
    expect(conn.protocol?.era).toBe("legacy");
    expect(conn.route).toMatchObject({ era: "legacy", session_id: expect.any(String) });
    expect(await conn.probe(2_000)).toEqual({ ok: true, value: undefined });
    const overSse = await open(sse);
    expect(overSse.protocol?.era).toBe("legacy");
    expect(overSse.route).toBeUndefined();
    await conn.close();
    await overSse.close();
  });

  it("calls directly on a route with no handshake of its own (legacy: the shared session; modern: the discover result)", async () => {
    for (const server of [streamable, modern]) {
      const conn = await open(server);
      const route = conn.route!;
      await conn.close(); // a route outlives the connection that made it
      const initialized = streamable.stats.initialize;
      const discovered = modern.stats["server/discover"] ?? 0;
      const result = await callDirect(target(server), route, asTool(weather), { city: "Rome" }, 2_000);
      expect(result).toMatchObject({ ok: true, value: { structuredContent: { city: "Rome", celsius: 20 } } });
      expect(streamable.stats.initialize).toBe(initialized);
      expect(modern.stats["server/discover"] ?? 0).toBe(discovered);
    }
  });

  it("calls a sessionless 2025 server on a route with no session, with no initialize", async () => {
    const stateless = await startModernServer({ name: "stateless", port: await freePort(), tools: [weather], legacy: "stateless" });
    try {
      const route = { era: "legacy" as const, protocol_version: "2025-11-25", session_id: null };
      const result = await callDirect(target(stateless), route, asTool(weather), { city: "Lima" }, 2_000);
      expect(result).toMatchObject({ ok: true, value: { structuredContent: { city: "Lima", celsius: 20 } } });
      expect(stateless.stats).toEqual({ legacy: 1 }); // the tools/call alone
    } finally {
      await stateless.stop();
    }
  });

  it("resumes a stored session without initialize", async () => {
    const first = await open(streamable);
    const route = first.route;
    if (route?.era !== "legacy" || route.session_id === null) throw new Error("no session");
    const initialized = streamable.stats.initialize;
    const second = await UpstreamConnection.open(target(streamable), hooks, { session_id: route.session_id, protocol_version: route.protocol_version });
    if (!second.ok) throw new Error(second.failure.message);
    const listed = await second.value.listTools(2_000);
    expect(listed.ok && listed.value.tools.length).toBe(3);
    expect((await second.value.callTool(asTool(weather), { city: "A" }, 2_000)).ok).toBe(true);
    expect(streamable.stats.initialize).toBe(initialized);
    await first.close();
    await second.value.close();
  });
});

describe("failure kinds", () => {
  it("reports session_expired after the upstream restarted (404 for the old session), on a connection and on a direct call", async () => {
    const conn = await open(streamable);
    const route = conn.route!;
    await streamable.restart();
    // The first request may instead meet the keep-alive socket the restart closed ("unreachable"). The server
    // itself answers 404 for the old session.
    const first = await conn.callTool(asTool(weather), { city: "A" }, 2_000);
    expect(first.ok || ["session_expired", "unreachable"].includes(first.failure.kind)).toBe(true);
    const second = await conn.callTool(asTool(weather), { city: "A" }, 2_000);
    expect(second).toMatchObject({ ok: false, failure: { kind: "session_expired" } });
    expect(conn.alive).toBe(false);
    await conn.close();
    const direct = await callDirect(target(streamable), route, asTool(weather), { city: "A" }, 2_000);
    expect(direct).toMatchObject({ ok: false, failure: { kind: "session_expired" } });
  });

  it("reports a hanging call as timeout, on a connection and on a direct call", async () => {
    const conn = await open(streamable, { timeout_ms: 300 });
    expect(await conn.callTool(asTool(hang), {}, 300)).toMatchObject({ ok: false, failure: { kind: "timeout" } });
    const modernConn = await open(modern);
    const started = Date.now();
    expect(await callDirect(target(modern), modernConn.route!, asTool(hang), {}, 300)).toMatchObject({ ok: false, failure: { kind: "timeout" } });
    expect(Date.now() - started).toBeLessThan(1_000);
    await conn.close();
    await modernConn.close();
  });

  it("reports a server that is down as unreachable", async () => {
    const down = await startTestServer({ name: "down", transport: "streamable-http", tools: [], listen: false });
    expect(await UpstreamConnection.open(target(down), hooks)).toMatchObject({ ok: false, failure: { kind: "unreachable" } });
    const route = { era: "legacy" as const, protocol_version: "2025-11-25", session_id: "gone" };
    expect(await callDirect(target(down), route, asTool(weather), {}, 2_000)).toMatchObject({ ok: false, failure: { kind: "unreachable" } });
  });

  it("reports a JSON-RPC error as protocol (the server is alive), with its code", async () => {
    const client = new Client({ name: "raw", version: "0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(streamable.url)));
    const thrown = await client.request({ method: "resources/list" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(classify(thrown, "resources/list", 1_000)).toMatchObject({ ok: false, failure: { kind: "protocol", mcp_code: -32601 } });
    await client.close();
  });
});

describe("an answer longer than limits.max_answer_bytes", () => {
  const huge: FixtureTool = { name: "huge", description: "100 KB of text", inputSchema: { type: "object" }, run: () => ({ content: [{ type: "text", text: "x".repeat(100 * 1024) }] }) };
  const small: FixtureTool = { name: "small", description: "A few bytes", inputSchema: { type: "object" }, run: () => ({ content: [{ type: "text", text: "ok" }] }) };
  const limits = { maxDepth: 64, maxBytes: 64 * 1024 };

  it.each(["streamable", "modern"])("fails as protocol (the server is alive) on a connection and on a direct call, over %s", async (which) => {
    const server = which === "modern" ? await startModernServer({ name: "huge-modern", port: await freePort(), tools: [huge, small] }) : await startTestServer({ name: "huge", transport: "streamable-http", tools: [huge, small] });
    try {
      const opened = await UpstreamConnection.open(target(server), hooks, undefined, undefined, limits);
      if (!opened.ok) throw new Error(opened.failure.message);
      const conn = opened.value;
      const oversized = { ok: false, failure: { kind: "protocol", message: expect.stringMatching(/limits\.max_answer_bytes/) } };
      expect(await conn.callTool(asTool(huge), {}, 2_000)).toMatchObject(oversized);
      // The connection is not judged by it: the next call on it is served.
      expect(await conn.callTool(asTool(small), {}, 2_000)).toMatchObject({ ok: true });
      expect(await callDirect(target(server), conn.route!, asTool(huge), {}, 2_000, limits)).toMatchObject(oversized);
      expect(await callDirect(target(server), conn.route!, asTool(small), {}, 2_000, limits)).toMatchObject({ ok: true });
      await conn.close();
      // Even the handshake's answer is held to the limit.
      const tiny = { maxDepth: 64, maxBytes: 100 };
      expect(await UpstreamConnection.open(target(server), hooks, undefined, undefined, tiny)).toMatchObject(oversized);
    } finally {
      await server.stop();
    }
  });
});
