/**
 * Fault injection on external MCP servers: real upstream processes (2025 Streamable HTTP, legacy SSE, and
 * 2026-07-28) killed with SIGKILL and frozen with SIGSTOP in the middle of calls, through the real Worker and
 * Durable Objects (calls go straight from the session to the upstream, except over SSE).
 *
 * What must hold: a call fails as soon as its upstream is known gone (not at its timeout); every call ends
 * within its `timeout_ms`, connection set-up included; a retry of an unhealthy upstream never runs on another
 * request's path; the server is used again once it is back. The same on the shared `/mcp` endpoint, where the
 * Worker itself calls the upstream (no session object on the path).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../../support/api";

/** As configured by startFaultFixtures (test/fixtures/upstream-victims.ts). */
const TIMEOUT_MS = 4000;
const CONNECT_TIMEOUT_MS = 1500;

function control(server: string, action: string): Promise<Response> {
  const base = (env as unknown as { FAULT_CONTROL_URL: string }).FAULT_CONTROL_URL;
  return fetch(`${base}/${server}/${action}`, { method: "POST", signal: AbortSignal.timeout(20_000) });
}

async function session(): Promise<string> {
  const id = newSessionId("fault");
  await bind(id);
  return id;
}

async function execute(sessionId: string, tool: string, args: Record<string, unknown>) {
  const started = Date.now();
  const response = await call(`/api/v1/mcp/tools/${tool}/execute`, { body: { session_id: sessionId, arguments: args } });
  return { ...response, elapsed: Date.now() - started };
}

/** A 2026-07-28 `tools/call` on the shared `/mcp` endpoint: the JSON-RPC answer and how long it took. */
async function sharedCall(tool: string, args: Record<string, unknown>) {
  const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "faults", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };
  const headers = { accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": tool };
  const started = Date.now();
  const response = await call("/mcp", { body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: tool, arguments: args, _meta: envelope } }, headers });
  return { ...response, elapsed: Date.now() - started };
}

/** Calls `tool` on `/mcp` until it succeeds (the Worker's copy of the server's health lets it through again). */
async function eventuallyCallableShared(tool: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await sharedCall(tool, { marker: "back" });
    if (result.body?.result && result.body.result.isError !== true) return result;
    if (Date.now() > deadline) throw new Error(`${tool} never came back on /mcp: ${result.status} ${JSON.stringify(result.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function names(sessionId: string): Promise<string[]> {
  return (await call(`/api/v1/mcp/tools?session_id=${sessionId}`)).body.tools.map((tool: { name: string }) => tool.name);
}

/** Calls `tool` until it succeeds (the upstream is back and its backoff window has passed). */
async function eventuallyCallable(tool: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const id = await session();
    const result = await execute(id, tool, { marker: "back" });
    if (result.status === 200 && result.body.success) return result;
    if (Date.now() > deadline) throw new Error(`${tool} never came back: ${result.status} ${JSON.stringify(result.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("an upstream frozen before it was ever listed", () => {
  it("costs the first listing at most its connect timeout, and no later request waits for its retries", async () => {
    await control("victim_sse", "signal?signal=SIGSTOP");
    try {
      const first = await session(); // the first listing waits for discovery (bounded by connect_timeout_ms)
      expect(await names(first)).toContain("mcp_victim_echo");
      // The retry window opens (retry_initial_ms 300): requests now must not wait for the retry.
      await new Promise((resolve) => setTimeout(resolve, 700));
      for (let i = 0; i < 3; i += 1) {
        const started = Date.now();
        const id = await session();
        const listed = await names(id);
        expect(listed).not.toContain("mcp_victim_sse_echo");
        expect(Date.now() - started, "a bind and a listing while the frozen server is retried").toBeLessThan(CONNECT_TIMEOUT_MS);
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    } finally {
      await control("victim_sse", "signal?signal=SIGCONT");
    }
    await eventuallyCallable("mcp_victim_sse_echo");
  });
});

describe.each([
  { server: "victim", transport: "Streamable HTTP" },
  { server: "victim_sse", transport: "legacy SSE" },
  { server: "victim_modern", transport: "2026-07-28" },
])("$transport upstream ($server)", ({ server }) => {
  const slow = `mcp_${server}_slow`;
  const echo = `mcp_${server}_echo`;

  it("fails a call in flight at once when the upstream is killed (SIGKILL), then serves again after a restart", async () => {
    await eventuallyCallable(echo);
    const id = await session();
    const pending = execute(id, slow, { ms: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 600)); // the call is now running upstream
    await control(server, "signal?signal=SIGKILL");
    const result = await pending;
    // Not a 504: the call did not wait out its timeout.
    expect(result.status, JSON.stringify(result.body)).toBe(502);
    expect(result.body.error.code).toBe("upstream_error");
    expect(result.body.error.message).toMatch(/lost|closed|unreachable|disconnected/i);
    expect(result.elapsed).toBeLessThan(TIMEOUT_MS);

    // Down: calls fail fast with a clear error, never hang.
    const down = await execute(id, echo, {});
    expect(down.status).toBe(502);

    await control(server, "respawn");
    const back = await eventuallyCallable(echo);
    expect(back.body.result).toBe('{"marker":"back"}');
  });

  it("ends a call to a frozen upstream (SIGSTOP) within its timeout_ms, and recovers when it thaws", async () => {
    await eventuallyCallable(echo);
    const id = await session();
    await control(server, "signal?signal=SIGSTOP");
    try {
      const frozen = await execute(id, echo, { x: 1 });
      expect([502, 504]).toContain(frozen.status);
      expect(frozen.elapsed, "the call's whole duration").toBeLessThanOrEqual(TIMEOUT_MS + 500);
      // Marked unhealthy meanwhile or not, no call may take longer than its deadline.
      const again = await execute(id, echo, { x: 2 });
      expect(again.elapsed).toBeLessThanOrEqual(TIMEOUT_MS + 500);
    } finally {
      await control(server, "signal?signal=SIGCONT");
    }
    await eventuallyCallable(echo);
  });

  it("ends a call that must first connect to a frozen upstream within its timeout_ms", async () => {
    await eventuallyCallable(echo);
    // Kill the server (the live connection dies), bring it back and freeze it before anyone reconnects.
    await control(server, "signal?signal=SIGKILL");
    await control(server, "respawn");
    await control(server, "signal?signal=SIGSTOP");
    try {
      const id = await session();
      for (let i = 0; i < 3; i += 1) {
        const result = await execute(id, echo, { attempt: i });
        expect(result.status).not.toBe(200);
        expect(result.elapsed, `attempt ${i}: ${JSON.stringify(result.body)}`).toBeLessThanOrEqual(TIMEOUT_MS + 500);
      }
    } finally {
      await control(server, "signal?signal=SIGCONT");
    }
    await eventuallyCallable(echo);
  });
});

describe("the shared /mcp endpoint, where the Worker calls the upstream itself", () => {
  const slow = "mcp_victim_modern_slow";
  const echo = "mcp_victim_modern_echo";

  it("fails a call in flight at once when the upstream is killed (SIGKILL), with data.app_code, then serves again", async () => {
    await eventuallyCallableShared(echo);
    const pending = sharedCall(slow, { ms: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 600)); // the call is now running upstream
    await control("victim_modern", "signal?signal=SIGKILL");
    const result = await pending;
    expect(result.body.error, JSON.stringify(result.body)).toBeDefined();
    expect(result.body.error.data.app_code).toBe("upstream_error");
    expect(result.body.error.message).toMatch(/lost|closed|unreachable|disconnected/i);
    expect(result.elapsed, "not at its timeout").toBeLessThan(TIMEOUT_MS);

    // Down: the next call fails with a clear error, without waiting.
    const down = await sharedCall(echo, {});
    expect(down.body.error.data.app_code).toBe("upstream_error");
    expect(down.elapsed).toBeLessThan(TIMEOUT_MS);

    await control("victim_modern", "respawn");
    const back = await eventuallyCallableShared(echo);
    expect(back.body.result.structuredContent).toMatchObject({ success: true, result: '{"marker":"back"}' });
  });

  it("ends a call to a frozen upstream (SIGSTOP) within its timeout_ms, and recovers when it thaws", async () => {
    await eventuallyCallableShared(echo);
    await control("victim_modern", "signal?signal=SIGSTOP");
    try {
      for (let i = 0; i < 2; i += 1) {
        const frozen = await sharedCall(echo, { x: i });
        expect(["timeout", "upstream_error"], JSON.stringify(frozen.body)).toContain(frozen.body.error?.data?.app_code);
        expect(frozen.elapsed, `call ${i}: its whole duration`).toBeLessThanOrEqual(TIMEOUT_MS + 500);
      }
    } finally {
      await control("victim_modern", "signal?signal=SIGCONT");
    }
    await eventuallyCallableShared(echo);
  });
});
