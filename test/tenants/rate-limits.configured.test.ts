/**
 * Per-agent rate limits on binds and tool calls (the platform's rate limiting bindings, set low for this
 * project in vitest.config.ts: 3 binds and 5 calls a minute per agent): over the limit, 429 `rate_limited` with
 * `Retry-After`, on REST, tRPC and MCP alike (the shared endpoint and 接入点 consumers included); one agent's
 * traffic never spends another's; no agent, no limit.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closePeers, consumer, mintEndpoint, rawProvider, waitForProviders } from "../sources/dial-in/support";
import { GatewayClient, ServiceError } from "../../src/client";
import { workerFetch } from "../client/support";
import { BASE, call, newSessionId, TOKEN } from "../support/api";

afterEach(closePeers);

/**
 * The local limiter counts in windows aligned to the wall-clock minute: a test that spends a limit and expects the
 * next request refused must not straddle a minute's turn. Near the end of one, wait for the next.
 */
beforeEach(async () => {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 100));
}, 15_000);

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

  it("count tRPC binds with REST's, and refuse them with 429 and Retry-After", async () => {
    const agent = newSessionId("rl-trpc-bind");
    const trpcBind = () => call("/trpc/bindSession", { body: { session_id: newSessionId("rl-tb"), device_id: "d", agent_id: agent } });
    expect((await bindAs(agent)).status).toBe(200);
    expect([(await trpcBind()).status, (await trpcBind()).status]).toEqual([200, 200]);
    const refused = await trpcBind();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.body.error.data.app_code).toBe("rate_limited");
  });

  it("count the agent's calls through its shared /mcp endpoint, answered with a JSON-RPC rate_limited error", async () => {
    const agent = newSessionId("rl-shared");
    const shared = (id: number) =>
      call(`/mcp?agent_id=${agent}`, {
        body: { jsonrpc: "2.0", id, method: "tools/call", params: { name: "local_get_time", arguments: {} } },
        headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
      });
    for (let id = 1; id <= 5; id += 1) {
      const answered = await shared(id);
      expect(answered.body.error, JSON.stringify(answered.body)).toBeUndefined();
      expect(answered.body.result.isError ?? false).toBe(false);
    }
    const refused = await shared(6);
    expect(refused.body.error).toMatchObject({ code: -32008, data: { app_code: "rate_limited", details: { retry_after_seconds: 60 } } });
    // Another agent's endpoint is not spent.
    expect((await call(`/mcp?agent_id=${newSessionId("rl-shared-other")}`, {
      body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "local_get_time", arguments: {} } },
      headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
    })).body.result).toBeDefined();
  });

  it("count the calls of the agent's 接入点 consumers (xiaozhi-esp32-server) too: past the limit, a JSON-RPC error; the provider never hears it", async () => {
    const agent = newSessionId("rl-consumer");
    const { url } = await mintEndpoint(agent, { provider: "calc" });
    let heard = 0;
    await rawProvider(url, [{ name: "add" }], () => {
      heard += 1;
      return { content: [{ type: "text", text: "2" }] };
    });
    await waitForProviders(agent, 1);
    const client = await consumer(url);
    await client.handshake();
    for (let i = 0; i < 5; i += 1) expect((await client.call("calc__add", { a: 1, b: 1 })).text).toBe("2");
    const refused = (await client.call("calc__add", { a: 1, b: 1 }).catch((error: Error & { rpc?: unknown }) => error)) as Error & { rpc?: any };
    expect(refused.rpc).toMatchObject({ code: -32008, data: { app_code: "rate_limited" } });
    expect(heard).toBe(5);
  });

  it("reach the typed client as a rate_limited ServiceError with the seconds to wait", async () => {
    const agent = newSessionId("rl-client");
    const client = new GatewayClient({ baseUrl: BASE, token: TOKEN, fetch: workerFetch });
    for (let i = 0; i < 3; i += 1) await client.bindSession({ session_id: newSessionId("rl-c"), device_id: "d", agent_id: agent });
    const refused = await client.bindSession({ session_id: newSessionId("rl-c"), device_id: "d", agent_id: agent }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({ code: "rate_limited", status: 429, retryAfterSeconds: 60, isOutage: false });
  });
});
