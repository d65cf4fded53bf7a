/**
 * End to end under the production runtime rules: a real `wrangler dev` (which, unlike the vitest pool,
 * forbids code generation from strings, as production does) reaching a real server-everything over
 * Streamable HTTP, listing and calling `get-structured-content`, a tool that declares an outputSchema; then
 * the runtime restarted on the same persisted state, with and without the upstream restarted meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEverythingServer, type EverythingServer } from "../fixtures/upstream-servers";
import { Service } from "./support";

let everything: EverythingServer;
let service: Service;
const output = () => service.output();
const api = (path: string, body?: unknown) => service.api(path, body);

/** A 2026-07-28 `tools/call` on the shared `/mcp` endpoint (the Worker calls the upstream itself). */
async function sharedCall(tool: string, args: Record<string, unknown>): Promise<any> {
  const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "e2e", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };
  const response = await fetch(`${service.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: "Bearer e2e-token",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/call",
      "mcp-name": tool,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: tool, arguments: args, _meta: envelope } }),
    signal: AbortSignal.timeout(30_000),
  });
  return response.json();
}

beforeAll(async () => {
  everything = await startEverythingServer();
  service = new Service({ mcpServers: { everything: { url: everything.url, transport: "streamable-http", timeout_ms: 10_000 } } });
  await service.start();
});

afterAll(async () => {
  await service?.dispose();
  await everything?.stop();
});

describe("external MCP server under wrangler dev", () => {
  it("lists and calls get-structured-content (declares an outputSchema) through the service", async () => {
    const bound = await api("/api/v1/mcp/sessions/e2e-1/bind", { device_id: "aa:bb:cc:dd:ee:ff" });
    expect(bound.status, JSON.stringify(bound.body) + output()).toBe(200);

    const listed = await api("/api/v1/mcp/tools?session_id=e2e-1");
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    const tool = listed.body.tools.find((t: { name: string }) => t.name === "mcp_get-structured-content");
    expect(tool, `tools: ${listed.body.tools.map((t: { name: string }) => t.name).join(", ")}\n${output()}`).toBeDefined();
    expect(tool.input_schema).toMatchObject({ type: "object", properties: { location: { enum: ["New York", "Chicago", "Los Angeles"] } } });

    const called = await api("/api/v1/mcp/tools/mcp_get-structured-content/execute", { session_id: "e2e-1", arguments: { location: "New York" } });
    expect(called.status, JSON.stringify(called.body) + output()).toBe(200);
    expect(called.body).toMatchObject({ success: true, action: "req_llm" });
    expect(JSON.parse(called.body.result)).toEqual({ temperature: 33, conditions: "Cloudy", humidity: 82 });

    const echo = await api("/api/v1/mcp/tools/mcp_echo/execute", { session_id: "e2e-1", arguments: { message: "from e2e" } });
    expect(echo.body).toEqual({ success: true, action: "req_llm", result: "Echo: from e2e" });
  });

  it("reports the server healthy with its tool count", async () => {
    const servers = await api("/api/v1/mcp/servers");
    expect(servers.status).toBe(200);
    expect(servers.body.servers).toEqual([
      expect.objectContaining({ name: "everything", state: "healthy", transport: "streamable-http", last_error: null }),
    ]);
    expect(servers.body.servers[0].tool_count).toBeGreaterThan(5);
    expect(output()).not.toMatch(/Code generation from strings disallowed/);
  });
});

describe("the runtime restarted on the same persisted state", () => {
  // server-everything speaks 2025 Streamable HTTP: its MCP session id is kept in the upstream's object (in
  // storage) and used by every caller's direct call. After a restart of the runtime it is read back; after a
  // restart of the upstream too, it is stale, and the first call renews it (the refusal proves it did not run).
  it("calls the upstream at once on the stored MCP session, and renews it when the upstream restarted meanwhile", async () => {
    const session = "e2e-restart";
    expect((await api(`/api/v1/mcp/sessions/${session}/bind`, { device_id: "aa:bb:cc:dd:ee:ff" })).status).toBe(200);
    const echo = (message: string) => api("/api/v1/mcp/tools/mcp_echo/execute", { session_id: session, arguments: { message } });
    expect((await echo("before")).body).toEqual({ success: true, action: "req_llm", result: "Echo: before" });

    await service.stop();
    await service.start();
    const afterRestart = await echo("after a restart");
    expect(afterRestart.body, JSON.stringify(afterRestart.body) + output()).toEqual({ success: true, action: "req_llm", result: "Echo: after a restart" });
    expect((await sharedCall("mcp_echo", { message: "shared" })).result?.structuredContent).toMatchObject({ success: true, result: "Echo: shared" });

    const renewals = () => output().split("\n").filter((line) => line.includes('"event":"upstream.renew"')).length;
    expect(renewals(), "the stored session served after the runtime's restart").toBe(0);
    // Both down; the upstream comes back first, as a new process that knows no session of ours.
    await service.stop();
    const port = everything.port;
    await everything.stop();
    everything = await startEverythingServer({ port });
    await service.start();
    const renewed = await echo("after both restarted");
    expect(renewed.body, JSON.stringify(renewed.body) + output()).toEqual({ success: true, action: "req_llm", result: "Echo: after both restarted" });
    expect(renewals(), "the stale session was renewed").toBeGreaterThan(0);
    const shared = await sharedCall("mcp_echo", { message: "shared again" });
    expect(shared.result?.structuredContent, JSON.stringify(shared)).toMatchObject({ success: true, result: "Echo: shared again" });
    const servers = await api("/api/v1/mcp/servers");
    expect(servers.body.servers[0]).toMatchObject({ name: "everything", state: "healthy" });
  });
});
