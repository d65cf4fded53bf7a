/**
 * One error shape on the MCP endpoints, whatever a careless or hostile client sends: every JSON-RPC error the
 * service answers — its own, the SDK transport's, the SDK handlers' — carries `data.app_code` (a code of the
 * service's taxonomy) and a one-line message, and no request is answered 5xx. Property-based: methods real and
 * made up, params of every JSON shape, both eras' headers, the shared endpoint and a session's.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isErrorCode } from "../../src/core/errors";
import { bind, call, newSessionId } from "../support/api";

const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "fuzz", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };
const METHODS = ["tools/list", "tools/call", "server/discover", "subscriptions/listen", "initialize", "ping", "resources/list", "prompts/get", "completion/complete", "logging/setLevel", "notifications/initialized"];

const exchange = fc.record({
  era: fc.constantFrom("modern", "legacy"),
  method: fc.oneof({ arbitrary: fc.constantFrom(...METHODS), weight: 4 }, fc.string({ maxLength: 12 })),
  params: fc.oneof(
    fc.constant(undefined),
    fc.record({ name: fc.oneof(fc.constantFrom("local_get_time", "nope", ""), fc.jsonValue()), arguments: fc.oneof(fc.constant({}), fc.jsonValue()) }, { requiredKeys: [] }),
    fc.record({ cursor: fc.jsonValue(), notifications: fc.jsonValue() }, { requiredKeys: [] }),
    fc.jsonValue({ maxDepth: 3 }),
  ),
  id: fc.oneof(fc.integer(), fc.string({ maxLength: 6 })),
  nameHeader: fc.boolean(),
  /** 2025-03-26 only: the message sent twice, in a batch. */
  batch: fc.boolean(),
});

type Exchange = typeof exchange extends fc.Arbitrary<infer T> ? T : never;

function request({ era, method, params, id, nameHeader, batch }: Exchange) {
  const modern = era === "modern";
  const withMeta = modern && params !== null && typeof params === "object" && !Array.isArray(params) ? { ...params, _meta: envelope } : params;
  const headers: Record<string, string> = { accept: "application/json, text/event-stream", "mcp-protocol-version": modern ? "2026-07-28" : "2025-06-18" };
  if (modern) headers["mcp-method"] = method;
  const name = (params as { name?: unknown } | undefined)?.name;
  if (modern && nameHeader && typeof name === "string" && /^[\x21-\x7e]+$/.test(name)) headers["mcp-name"] = name;
  const message = { jsonrpc: "2.0", id, method, ...(withMeta === undefined ? {} : { params: withMeta }) };
  if (!batch || modern) return { body: message, headers };
  return { body: [message, { ...message, id: `${id}-again` }], headers: { ...headers, "mcp-protocol-version": "2025-03-26" } };
}

describe("JSON-RPC errors on the MCP endpoints", () => {
  it("always carry data.app_code and a one-line message, never a 5xx", async () => {
    const session = newSessionId("fuzz");
    await bind(session);
    await fc.assert(
      fc.asyncProperty(exchange, fc.constantFrom("/mcp", `/api/v1/mcp/sessions/${session}/mcp`), async (sent, path) => {
        const { body, headers } = request(sent);
        const answer = await call(path, { body, headers });
        expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
        if (answer.headers.get("content-type")?.includes("text/event-stream")) return; // a listen that opened (cancelled by call's read)
        type Message = { error?: { message?: unknown; data?: { app_code?: unknown } } } | undefined;
        for (const message of (Array.isArray(answer.body) ? answer.body : [answer.body]) as Message[]) {
          const error = message?.error;
          if (error === undefined) continue;
          expect(isErrorCode(error.data?.app_code), `${JSON.stringify(sent)} -> ${answer.status} ${JSON.stringify(answer.body)}`).toBe(true);
          expect(String(error.message)).not.toContain("\n");
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("a 2025-03-26 batch", () => {
  it("gives each error inside it its app_code", async () => {
    const headers = { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-03-26" };
    const batch = [
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      { jsonrpc: "2.0", id: 2, method: "resources/list" },
      { jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: 5 } },
    ];
    const answer = await call("/mcp", { body: batch, headers });
    expect(answer.status).toBe(200);
    const byId = new Map((answer.body as { id: number }[]).map((message) => [message.id, message]));
    expect(byId.get(1)).toMatchObject({ result: { tools: expect.any(Array) } });
    expect(byId.get(2)).toMatchObject({ error: { code: -32601, data: { app_code: "route_not_found" } } });
    expect(byId.get(3)).toMatchObject({ error: { code: -32602, data: { app_code: "invalid_request" } } });
  });
});

describe("the SDK's own refusals, in the service's taxonomy", () => {
  it.each([
    { what: "a 2025 unknown method", sent: { era: "legacy", method: "resources/list", params: {} }, code: -32601, app_code: "route_not_found" },
    { what: "a 2025 initialize its schema refuses", sent: { era: "legacy", method: "initialize", params: {} }, code: -32602, app_code: "invalid_request" },
    { what: "a tools/list cursor that is not a string (2025)", sent: { era: "legacy", method: "tools/list", params: { cursor: 5 } }, code: -32602, app_code: "invalid_request" },
    { what: "a tools/list cursor that is not a string (2026)", sent: { era: "modern", method: "tools/list", params: { cursor: 5 } }, code: -32602, app_code: "invalid_request" },
    { what: "a listen without a filter", sent: { era: "modern", method: "subscriptions/listen", params: {} }, code: -32602, app_code: "invalid_request" },
    { what: "a tools/call without params", sent: { era: "legacy", method: "tools/call", params: undefined }, code: -32602, app_code: "invalid_request" },
  ] as const)("$what: $app_code", async ({ sent, code, app_code }) => {
    const { body, headers } = request({ ...sent, id: 7, nameHeader: false, batch: false });
    const answer = await call("/mcp", { body, headers });
    expect(answer.body).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code, data: { app_code } } });
    expect(answer.body.error.message).not.toContain("\n");
  });
});
