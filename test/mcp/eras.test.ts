/**
 * Both protocol eras on every MCP endpoint (the session's, `/mcp`, `/mcp?agent_id=`), driven by the official
 * clients against the real Worker and objects: the v2 client pinned to 2026-07-28, in `auto` and in `legacy`
 * mode, and the v1 client as gateways use it today — each lists, calls, and hears `tools/list_changed` when the
 * catalogue changes (a device attaching to the session, a provider dialing in to the agent). Then hundreds of
 * clients at once on `/mcp`: nothing caps them.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, bind, call, newSessionId, TOKEN } from "../support/api";
import { FakeEsp32, standardTools } from "../support/fake-esp32";
import { waitFor } from "../support/wait";
import { WebSocketServerSideTransport } from "../support/websocket-transport";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((close) => close().catch(() => undefined)));
});

const workerFetch = (url: string | URL, init?: RequestInit) => exports.default.fetch(new Request(url, init));
const headers = { authorization: `Bearer ${TOKEN}` };

type Mode = "pin" | "auto" | "legacy" | "v1";
const MODES: Mode[] = ["pin", "auto", "legacy", "v1"];

/** What a test needs of either client generation. */
interface Connected {
  era: "modern" | "legacy";
  version: string | undefined;
  names(): Promise<string[]>;
  call(name: string, args: Record<string, unknown>): Promise<{ structuredContent?: unknown; isError?: boolean }>;
  /** How many `tools/list_changed` notifications arrived. */
  changes: { count: number };
}

async function connect(path: string, mode: Mode): Promise<Connected> {
  const url = new URL(`${BASE}${path}`);
  const changes = { count: 0 };
  if (mode === "v1") {
    const client = new ClientV1({ name: "eras-v1", version: "1" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes.count += 1;
    });
    await client.connect(new TransportV1(url, { fetch: workerFetch, requestInit: { headers } }));
    cleanup.push(() => client.close());
    return {
      era: "legacy",
      version: undefined,
      names: async () => (await client.listTools()).tools.map((tool) => tool.name),
      // The v1 result type also admits the pre-2025 `toolResult` shape; this server never sends it.
      call: async (name, args) => (await client.callTool({ name, arguments: args })) as { structuredContent?: unknown; isError?: boolean },
      changes,
    };
  }
  const client = new ClientV2(
    { name: `eras-${mode}`, version: "1" },
    {
      versionNegotiation: { mode: mode === "pin" ? { pin: "2026-07-28" } : mode },
      // Modern: opens `subscriptions/listen` after connect; legacy: handles the GET stream's notifications.
      listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: () => void (changes.count += 1) } },
    },
  );
  await client.connect(new TransportV2(url, { fetch: workerFetch, requestInit: { headers } }), { timeout: 10_000 });
  cleanup.push(() => client.close());
  return {
    era: client.getProtocolEra() ?? "legacy",
    version: client.getNegotiatedProtocolVersion(),
    // `bypass`: what the server answers now, not what the client cached under the list's ttlMs.
    names: async () => (await client.listTools(undefined, { cacheMode: "bypass" })).tools.map((tool) => tool.name),
    call: (name, args) => client.callTool({ name, arguments: args }),
    changes,
  };
}

function expectEra(connected: Connected, mode: Mode): void {
  if (mode === "pin" || mode === "auto") {
    expect(connected.era).toBe("modern");
    expect(connected.version).toBe("2026-07-28");
  } else {
    expect(connected.era).toBe("legacy");
  }
}

/** A dial-in provider: a real SDK MCP server with one tool, connected to `agent` over a minted URL. */
async function provider(agent: string, tool: string): Promise<void> {
  const minted = await call(`/api/v1/mcp/agents/${agent}/endpoint`, { body: { provider: tool } });
  const response = await exports.default.fetch(new Request(minted.body.endpoint.url.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } }));
  const server = new McpServer({ name: tool, version: "1" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  server.registerTool(tool, { description: `The ${tool} tool` }, async () => ({ content: [{ type: "text", text: `${tool} ran` }] }));
  await server.connect(new WebSocketServerSideTransport(response.webSocket!));
  cleanup.push(() => server.close());
}

describe.each(MODES)("%s client", (mode) => {
  it("on a session's endpoint: lists, calls, and hears the device attach and leave", async () => {
    const id = newSessionId(`eras-${mode}`);
    await bind(id);
    const client = await connect(`/api/v1/mcp/sessions/${id}/mcp`, mode);
    expectEra(client, mode);
    expect(await client.names()).toContain("local_exit");
    const exit = await client.call("local_exit", { say_goodbye: "再见" });
    expect(exit.structuredContent).toEqual({ success: true, action: "call_handler", result: { handler: "mcp_handler_exit", args: "再见" } });

    const device = new FakeEsp32(standardTools());
    device.sessionId = id;
    const relay = await device.attachWebSocket(id);
    await waitFor(() => (client.changes.count >= 1 ? true : undefined), 5_000, `${mode}: list_changed on attach`);
    await waitFor(async () => ((await client.names()).includes("self_audio_speaker_set_volume") ? true : undefined), 5_000, "device tools listed");
    const volume = await client.call("self_audio_speaker_set_volume", { volume: 40 });
    expect(volume.structuredContent).toEqual({ success: true, action: "req_llm", result: "true" });

    const before = client.changes.count;
    relay.close();
    await waitFor(() => (client.changes.count > before ? true : undefined), 5_000, `${mode}: list_changed on detach`);
  });

  it("on /mcp?agent_id=: lists, calls, and hears a provider dial in", async () => {
    const agent = newSessionId(`agent-${mode}`);
    const client = await connect(`/mcp?agent_id=${agent}`, mode);
    expectEra(client, mode);
    const time = await client.call("local_get_time", {});
    expect(time.structuredContent).toMatchObject({ success: true, action: "req_llm" });
    expect((await client.names()).some((name) => name.startsWith("weather_"))).toBe(false);

    // Provider tools are named `<provider>__<tool>`.
    const tool = `weather_${mode}__weather_${mode}`;
    await provider(agent, `weather_${mode}`);
    await waitFor(() => (client.changes.count >= 1 ? true : undefined), 5_000, `${mode}: list_changed when the provider dials in`);
    expect(await client.names()).toContain(tool);
    const ran = await client.call(tool, {});
    expect(ran.structuredContent).toMatchObject({ success: true, result: `weather_${mode} ran` });
  });

  it("on /mcp: lists and calls the shared catalogue", async () => {
    const client = await connect("/mcp", mode);
    expectEra(client, mode);
    const names = await client.names();
    expect(names).toContain("local_get_time");
    expect(names.some((name) => name.startsWith("self_"))).toBe(false);
    expect((await client.call("local_get_time", {})).structuredContent).toMatchObject({ success: true, action: "req_llm" });
  });
});

describe("the wire", () => {
  const modern = (method: string, name?: string) => ({
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": method,
    ...(name ? { "mcp-name": name } : {}),
  });
  const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };

  it("tools/list carries ttlMs and a private cacheScope; server/discover names 2026-07-28", async () => {
    const listed = await call("/mcp", { body: { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: envelope } }, headers: modern("tools/list") });
    expect(listed.status).toBe(200);
    expect(listed.body.result).toMatchObject({ resultType: "complete", ttlMs: 5_000, cacheScope: "private" });
    const discovered = await call("/mcp", { body: { jsonrpc: "2.0", id: 2, method: "server/discover", params: { _meta: envelope } }, headers: modern("server/discover") });
    expect(discovered.body.result.supportedVersions).toEqual(["2026-07-28"]);
    expect(discovered.body.result.capabilities.tools).toEqual({ listChanged: true });
  });

  it("refuses a 2026-07-28 call whose Mcp-Name disagrees with its body, with app_code", async () => {
    const body = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "local_get_time", arguments: {}, _meta: envelope } };
    const mismatch = await call("/mcp", { body, headers: modern("tools/call", "local_exit") });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.data.app_code).toBe("invalid_request");
  });

  it("keeps the 2025 notification stream alive with comments, and ends it when the session ends", async () => {
    const id = newSessionId("stream");
    await bind(id);
    const response = await exports.default.fetch(new Request(`${BASE}/api/v1/mcp/sessions/${id}/mcp`, { headers: { ...headers, accept: "text/event-stream" } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe(": keepalive\n\n");
    expect((await call(`/api/v1/mcp/sessions/${id}`, { method: "DELETE" })).status).toBe(200);
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });

  it("acknowledges a 2026-07-28 listen on a session's endpoint, and ends it when the session ends", async () => {
    const id = newSessionId("listen");
    await bind(id);
    const response = await exports.default.fetch(
      new Request(`${BASE}/api/v1/mcp/sessions/${id}/mcp`, {
        method: "POST",
        headers: { ...headers, ...modern("subscriptions/listen") },
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "subscriptions/listen", params: { notifications: { toolsListChanged: true }, _meta: envelope } }),
      }),
    );
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("notifications/subscriptions/acknowledged")) seen += (await reader.read()).value ?? "";
    expect((await call(`/api/v1/mcp/sessions/${id}`, { method: "DELETE" })).status).toBe(200);
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });

  it("refuses a notification stream for a session nobody bound", async () => {
    const response = await call(`/api/v1/mcp/sessions/${newSessionId("nobody")}/mcp`, { headers: { accept: "text/event-stream" } });
    expect(response.status).toBe(404);
    expect(response.body.error.data.app_code).toBe("session_not_found");
  });
});

describe("many clients on /mcp", () => {
  it("serves 300 clients at once, of every kind, all of them", async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 300 }, async (_, i) => {
        const client = await connect("/mcp", MODES[i % MODES.length]!);
        const names = await client.names();
        const called = await client.call("local_get_time", {});
        return names.includes("local_get_time") && (called.structuredContent as { success?: boolean }).success === true;
      }),
    );
    const failures = outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => String((outcome as PromiseRejectedResult).reason));
    expect(failures.slice(0, 3)).toEqual([]);
    expect(outcomes.every((outcome) => outcome.status === "fulfilled" && outcome.value)).toBe(true);
  }, 60_000);
});
