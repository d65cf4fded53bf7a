/**
 * The plain `tools/call` path against the SDK it stands in for: for any request a careless or hostile client
 * could send — either era, every header and envelope part right, wrong, missing or extra — the endpoint that
 * answers plain calls itself gives exactly the answer of the endpoint that sends everything through the SDK
 * (status, content type, JSON body). And it does take the requests real clients send.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appError, fail, ok } from "../core/errors";
import type { ToolResult } from "../core/schemas";
import { McpEndpoint, type McpEndpointCore } from "./mcp-endpoint";
import { plainToolCall } from "./plain-tool-call";

const options = { serverInfo: { name: "xiaozhi-mcp-service", version: "test" }, toolsTtlMs: 30_000, keepAliveMs: 15_000, maxStreams: 10 };
const direct = new McpEndpoint(options);
const throughSdk = new McpEndpoint({ ...options, plainCalls: false });

/** A catalogue whose tools answer every way a call can end. */
const core: McpEndpointCore = {
  tools: async () => ok({ tools: [] }),
  execute: async (name, args) => {
    if (name === "refuse") return fail("invalid_request", "volume must be 0-100");
    if (name === "missing") return fail("tool_not_found", `No tool named ${name}`);
    if (name === "late") return { ok: false, error: appError("timeout", "The device did not answer in 5000 ms", { timeout_ms: 5000 }) };
    if (name === "boom") throw new Error("a bug in a tool source");
    const result: ToolResult = { success: true, action: "req_llm", result: { echoed: args, text: "天气晴 ☀" } };
    return ok(result);
  },
};

const MODERN = "2026-07-28";
const envelope = { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientInfo": { name: "client", version: "1.0.0" }, "io.modelcontextprotocol/clientCapabilities": {} };

/** A part of a request left as it should be, or set to one of the values a careless or hostile client sends. */
const maybe = <T,>(...values: T[]): fc.Arbitrary<T | null> => fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.constantFrom(...values), weight: 1 });
const ABSENT = Symbol("absent");

const request = fc.record({
  era: fc.constantFrom("modern", "legacy"),
  name: fc.oneof({ arbitrary: fc.constantFrom("echo", "refuse", "missing", "late", "boom"), weight: 4 }, fc.constantFrom("天气", " echo", "echo ", "", "a\tb", "=?base64?ZWNobw==?="), fc.string({ maxLength: 8 })),
  nameValue: maybe<unknown>(7, null, ["echo"]),
  id: fc.oneof({ arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 6 })), weight: 4 }, fc.constantFrom<unknown>(0, -5, "", 1.5, 2 ** 60, null, true, ABSENT)),
  args: fc.oneof(
    { arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), weight: 4 },
    fc.constantFrom<unknown>(ABSENT, [], "x", null, 3),
  ),
  accept: maybe<string | symbol>("application/json", "text/event-stream", "*/*", "text/event-stream, application/json", ABSENT),
  contentType: maybe<string | symbol>("application/json; charset=utf-8", "text/plain", "application/json-rpc", ABSENT),
  version: maybe<string | symbol>("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2026-07-28", "1999-01-01", ABSENT),
  mcpMethod: maybe<string | symbol>("tools/list", ABSENT, "TOOLS/CALL"),
  mcpName: maybe<string | symbol>("other", ABSENT, "=?base64?ZWNobw==?="),
  sessionHeader: fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 }),
  extraBody: maybe<Record<string, unknown>>({ extra: 1 }, { result: {} }),
  extraParams: maybe<Record<string, unknown>>({ task: { ttl: 10 } }, { _meta: { progressToken: 1 } }, { _meta: envelope }),
  meta: maybe<unknown>(
    ABSENT,
    null,
    { ...envelope, "io.modelcontextprotocol/protocolVersion": "2025-11-25" },
    { ...envelope, "io.modelcontextprotocol/clientInfo": { name: "client" } },
    { ...envelope, "io.modelcontextprotocol/clientInfo": { name: "client", version: "1", title: "A client" } },
    { ...envelope, "io.modelcontextprotocol/clientInfo": { name: 5, version: "1" } },
    { ...envelope, "io.modelcontextprotocol/clientCapabilities": { sampling: {} } },
    { ...envelope, "io.modelcontextprotocol/clientCapabilities": { roots: { listChanged: true } } },
    { ...envelope, "io.modelcontextprotocol/clientCapabilities": { roots: "yes" } },
    { ...envelope, "io.modelcontextprotocol/clientCapabilities": null },
    { ...envelope, progressToken: "p1" },
    { "io.modelcontextprotocol/protocolVersion": MODERN },
  ),
});
type Shape = typeof request extends fc.Arbitrary<infer T> ? T : never;

function build(shape: Shape): { request: Request; body: unknown } {
  const modern = shape.era === "modern";
  const name = shape.nameValue ?? shape.name;
  const params: Record<string, unknown> = { name };
  if (shape.args !== ABSENT) params.arguments = shape.args;
  if (modern) {
    const meta = shape.meta ?? envelope;
    if (meta !== ABSENT) params._meta = meta;
  }
  Object.assign(params, shape.extraParams ?? {});
  const body: Record<string, unknown> = { jsonrpc: "2.0", method: "tools/call", params, ...shape.extraBody };
  if (shape.id !== ABSENT) body.id = shape.id;
  const headers = new Headers();
  const set = (header: string, value: string | symbol | null, fallback: string | undefined) => {
    const chosen = value ?? fallback;
    if (typeof chosen === "string") headers.set(header, chosen);
  };
  set("accept", shape.accept, "application/json, text/event-stream");
  set("content-type", shape.contentType, "application/json");
  set("mcp-protocol-version", shape.version, modern ? MODERN : "2025-11-25");
  if (modern) {
    set("mcp-method", shape.mcpMethod, "tools/call");
    // Header values are ASCII: a name that is not travels as base64, as the v2 client sends it.
    const plainName = typeof name === "string" && /^[\x20-\x7e]*$/.test(name) ? name : `=?base64?${btoa(String.fromCharCode(...new TextEncoder().encode(String(name))))}?=`;
    set("mcp-name", shape.mcpName, plainName);
  }
  if (shape.sessionHeader) headers.set("mcp-session-id", "s-1");
  const text = JSON.stringify(body);
  return { request: new Request("http://localhost/mcp", { method: "POST", headers, body: text }), body: JSON.parse(text) };
}

async function answer(endpoint: McpEndpoint, shape: Shape) {
  const { request, body } = build(shape);
  const response = await endpoint.serve(request, core, body);
  const type = response.headers.get("content-type") ?? "";
  const text = await response.text();
  return { status: response.status, type, body: type.includes("application/json") && text !== "" ? JSON.parse(text) : text };
}

describe("plain tools/call: answered directly, exactly as the SDK answers it", () => {
  it("gives the SDK's answer for any request, and serves a good share of them itself", async () => {
    let plain = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(request, async (shape) => {
        runs += 1;
        const { request: probe, body } = build(shape);
        if (plainToolCall(probe, body)) plain += 1;
        expect(await answer(direct, shape)).toEqual(await answer(throughSdk, shape));
      }),
      { numRuns: 1_500 },
    );
    // Not a vacuous property: the generator's defaults are the requests real clients send.
    expect(plain / runs).toBeGreaterThan(0.15);
  });

  it("takes what the official clients send, in both eras, for every way a call ends", async () => {
    for (const name of ["echo", "refuse", "missing", "late", "boom", "天气"]) {
      for (const era of ["modern", "legacy"] as const) {
        const shape: Shape = { era, name, nameValue: null, id: 3, args: { volume: 50 }, accept: null, contentType: null, version: null, mcpMethod: null, mcpName: null, sessionHeader: false, extraBody: null, extraParams: null, meta: null };
        const { request: probe, body } = build(shape);
        // A name outside printable ASCII travels base64-encoded in Mcp-Name: left to the SDK to decode.
        expect(plainToolCall(probe, body) !== undefined, `${era} ${name}`).toBe(era === "legacy" || name !== "天气");
        const mine = await answer(direct, shape);
        expect(mine, `${era} ${name}`).toEqual(await answer(throughSdk, shape));
        expect(mine.status).toBe(200);
      }
    }
  });

  it("answers a tool source that throws as internal, in both eras, without what it threw", async () => {
    for (const era of ["modern", "legacy"] as const) {
      const shape: Shape = { era, name: "boom", nameValue: null, id: 4, args: {}, accept: null, contentType: null, version: null, mcpMethod: null, mcpName: null, sessionHeader: false, extraBody: null, extraParams: null, meta: null };
      const { body } = await answer(direct, shape);
      expect(body).toEqual({ jsonrpc: "2.0", id: 4, error: { code: -32603, message: "Internal error", data: { app_code: "internal" } } });
    }
  });

  it("leaves every other method, and a call that asks for progress, to the SDK", () => {
    const headers = { accept: "application/json, text/event-stream", "content-type": "application/json", "mcp-protocol-version": "2025-11-25" };
    const post = (body: unknown) => new Request("http://localhost/mcp", { method: "POST", headers, body: JSON.stringify(body) });
    for (const body of [
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      { jsonrpc: "2.0", id: 1, method: "initialize", params: {} },
      { jsonrpc: "2.0", method: "tools/call", params: { name: "echo" } },
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", _meta: { progressToken: 1 } } },
      [{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo" } }],
    ]) {
      expect(plainToolCall(post(body), body), JSON.stringify(body)).toBeUndefined();
    }
  });
});
