/**
 * The MCP endpoints, driven by the official SDK client over Streamable HTTP against the real Worker and
 * session Durable Object.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, bind, call, newSessionId, TOKEN } from "../support/api";
import { FakeEsp32, standardTools } from "../support/fake-esp32";
import { waitFor } from "../support/wait";

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close().catch(() => undefined)));
});

async function connect(path: string) {
  const client = new Client({ name: "endpoint-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  const changes = { count: 0 };
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    changes.count += 1;
  });
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}${path}`), {
    fetch: (url, init) => exports.default.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
  });
  await client.connect(transport);
  open.push(client);
  return { client, changes };
}

describe("session MCP endpoint", () => {
  it("lists the session's catalogue exactly as getTools and calls tools through the same core", async () => {
    const id = newSessionId("mcp");
    await bind(id, { vision_url: "http://vision.example/x", token: "vt" });
    const { client, changes } = await connect(`/api/v1/mcp/sessions/${id}/mcp`);
    expect(client.getServerVersion()?.name).toBe("xiaozhi-mcp-service");

    const rest = (await call(`/api/v1/mcp/tools?session_id=${id}`)).body.tools;
    const listed = (await client.listTools()).tools;
    expect(listed.map((tool) => tool.name)).toEqual(rest.map((tool: { name: string }) => tool.name));
    expect(listed.find((tool) => tool.name === "local_exit")?.inputSchema).toEqual(rest.find((tool: { name: string }) => tool.name === "local_exit").input_schema);

    const exit = await client.callTool({ name: "local_exit", arguments: { say_goodbye: "拜拜" } });
    expect(exit.isError).toBe(false);
    expect(exit.structuredContent).toEqual({ success: true, action: "call_handler", result: { handler: "mcp_handler_exit", args: "拜拜" } });
    expect(exit.content).toEqual([{ type: "text", text: JSON.stringify({ handler: "mcp_handler_exit", args: "拜拜" }) }]);

    await expect(client.callTool({ name: "local_nothing", arguments: {} })).rejects.toThrow(/not available/);
    // Arguments the tool refuses: a tool result the model can read and retry on, not a protocol error.
    const refused = await client.callTool({ name: "local_change_role", arguments: { role: "pirate" } });
    expect(refused.isError).toBe(true);
    expect(refused.content).toEqual([{ type: "text", text: expect.stringMatching(/^Invalid arguments for local_change_role/) }]);

    // A device attaching and leaving changes the catalogue: connected clients hear about it, once each time.
    const device = new FakeEsp32(standardTools());
    device.sessionId = id;
    const relay = await device.attachWebSocket(id);
    await waitFor(() => (changes.count >= 1 ? true : undefined), 5000, "list_changed once the device's tools are listed");
    const withDevice = (await client.listTools()).tools.map((tool) => tool.name);
    expect(withDevice.slice(0, 3)).toEqual(["self_get_device_status", "self_audio_speaker_set_volume", "self_camera_take_photo"]);
    const volume = await client.callTool({ name: "self_audio_speaker_set_volume", arguments: { volume: 33 } });
    expect(volume.structuredContent).toEqual({ success: true, action: "req_llm", result: "true" });
    const photo = await client.callTool({ name: "self_camera_take_photo", arguments: { question: "what?" } });
    expect(photo.structuredContent).toMatchObject({ action: "call_handler", result: { handler: "mcp_handler_take_photo" } });

    const before = changes.count;
    relay.close();
    await waitFor(() => (changes.count > before ? true : undefined), 5000, "list_changed on detach");
    expect((await client.listTools()).tools.some((tool) => tool.name.startsWith("self_"))).toBe(false);
    const gone = await client.callTool({ name: "self_audio_speaker_set_volume", arguments: { volume: 1 } }).catch((error: Error) => error);
    expect(String(gone)).toMatch(/No device relay/);
  });

  it("is stateless: a request with a stale Mcp-Session-Id is served, and none is issued", async () => {
    const id = newSessionId("mcp");
    await bind(id);
    const response = await exports.default.fetch(
      new Request(`${BASE}/api/v1/mcp/sessions/${id}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKEN}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": "does-not-exist",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      }),
    );
    // Any isolate answers any request: no MCP session lives anywhere, so none can be lost (an evicted object,
    // a restart) and a client holding an old id from before is simply served.
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect(await response.text()).toContain('"local_get_time"');
  });

  it("refuses unbound sessions, missing tokens and foreign origins, as JSON-RPC errors with app_code", async () => {
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const headers = { accept: "application/json, text/event-stream" };
    const unbound = await call(`/api/v1/mcp/sessions/${newSessionId("nobody")}/mcp`, { body: initialize, headers });
    expect(unbound.status).toBe(404);
    expect(unbound.body).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32002, message: "Session is not bound", data: { app_code: "session_not_found" } } });
    const anonymous = await call("/mcp", { body: initialize, headers, token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(anonymous.body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32001, data: { app_code: "unauthorized" } } });
    const foreign = await call("/mcp", { body: initialize, headers: { ...headers, origin: "http://evil.example.com" } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.data.app_code).toBe("forbidden");
    const viaQuery = await call(`/mcp?token=${TOKEN}`, { body: initialize, headers, token: null });
    expect(viaQuery.status).toBe(200);
  });
});

describe("shared MCP endpoint", () => {
  it("serves the shared catalogue (local tools) to generic MCP clients", async () => {
    const { client } = await connect("/mcp");
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain("local_get_time");
    expect(names.some((name) => name.startsWith("self_"))).toBe(false);
    const time = await client.callTool({ name: "local_get_time", arguments: {} });
    expect(time.structuredContent).toMatchObject({ success: true, action: "req_llm" });
  });
});
