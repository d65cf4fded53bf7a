/**
 * Structured logs: one JSON line per request and per tool call with the fields operators query by, and no
 * secret anywhere — bearer tokens (header or MCP `?token=`), the scrape token, a rejected token, and the
 * vision token a gateway binds.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/http/app";
import { BASE, bind, call, newSessionId, TOKEN } from "../support/api";
import { FakeEsp32, standardTools } from "../support/fake-esp32";
import { waitFor } from "../support/wait";
import { scrapeUntil, sum } from "./scrape";

const SECRETS = {
  service: TOKEN,
  second: "test-token-2",
  scrape: "scrape-secret-9c1e",
  rejected: "rejected-secret-55d0",
  vision: "vision-secret-a7b2",
};

afterEach(() => vi.restoreAllMocks());

function captureLogs(): { lines: () => string[] } {
  const captured: string[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void captured.push(args.map(String).join(" ")));
  }
  return { lines: () => [...captured] };
}

describe("structured logs", () => {
  it("write one JSON line per request and per tool call, and never a token", async () => {
    const logs = captureLogs();
    const id = newSessionId("logs");
    await bind(id, { vision_url: "http://vision.example/explain", token: SECRETS.vision });
    const device = new FakeEsp32(standardTools());
    device.sessionId = id;
    const relay = await device.attachWebSocket(id, SECRETS.second);
    await waitFor(async () => ((await call(`/api/v1/mcp/sessions/${id}`)).body.relay?.phase === "ready" ? true : undefined), 5000, "device ready");
    expect((await call("/api/v1/mcp/tools/local_get_time/execute", { body: { session_id: id, arguments: {} } })).status).toBe(200);
    expect((await call("/api/v1/mcp/tools/self_camera_take_photo/execute", { body: { session_id: id, arguments: { question: "what?" } } })).status).toBe(200);
    expect(device.vision?.token).toBe(SECRETS.vision); // the device did receive it
    const mcp = await call(`/api/v1/mcp/sessions/${id}/mcp?token=${SECRETS.service}`, {
      token: null,
      headers: { accept: "application/json, text/event-stream" },
      body: { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } },
    });
    expect(mcp.status).toBe(200);
    expect((await call("/api/v1/mcp/tools?session_id=x", { token: SECRETS.rejected })).status).toBe(401);
    const ctx = createExecutionContext();
    const scrape = await app.fetch(
      new Request("http://service.test/metrics", { headers: { authorization: `Bearer ${SECRETS.scrape}` } }),
      { ...env, METRICS_TOKEN: SECRETS.scrape } as Env,
      ctx,
    );
    expect(scrape.status).toBe(200);
    await waitOnExecutionContext(ctx);
    relay.close();
    await scrapeUntil((s) => sum(s, "mcp_tool_execution_total") >= 2, "tool calls recorded");

    const lines = logs.lines();
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) expect(Object.keys(entry).slice(0, 3)).toEqual(["ts", "level", "event"]);
    for (const secret of Object.values(SECRETS)) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }

    const requests = entries.filter((entry) => entry.event === "http.request");
    expect(requests.length).toBeGreaterThanOrEqual(8);
    for (const request of requests) {
      expect(request).toMatchObject({ request_id: expect.any(String), method: expect.any(String), route: expect.any(String), status: expect.any(Number), duration_ms: expect.any(Number), outcome: expect.any(String) });
    }
    expect(requests).toContainEqual(
      expect.objectContaining({ route: "/api/v1/mcp/tools/:toolName/execute", tool: "local_get_time", status: 200, outcome: "ok" }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ route: "/api/v1/mcp/sessions/:sessionId/bind", session_id: id, status: 200 }));
    expect(requests).toContainEqual(expect.objectContaining({ status: 401, outcome: "client_error" }));

    const toolCalls = entries.filter((entry) => entry.event === "tool.call");
    expect(toolCalls).toContainEqual(
      expect.objectContaining({ request_id: expect.stringMatching(/.+/), session_id: id, tool_name: "local_get_time", source: "local", status: "success", duration_ms: expect.any(Number) }),
    );
    expect(toolCalls).toContainEqual(expect.objectContaining({ session_id: id, tool_name: "self_camera_take_photo", source: "device", status: "success" }));
    // One line per call: the Worker writes it for REST calls, and the session object does not write a second.
    expect(toolCalls.filter((entry) => entry.tool_name === "local_get_time")).toHaveLength(1);
    expect(toolCalls.filter((entry) => entry.tool_name === "self_camera_take_photo")).toHaveLength(1);
    const timeRequest = requests.find((entry) => entry.tool === "local_get_time");
    expect(toolCalls.find((entry) => entry.tool_name === "local_get_time")?.request_id).toBe(timeRequest?.request_id);
  });

  it("write one tool.call line for a call through the session's MCP endpoint, carrying its request's id", async () => {
    const id = newSessionId("logs-mcp");
    await bind(id);
    const client = new Client({ name: "logs-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${BASE}/api/v1/mcp/sessions/${id}/mcp`), {
        fetch: (url, init) => exports.default.fetch(new Request(url, init)),
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    const logs = captureLogs();
    const exit = await client.callTool({ name: "local_exit", arguments: { say_goodbye: "bye" } });
    expect(exit.isError).toBe(false);
    await client.close();

    const entries = logs.lines().map((text) => JSON.parse(text) as Record<string, unknown>);
    const toolCalls = entries.filter((entry) => entry.event === "tool.call");
    // The Worker serves the MCP exchange and writes the line, as for REST: the request's id ties them together.
    expect(toolCalls).toEqual([expect.objectContaining({ session_id: id, tool_name: "local_exit", source: "local", status: "success", request_id: expect.any(String) })]);
    const requests = entries.filter((entry) => entry.event === "http.request" && entry.request_id === toolCalls[0]?.request_id);
    expect(requests).toHaveLength(1);
  });
});

describe("request log line", () => {
  it("clips an oversized path and path parameter instead of logging them whole", async () => {
    const logs = captureLogs();
    const huge = "t".repeat(2000);
    expect((await call(`/api/v1/mcp/tools/${huge}/execute`, { body: { session_id: "x", arguments: {} } })).status).toBe(400);
    const line = logs
      .lines()
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.event === "http.request" && entry.status === 400);
    expect(line?.tool).toBe(`${"t".repeat(128)}…`);
    expect(String(line?.path)).toHaveLength(513);
  });
});
