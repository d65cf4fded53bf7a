/**
 * End to end under the production runtime rules: a real `wrangler dev` (which, unlike the vitest pool,
 * forbids code generation from strings, as production does) reaching a real server-everything over
 * Streamable HTTP, listing and calling `get-structured-content`, a tool that declares an outputSchema.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort as freeServerPort, startWrangler, type RunningServer } from "../../bench/lib/processes.mjs";
import { startEverythingServer, type EverythingServer } from "../fixtures/upstream-servers";

const TOKEN = "e2e-token";
let everything: EverythingServer;
let wrangler: RunningServer | undefined;
let base = "";
let persistDir = "";
/** wrangler dev's output so far (stdout and stderr go to its log file). */
const output = () => (wrangler ? readFileSync(wrangler.logFile, "utf8").slice(-20_000) : "");

async function api(path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

beforeAll(async () => {
  everything = await startEverythingServer();
  persistDir = mkdtempSync(join(tmpdir(), "xiaozhi-e2e-"));
  const root = resolve(import.meta.dirname, "..", "..");
  const config = { mcpServers: { everything: { url: everything.url, transport: "streamable-http", timeout_ms: 10_000 } } };
  // The `wrangler dev` command itself (not the vitest pool), with the same start/stop helper as the bench.
  wrangler = await startWrangler({
    name: "e2e",
    root,
    config: join(root, "wrangler.toml"),
    port: await freeServerPort(),
    persistTo: join(persistDir, "state"),
    logFile: join(persistDir, "wrangler.log"),
    vars: { MCP_SERVICE_TOKEN: TOKEN, MCP_CONFIG: JSON.stringify(config) },
    runtime: "cli",
  });
  base = wrangler.url;
});

afterAll(async () => {
  await wrangler?.stop();
  await everything?.stop();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
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
