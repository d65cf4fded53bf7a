/**
 * Fault injection on the local source, through every transport (REST, tRPC, MCP) of the real Worker: what a
 * careless or hostile client sends — deep nesting, wrong types, arrays for objects, oversized bodies, unknown
 * tools, floods — gets one clear error with a stable code, never a 500, and on MCP routes a JSON-RPC error
 * with `data.app_code` (tool argument errors as `isError` results the model can read).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, bind, call, newSessionId, TOKEN } from "../../support/api";

const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
const JSON_HEADERS = { "content-type": "application/json" };
const MCP_HEADERS = { ...JSON_HEADERS, accept: "application/json, text/event-stream" };

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
});

/** An initialized MCP session on `path`; returns a poster of raw JSON-RPC bodies. */
async function mcpSession(path: string) {
  const post = (body: string, sessionId?: string) =>
    call(path, { rawBody: body, headers: { ...MCP_HEADERS, ...(sessionId ? { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" } : {}) } });
  const init = await exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    }),
  );
  const sessionId = init.headers.get("mcp-session-id")!;
  await init.text();
  await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), sessionId);
  return (body: unknown) => post(typeof body === "string" ? body : JSON.stringify(body), sessionId);
}

/** The JSON-RPC message of an answer that may come as JSON or as one SSE event. */
function rpcMessage(body: unknown): { id: unknown; result?: any; error?: { code: number; message: string; data?: { app_code?: string } } } {
  if (typeof body !== "string") return body as never;
  const data = /^data: (.*)$/m.exec(body)?.[1];
  return JSON.parse(data ?? body);
}

describe("REST and tRPC", () => {
  it("answer deeply nested arguments with 400 invalid_request, not 500", async () => {
    const id = newSessionId("local");
    await bind(id);
    const rest = await call("/api/v1/mcp/tools/local_exit/execute", { rawBody: `{"session_id":"${id}","arguments":{"say_goodbye":${deep(2_000)}}}`, headers: JSON_HEADERS });
    expect(rest.status).toBe(400);
    expect(rest.body.error).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/max_json_depth/) });
    const trpc = await call("/trpc/executeTool", { rawBody: `{"session_id":"${id}","tool_name":"local_exit","arguments":{"x":${deep(10_000)}}}`, headers: JSON_HEADERS });
    expect(trpc.status).toBe(400);
    expect(trpc.body.error.data.app_code).toBe("invalid_request");
    // Just under the limit is fine: the tool's own schema says what is wrong.
    const shallow = await call("/api/v1/mcp/tools/local_exit/execute", { rawBody: `{"session_id":"${id}","arguments":{"say_goodbye":${deep(40)}}}`, headers: JSON_HEADERS });
    expect(shallow.status).toBe(400);
    expect(shallow.body.error.message).toMatch(/Invalid arguments for local_exit/);
  });

  it("answer wrong types, arrays for objects and unknown tools with their own codes", async () => {
    const id = newSessionId("local");
    await bind(id);
    const array = await call("/api/v1/mcp/tools/local_exit/execute", { body: { session_id: id, arguments: ["bye"] } });
    expect(array.status).toBe(400);
    expect(array.body.error.code).toBe("invalid_request");
    const unknown = await call("/api/v1/mcp/tools/local_nothing/execute", { body: { session_id: id, arguments: {} } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("tool_not_found");
    const wrongType = await call("/api/v1/mcp/tools/local_exit/execute", { body: { session_id: id, arguments: { say_goodbye: 7 } } });
    expect(wrongType.status).toBe(400);
  });

  it("serve a flood of concurrent calls on one session, every one answered", async () => {
    const id = newSessionId("local");
    await bind(id);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call("/api/v1/mcp/tools/local_exit/execute", { body: { session_id: id, arguments: { say_goodbye: `bye ${i}` } } })),
    );
    expect(results.map((result) => result.body.result?.args)).toEqual(Array.from({ length: 50 }, (_, i) => `bye ${i}`));
  });
});

describe("MCP routes", () => {
  it("answer an unknown tool with -32602 and its message once", async () => {
    const post = await mcpSession("/mcp");
    const answer = rpcMessage((await post({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "local_nothing", arguments: {} } })).body);
    expect(answer.error).toEqual({ code: -32602, message: "Tool 'local_nothing' is not available in this session", data: { app_code: "tool_not_found" } });

    const client = new Client({ name: "t", version: "1" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
        fetch: (url, init) => exports.default.fetch(new Request(url, init)),
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    clients.push(client);
    const thrown = await client.callTool({ name: "local_nothing", arguments: {} }).catch((error: Error) => error);
    expect(String((thrown as Error).message)).toBe("MCP error -32602: Tool 'local_nothing' is not available in this session");
  });

  it("answer wrong param types with -32602, one line and app_code; tool argument errors as isError results", async () => {
    const post = await mcpSession("/mcp");
    const cases: [unknown, RegExp][] = [
      [{ name: 42, arguments: {} }, /params\.name must be a string/],
      [{ name: "local_exit", arguments: ["bye"] }, /params\.arguments must be an object/],
      [{ arguments: {} }, /params\.name must be a string/],
    ];
    for (const [params, message] of cases) {
      const answer = rpcMessage((await post({ jsonrpc: "2.0", id: 3, method: "tools/call", params })).body);
      expect(answer.error?.code).toBe(-32602);
      expect(answer.error?.message).toMatch(message);
      expect(answer.error?.message).not.toContain("\n");
      expect(answer.error?.data?.app_code).toBe("invalid_request");
    }
    // params that are not even JSON-RPC (a string): the transport's own invalid-message error, with app_code.
    const notJsonRpc = await post({ jsonrpc: "2.0", id: 3, method: "tools/call", params: "not an object" });
    expect(notJsonRpc.status).toBe(400);
    expect(rpcMessage(notJsonRpc.body).error?.data?.app_code).toBe("invalid_request");
    const invalid = rpcMessage((await post({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "local_exit", arguments: { say_goodbye: 7 } } })).body);
    expect(invalid.error).toBeUndefined();
    expect(invalid.result.isError).toBe(true);
    expect(invalid.result.content[0].text).toMatch(/^Invalid arguments for local_exit/);
  });

  it("answer deep, oversized, unauthenticated and unrouted requests as JSON-RPC errors with app_code", async () => {
    const post = await mcpSession("/mcp");
    const tooDeep = await post(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"local_exit","arguments":{"x":${deep(10_000)}}}}`);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32602, data: { app_code: "invalid_request" } } });

    const huge = await call("/mcp", { rawBody: JSON.stringify({ jsonrpc: "2.0", id: 6, method: "ping", params: { pad: "x".repeat(70 * 1024) } }), headers: MCP_HEADERS });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ jsonrpc: "2.0", error: { data: { app_code: "payload_too_large" } } });

    const anonymous = await call("/mcp", { rawBody: "{}", headers: MCP_HEADERS, token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="xiaozhi-mcp-service"');
    expect(anonymous.body.error.data.app_code).toBe("unauthorized");

    const unrouted = await call("/mcp/nowhere", { rawBody: "{}", headers: MCP_HEADERS });
    expect(unrouted.status).toBe(404);
    expect(unrouted.body).toMatchObject({ jsonrpc: "2.0", error: { data: { app_code: "route_not_found" } } });

    // No MCP sessions (stateless): an id from an endpoint that had them is ignored, not an error.
    const stale = await call("/mcp", { rawBody: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" }), headers: { ...MCP_HEADERS, "mcp-session-id": "gone" } });
    expect(stale.status).toBe(200);
    expect(rpcMessage(stale.body).result.tools.length).toBeGreaterThan(0);

    const closing = await call("/mcp", { method: "DELETE", headers: { ...MCP_HEADERS, "mcp-session-id": "gone" } });
    expect(closing.status).toBe(405);
    expect(closing.body.error.data.app_code).toBe("route_not_found");

    const badSession = await call(`/api/v1/mcp/sessions/${"x".repeat(200)}/mcp`, { rawBody: "{}", headers: MCP_HEADERS });
    expect(badSession.status).toBe(400);
    expect(badSession.body.error.data.app_code).toBe("invalid_request");

    const notAcceptable = await call("/mcp", { rawBody: JSON.stringify({ jsonrpc: "2.0", id: 8, method: "initialize", params: {} }), headers: JSON_HEADERS });
    expect(notAcceptable.status).toBe(406);
    expect(notAcceptable.body.error.data.app_code).toBe("invalid_request");
  });
});
