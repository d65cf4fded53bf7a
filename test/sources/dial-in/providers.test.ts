/**
 * Tool providers that dial in (MCP endpoint): real SDK `McpServer`s connect over WebSocket with a minted
 * token; their tools reach the sessions bound to their agent, and only those.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { mintToken } from "../../../src/sources/dial-in/endpoint-token";
import { BASE, bind, call, newSessionId, TOKEN } from "../../support/api";
import { waitFor } from "../../support/wait";
import { closePeers, dialWorker, mintEndpoint, sdkProvider, toolNames, track, waitForTool } from "./support";

afterEach(closePeers);

/** Set when the provider's `slow` tool has been invoked: the call is then certainly in flight. */
const slowCalls = { started: 0 };

function calendarTools(server: McpServer) {
  server.registerTool(
    "add_event",
    { description: "Adds a calendar event", inputSchema: { title: z.string(), minutes: z.number(), remind: z.boolean(), tags: z.array(z.string()), meta: z.object({ room: z.string().nullable() }) } },
    async (args) => ({ content: [{ type: "text", text: `added ${JSON.stringify(args)}` }] }),
  );
  server.registerTool("slow", { description: "Never finishes in time" }, async () => {
    slowCalls.started += 1;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    return { content: [{ type: "text", text: "too late" }] };
  });
}

describe("dial-in tool providers", () => {
  it("serves a provider's tools to sessions of its agent only, with JSON arguments intact", async () => {
    const agent = newSessionId("agent");
    const endpoint = await mintEndpoint(agent, { provider: "calendar" });
    // Minted for xiaozhi-esp32-server too: its check passes (no `key`/`call`, has `/mcp/`), see endpoint.test.ts.
    expect(endpoint.url).toMatch(/^ws:\/\/service\.test\/mcp_endpoint\/mcp\/\?token=[0-9a-f]+\.[0-9a-f]{64}$/);
    await sdkProvider(endpoint.url, "calendar-server", calendarTools);

    const mine = newSessionId("mine");
    const other = newSessionId("other");
    await bind(mine, { agent_id: agent });
    await bind(other);
    await waitForTool(mine, "calendar__add_event");
    expect(await toolNames(other)).not.toContain("calendar__add_event");
    const listed = (await call(`/api/v1/mcp/tools?session_id=${mine}`)).body.tools.find((tool: { name: string }) => tool.name === "calendar__add_event");
    expect(listed).toMatchObject({ source: "provider", description: "Adds a calendar event" });
    expect(listed.input_schema.properties.meta.properties.room).toBeDefined();

    const args = { title: "dentist", minutes: 45, remind: true, tags: ["health", "me"], meta: { room: null } };
    const result = await call(`/api/v1/mcp/tools/calendar__add_event/execute`, { body: { session_id: mine, arguments: args } });
    expect(result.body).toEqual({ success: true, action: "req_llm", result: `added ${JSON.stringify(args)}` });
    const refused = await call(`/api/v1/mcp/tools/calendar__add_event/execute`, { body: { session_id: other, arguments: args } });
    expect(refused.status).toBe(404);

    const view = (await call(`/api/v1/mcp/sessions/${mine}`)).body;
    expect(view).toMatchObject({ agent_id: agent, tools: { provider: 2 } });
  });

  it("aggregates several providers on one agent, naming unnamed ones after their server", async () => {
    const agent = newSessionId("agent");
    await sdkProvider((await mintEndpoint(agent, { provider: "calendar" })).url, "calendar-server", calendarTools);
    await sdkProvider((await mintEndpoint(agent)).url, "weather", (server) =>
      server.registerTool("forecast", { description: "Weather forecast", inputSchema: { city: z.string() } }, async ({ city }) => ({
        content: [{ type: "text", text: `sunny in ${city}` }],
      })),
    );
    const session = newSessionId();
    await bind(session, { agent_id: agent });
    await waitForTool(session, "weather__forecast");
    await waitForTool(session, "calendar__add_event");
    const forecast = await call(`/api/v1/mcp/tools/weather__forecast/execute`, { body: { session_id: session, arguments: { city: "Hangzhou" } } });
    expect(forecast.body.result).toBe("sunny in Hangzhou");
    const providers = (await call(`/api/v1/mcp/agents/${agent}/providers`)).body.providers;
    expect(providers.map((p: { name: string }) => p.name)).toEqual(["calendar", "weather"]);
  });

  it("fails a provider's pending calls fast when it disconnects, drops its tools and tells MCP clients", async () => {
    const agent = newSessionId("agent");
    const { ws } = await sdkProvider((await mintEndpoint(agent, { provider: "calendar" })).url, "calendar-server", calendarTools);
    const session = newSessionId();
    await bind(session, { agent_id: agent });
    await waitForTool(session, "calendar__slow");

    const client = new Client({ name: "t", version: "1" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes += 1;
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${BASE}/api/v1/mcp/sessions/${session}/mcp`), {
        fetch: (url, init) => exports.default.fetch(new Request(url, init)),
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    track(() => client.close());
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("calendar__slow");

    const started = slowCalls.started;
    const pending = call(`/api/v1/mcp/tools/calendar__slow/execute`, { body: { session_id: session, arguments: {} } });
    await waitFor(() => (slowCalls.started > started ? true : undefined), 5000, "the call to reach the provider");
    ws.close(1000, "provider going away");
    const failed = await pending;
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("device_unavailable");
    await waitForTool(session, "calendar__add_event", false);
    await waitFor(() => (changes > 0 ? true : undefined), 5000, "list_changed after the provider left");
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("calendar__add_event");

    // Coming back, it is listed again and clients hear about it.
    const before = changes;
    await sdkProvider((await mintEndpoint(agent, { provider: "calendar" })).url, "calendar-server", calendarTools);
    await waitFor(() => (changes > before ? true : undefined), 5000, "list_changed after the provider came back");
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("calendar__add_event");
  });

  it("shares an agent's providers on /mcp?agent_id=", async () => {
    const agent = newSessionId("agent");
    await sdkProvider((await mintEndpoint(agent, { provider: "calendar" })).url, "calendar-server", calendarTools);
    const client = new Client({ name: "t", version: "1" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${BASE}/mcp?agent_id=${agent}`), {
        fetch: (url, init) => exports.default.fetch(new Request(url, init)),
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    track(() => client.close());
    await waitFor(async () => ((await client.listTools()).tools.some((t) => t.name === "calendar__add_event") ? true : undefined), 5000, "shared listing");
    const result = await client.callTool({ name: "calendar__add_event", arguments: { title: "x", minutes: 1, remind: false, tags: [], meta: { room: "a" } } });
    expect(result.structuredContent).toMatchObject({ success: true, action: "req_llm" });
  });

  it("closes bad or expired tokens with 1008, and validates mint requests", async () => {
    const expired = await mintToken("test-endpoint-secret", { sub: "a", iat: 1, exp: 2 });
    const forged = await mintToken("some-other-secret", { sub: "a", iat: 1, exp: 4_000_000_000 });
    for (const [token, reason] of [
      ["garbage", /Malformed/],
      [expired, /expired/],
      [forged, /signature/],
    ] as const) {
      const ws = await dialWorker(`ws://service.test/api/v1/mcp/endpoint?token=${token}`);
      const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
      ws.accept();
      const event = await closed;
      expect(event.code).toBe(1008);
      expect(event.reason).toMatch(reason);
    }
    const noUpgrade = await call(`/api/v1/mcp/endpoint?token=x`, { token: null });
    expect(noUpgrade.status).toBe(400);
    expect((await call(`/api/v1/mcp/agents/a/endpoint`, { body: { provider: "bad name!" } })).status).toBe(400);
    expect((await call(`/api/v1/mcp/agents/a/endpoint`, { body: {}, token: null })).status).toBe(401);
    expect((await call(`/api/v1/mcp/agents/bad agent/endpoint`, { body: {} })).status).toBe(400);
  });
});
