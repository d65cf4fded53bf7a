/** External tools in the catalogue: names, schemas, collisions, filters, config errors, server states. */
import { describe, expect, it } from "vitest";
import { call } from "../../support/api";
import { INSPECT_SCHEMA } from "../../fixtures/inspect-schema";
import { session, tools, type Tool } from "./support";


const byName = (list: Tool[]) => new Map(list.map((tool) => [tool.name, tool]));

describe("external tools in the catalogue", () => {
  // alpha and beta refuse requests without their configured headers (alpha's from a `${ALPHA_TOKEN}`
  // binding): every alpha/beta tool listed here proves the headers reach the upstream on both transports.
  it("lists the tools of the Streamable HTTP, SSE and server-everything upstreams with their schemas", async () => {
    const list = await tools(await session());
    const names = list.map((tool) => tool.name);
    const external = list.filter((tool) => tool.source === "external");
    expect(external.length).toBeGreaterThan(10);
    // Streamable HTTP (alpha, listed over several pages) and SSE (beta).
    expect(names).toEqual(expect.arrayContaining(["mcp_gallery", "mcp_weather", "mcp_fail", "mcp_alpha_inspect", "mcp_b_inspect"]));
    // server-everything, with get-env denied by tools.deny.
    expect(names).toEqual(expect.arrayContaining(["mcp_echo", "mcp_get-sum", "mcp_get-structured-content"]));
    expect(names).not.toContain("mcp_get-env");
    const tool = byName(list);
    // The upstream's JSON Schema, untouched.
    expect(tool.get("mcp_alpha_inspect")!.input_schema).toEqual(INSPECT_SCHEMA);
    expect(tool.get("mcp_b_inspect")!.input_schema).toEqual(INSPECT_SCHEMA);
    expect(tool.get("mcp_echo")).toMatchObject({ description: "Echoes back the input string", source: "external" });
    expect(tool.get("mcp_echo")!.input_schema).toMatchObject({ type: "object", properties: { message: { type: "string" } }, required: ["message"] });
    // Local tools are still there, before the external ones.
    expect(names.indexOf("local_get_time")).toBeLessThan(names.indexOf("mcp_echo"));
  });

  it("gives two servers' same-named tools deterministic distinct names", async () => {
    const names = (await tools(await session())).map((tool) => tool.name);
    expect(names).toContain("mcp_alpha_search"); // alpha: no prefix configured → its name
    expect(names).toContain("mcp_b_search"); // beta: prefix "b"
    expect(names).not.toContain("mcp_search");
  });

  it("keeps every name within 64 characters with a stable shortening", async () => {
    const list = await tools(await session());
    expect(list.every((tool) => tool.name.length <= 64 && /^[A-Za-z0-9_-]+$/.test(tool.name))).toBe(true);
    const long = list.find((tool) => tool.name.startsWith("mcp_a_really_long_tool_name"));
    // The first 55 characters end on `_` here: it is not doubled before the hash (`__` is the providers' separator).
    expect(long?.name).toMatch(/^mcp_a_really_long_tool_name_that_keeps_going_well_past_[0-9a-f]{8}$/);
    expect(long?.name.length).toBe(63);
  });

  it("lists in the same order every time, across sessions", async () => {
    const first = (await tools(await session())).map((tool) => tool.name);
    const second = (await tools(await session())).map((tool) => tool.name);
    expect(second).toEqual(first);
  });

  it("applies a session's enabled_tools to external tools", async () => {
    const id = await session({ enabled_tools: ["mcp_echo", "mcp_b_search", "local_get_time"] });
    expect((await tools(id)).map((tool) => tool.name)).toEqual(["local_get_time", "mcp_b_search", "mcp_echo"]);
    const refused = await call(`/api/v1/mcp/tools/mcp_get-sum/execute`, { body: { session_id: id, arguments: { a: 1, b: 2 } } });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe("tool_not_found");
  });

  it("reports a stdio entry as a configuration error in /healthz, and serves the rest", async () => {
    const health = await call("/healthz", { token: null });
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("degraded");
    expect(health.body.config_issues).toHaveLength(1);
    expect(health.body.config_issues[0]).toMatchObject({ code: "config_invalid" });
    expect(health.body.config_issues[0].message).toMatch(/'desktop'.*stdio.*bridge/s);
    expect((await tools(await session())).some((tool) => tool.name === "mcp_echo")).toBe(true);
  });
});

describe("GET /api/v1/mcp/servers", () => {
  it("requires the bearer token", async () => {
    const response = await call("/api/v1/mcp/servers", { token: null });
    expect(response.status).toBe(401);
  });

  it("lists every configured server with state, tool count, last error and last success", async () => {
    await tools(await session()); // make sure discovery ran
    const response = await call("/api/v1/mcp/servers");
    expect(response.status).toBe(200);
    const servers = new Map<string, Record<string, unknown>>(response.body.servers.map((s: { name: string }) => [s.name, s]));
    expect([...servers.keys()]).toEqual(["alpha", "beta", "slowpoke", "late", "phoenix", "flaky", "everything", "nova", "vega", "desktop", "off"]);
    expect(servers.get("alpha")).toMatchObject({ state: "healthy", transport: "streamable-http", tool_count: 6, last_error: null, visible: true });
    expect(servers.get("alpha")!.last_success).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(servers.get("beta")).toMatchObject({ state: "healthy", transport: "sse", tool_count: 2 });
    expect(servers.get("desktop")).toMatchObject({ state: "misconfigured", transport: "stdio", tool_count: 0 });
    expect(servers.get("desktop")!.last_error).toMatch(/stdio/);
    expect(servers.get("off")).toMatchObject({ state: "disabled" });
    // (`late`, down at start, is checked as unhealthy in recovery.test.ts, which is what brings it up.)
  });
});
