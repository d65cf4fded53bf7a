/**
 * The SDK client module against real SDK servers over HTTP (in this Node process), with code generation
 * from strings disabled around every SDK use — the Workers runtime forbids it, the vitest workers pool does
 * not, so this is where a regression to the SDK's default (Ajv) validator is caught.
 */
import type { Client as SdkClient } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { FixtureTool, TestServer } from "../../../test/fixtures/upstream-servers";
import type { UpstreamTarget } from "./upstream-client";

// zod decides per schema, when the schema is built, whether to compile its parser with `new Function`.
// Under workerd it detects that it may not; in Node it may, and the SDK builds its schemas at import. So
// say what workerd would *before* the SDK is loaded — hence the dynamic imports below.
z.config({ jitless: true });
const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { ListResourcesResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
const { startTestServer } = await import("../../../test/fixtures/upstream-servers");
const { UpstreamConnection } = await import("./upstream-client");

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
const hang: FixtureTool = {
  name: "hang",
  description: "Never answers",
  inputSchema: { type: "object" },
  run: (_args, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ content: [] }))),
};

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
const hooks = { onToolsChanged: () => undefined, onDead: () => undefined };
const target = (server: TestServer, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  name: server.name,
  url: server.url,
  transport: server.url.endsWith("/sse") ? "sse" : "streamable-http",
  headers: {},
  timeout_ms: 2_000,
  connect_timeout_ms: 2_000,
  ...extra,
});

beforeAll(async () => {
  streamable = await startTestServer({ name: "streamable", transport: "streamable-http", tools: [weather, hang], pageSize: 1 });
  sse = await startTestServer({ name: "sse", transport: "sse", tools: [weather] });
});
afterAll(async () => {
  await streamable.stop();
  await sse.stop();
});
beforeEach(() => {
  globalThis.Function = forbidden;
});
afterEach(() => {
  globalThis.Function = realFunction;
});

describe("UpstreamConnection with code generation forbidden", () => {
  it("the guard is real: the SDK's default validator (Ajv) fails listTools on an outputSchema", async () => {
    const client = new Client({ name: "default-validator", version: "0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(streamable.url)));
    await expect(client.listTools()).rejects.toThrow(/Code generation from strings disallowed/);
    await client.close();
  });

  it.each(["streamable", "sse"])("lists (every page) and calls a tool with an outputSchema over %s", async (which) => {
    const server = which === "sse" ? sse : streamable;
    const opened = await UpstreamConnection.open(target(server), hooks);
    if (!opened.ok) throw new Error(opened.failure.message);
    const conn = opened.value;
    const tools = await conn.listTools(2_000);
    expect(tools.ok && tools.value.map((t) => t.name)).toEqual(which === "sse" ? ["weather"] : ["weather", "hang"]);
    const result = await conn.callTool("weather", { city: "Oslo" }, 2_000);
    expect(result).toEqual({
      ok: true,
      value: { content: [{ type: "text", text: '{"city":"Oslo","celsius":20}' }], structuredContent: { city: "Oslo", celsius: 20 } },
    });
    await conn.close();
  });
});

describe("UpstreamConnection failure kinds", () => {
  it("resumes a stored session without initialize", async () => {
    const first = await UpstreamConnection.open(target(streamable), hooks);
    if (!first.ok) throw new Error(first.failure.message);
    const resume = first.value.resumeState;
    expect(resume?.session_id).toBeTruthy();
    const initialized = streamable.stats.initialize;
    const second = await UpstreamConnection.open(target(streamable), hooks, resume);
    if (!second.ok) throw new Error(second.failure.message);
    expect((await second.value.callTool("weather", { city: "A" }, 2_000)).ok).toBe(true);
    expect(streamable.stats.initialize).toBe(initialized);
    await first.value.close();
    await second.value.close();
  });

  it("reports session_expired after the upstream restarted (404 for the old session)", async () => {
    const opened = await UpstreamConnection.open(target(streamable), hooks);
    if (!opened.ok) throw new Error(opened.failure.message);
    await streamable.restart();
    // The first request may instead meet the keep-alive socket the restart closed ("unreachable"); both
    // kinds make the owner re-initialize and retry. The server itself answers 404 for the old session.
    const first = await opened.value.callTool("weather", { city: "A" }, 2_000);
    expect(first.ok || ["session_expired", "unreachable"].includes(first.failure.kind)).toBe(true);
    const second = await opened.value.callTool("weather", { city: "A" }, 2_000);
    expect(second).toMatchObject({ ok: false, failure: { kind: "session_expired" } });
    expect(opened.value.alive).toBe(false);
    await opened.value.close();
  });

  it("reports a hanging call as timeout", async () => {
    const opened = await UpstreamConnection.open(target(streamable, { timeout_ms: 300 }), hooks);
    if (!opened.ok) throw new Error(opened.failure.message);
    const result = await opened.value.callTool("hang", {}, 300);
    expect(result).toMatchObject({ ok: false, failure: { kind: "timeout" } });
    await opened.value.close();
  });

  it("reports a server that is down as unreachable", async () => {
    const down = await startTestServer({ name: "down", transport: "streamable-http", tools: [], listen: false });
    const opened = await UpstreamConnection.open(target(down), hooks);
    expect(opened).toMatchObject({ ok: false, failure: { kind: "unreachable" } });
  });

  it("reports a JSON-RPC error as protocol (the server is alive)", async () => {
    const opened = await UpstreamConnection.open(target(streamable), hooks);
    if (!opened.ok) throw new Error(opened.failure.message);
    // tools/call on a tool that requires task-based execution is refused by the SDK; an unknown method is
    // refused by the server: both say "alive, but no".
    const result = await (opened.value as unknown as { client: SdkClient }).client
      .request({ method: "resources/list" }, ListResourcesResultSchema)
      .then(
        () => "ok",
        (error: unknown) => error,
      );
    expect(String(result)).toMatch(/Method not found/);
    await opened.value.close();
  });
});
