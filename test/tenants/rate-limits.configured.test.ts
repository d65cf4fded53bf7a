/**
 * Per-agent rate limits on binds and tool calls (the platform's rate limiting bindings, set low for this
 * project in vitest.config.ts: 3 binds and 5 calls a minute per agent): over the limit, 429 `rate_limited` with
 * `Retry-After`, on REST, tRPC and MCP alike; one agent's traffic never spends another's; no agent, no limit.
 */
import { describe, expect, it } from "vitest";
import { call, newSessionId } from "../support/api";

const bindAs = (agent: string) => call(`/api/v1/mcp/sessions/${newSessionId("rl-bind")}/bind`, { body: { device_id: "d", agent_id: agent } });
const timeCall = (sessionId: string) => call("/api/v1/mcp/tools/local_get_time/execute", { body: { session_id: sessionId, arguments: {} } });

describe("per-agent rate limits", () => {
  it("refuse binds over the agent's limit with 429 and Retry-After, and leave other agents alone", async () => {
    const agent = newSessionId("rl-agent");
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await bindAs(agent)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await bindAs(agent);
    expect(refused.body.error.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await bindAs(newSessionId("rl-other"))).status).toBe(200);
  });

  it("refuse tool calls over the agent's limit on every transport; sessions of no agent are not limited", async () => {
    const agent = newSessionId("rl-calls");
    const sessionId = newSessionId("rl-session");
    expect((await call(`/api/v1/mcp/sessions/${sessionId}/bind`, { body: { device_id: "d", agent_id: agent } })).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await timeCall(sessionId)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const rest = await timeCall(sessionId);
    expect(rest.status).toBe(429);
    expect(rest.headers.get("retry-after")).toBe("60");
    const trpc = await call("/trpc/executeTool", { body: { session_id: sessionId, tool_name: "local_get_time", arguments: {} } });
    expect(trpc.status).toBe(429);
    expect(trpc.headers.get("retry-after")).toBe("60");
    expect(trpc.body.error.data.app_code).toBe("rate_limited");
    const mcp = await call(`/api/v1/mcp/sessions/${sessionId}/mcp`, {
      body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "local_get_time", arguments: {} } },
      headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
    });
    expect(mcp.body.error).toMatchObject({ code: -32008, data: { app_code: "rate_limited", details: { retry_after_seconds: 60 } } });

    const free = newSessionId("rl-free");
    expect((await call(`/api/v1/mcp/sessions/${free}/bind`, { body: { device_id: "d" } })).status).toBe(200);
    for (let i = 0; i < 8; i += 1) expect((await timeCall(free)).status).toBe(200);
  });
});
