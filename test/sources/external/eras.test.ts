/**
 * Both MCP eras side by side: a 2026-07-28-only upstream (`nova`, `vega`: the v2 SDK with legacy clients
 * rejected) next to 2025 Streamable HTTP (`alpha`, `phoenix`), legacy HTTP+SSE (`beta`) and server-everything,
 * each listed and called through REST, each shown with the era and protocol version the service speaks.
 */
import { describe, expect, it } from "vitest";
import { call } from "../../support/api";
import { control, eventually, execute, modernStats, objectRequests, session, tools } from "./support";

interface ServerState {
  name: string;
  state: string;
  protocol_era?: string | null;
  protocol_version?: string | null;
}

const servers = async () => new Map(((await call("/api/v1/mcp/servers")).body.servers as ServerState[]).map((state) => [state.name, state]));
const names = async (id: string) => (await tools(id)).map((tool) => tool.name);

describe("upstreams of both MCP eras", () => {
  it("lists and calls the tools of a 2026-07-28 server next to 2025 Streamable HTTP, HTTP+SSE and server-everything", async () => {
    const id = await session();
    const listed = new Map((await tools(id)).map((tool) => [tool.name, tool]));
    expect(listed.get("mcp_nova_echo")).toMatchObject({
      description: "Echoes a message (2026-07-28)",
      source: "external",
      input_schema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
    });
    expect([...listed.keys()]).toEqual(expect.arrayContaining(["mcp_nova_weather", "mcp_vega_count", "mcp_alpha_search", "mcp_b_search", "mcp_echo"]));

    expect((await execute(id, "mcp_nova_echo", { message: "hello" })).body).toEqual({ success: true, action: "req_llm", result: "nova: hello" });
    expect((await execute(id, "mcp_alpha_search", { query: "both" })).body).toEqual({ success: true, action: "req_llm", result: "alpha results for both" });
    expect((await execute(id, "mcp_b_search", { query: "both" })).body).toEqual({ success: true, action: "req_llm", result: "beta results for both" });
    expect((await execute(id, "mcp_echo", { message: "both" })).body).toEqual({ success: true, action: "req_llm", result: "Echo: both" });
  });

  it("checks a 2026-07-28 tool's structured content against its output schema, and keeps it", async () => {
    const id = await session();
    const weather = await execute(id, "mcp_nova_weather", { city: "Bergen" });
    expect(weather.status).toBe(200);
    expect(weather.body.structured_content).toEqual({ city: "Bergen", celsius: 18 });
    // Arguments are still checked against the upstream's schema before anything is sent.
    expect((await execute(id, "mcp_nova_weather", { city: 7 })).status).toBe(400);
  });

  it("shows the era and protocol version of each server in /api/v1/mcp/servers", async () => {
    await tools(await session()); // every server discovered
    const states = await servers();
    for (const name of ["nova", "vega"]) expect(states.get(name)).toMatchObject({ state: "healthy", protocol_era: "modern", protocol_version: "2026-07-28" });
    for (const name of ["alpha", "beta", "everything"]) {
      expect(states.get(name)).toMatchObject({ state: "healthy", protocol_era: "legacy" });
      expect(states.get(name)?.protocol_version).toMatch(/^2025-/);
    }
    expect(states.get("desktop")).toMatchObject({ state: "misconfigured", protocol_era: null, protocol_version: null });
  });

  it("keeps calling a restarted 2026-07-28 server with no renewal: it has no session to lose", async () => {
    const id = await session();
    expect((await execute(id, "mcp_nova_echo", { message: "before" })).status).toBe(200);
    const before = (await objectRequests()).upstream;
    expect((await control("/nova/restart")).status).toBe(200);
    for (const message of ["after", "again"]) {
      expect((await execute(id, "mcp_nova_echo", { message })).body).toEqual({ success: true, action: "req_llm", result: `nova: ${message}` });
    }
    // No renew, no report: nothing reached nova's upstream object (its ttlMs keeps the catalogue copy fresh).
    expect((await objectRequests()).upstream).toBe(before);
    expect((await servers()).get("nova")?.state).toBe("healthy");
  });

  it("refreshes the catalogue on a 2026-07-28 server's notifications/tools/list_changed", async () => {
    const id = await session();
    expect(await names(id)).toContain("mcp_vega_count");
    expect(await names(id)).not.toContain("mcp_vega_fresh");
    // The upstream object listens on a `subscriptions/listen` stream; wait until it is open.
    await eventually(async () => ((await modernStats("vega")).listeners > 0 ? true : undefined), 10_000, "vega's listen stream");
    expect((await control("/vega/add-tool?name=vega_fresh")).status).toBe(200);
    await eventually(async () => ((await names(id)).includes("mcp_vega_fresh") ? true : undefined), 10_000, "the added tool");
    expect((await execute(id, "mcp_vega_fresh")).body).toEqual({ success: true, action: "req_llm", result: "vega_fresh ran" });
  });
});
