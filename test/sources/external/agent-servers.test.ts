/**
 * Agents' own external servers (per-agent configuration), against the real upstream fixtures: two agents name
 * a server the same and their servers expose the same tool names; each agent's sessions see and call only their
 * own, and the service's servers stay as they are for everyone else.
 */
import { describe, expect, it } from "vitest";
import { call } from "../../support/api";
import { eventually, execute, session, tools } from "./support";

async function serverUrl(name: string): Promise<string> {
  const servers = (await call("/api/v1/mcp/servers")).body.servers as { name: string; url: string }[];
  const server = servers.find((candidate) => candidate.name === name);
  if (!server) throw new Error(`no server ${name}`);
  return server.url;
}

/** Hides every server the service configures, so an agent's catalogue holds its own servers only. */
async function inheritedHidden(): Promise<Record<string, null>> {
  const servers = (await call("/api/v1/mcp/servers")).body.servers as { name: string }[];
  return Object.fromEntries(servers.map((server) => [server.name, null]));
}

const externalNames = async (sessionId: string) => (await tools(sessionId)).filter((tool) => tool.source === "external").map((tool) => tool.name);

describe("agents' own MCP servers", () => {
  it("gives two agents servers of the same name and tool names, each seeing and calling only its own", async () => {
    const hidden = await inheritedHidden();
    const agentA = `agent-shop-a-${Date.now()}`;
    const agentB = `agent-shop-b-${Date.now()}`;
    const putA = await call(`/api/v1/mcp/agents/${agentA}/config`, {
      method: "PUT",
      body: { mcpServers: { ...hidden, shop: { url: await serverUrl("alpha"), headers: { Authorization: "Bearer ${ALPHA_TOKEN}" }, connect_timeout_ms: 2000 } } },
    });
    expect(putA.status).toBe(200);
    // Shown masked: the reference stays, nothing secret is echoed.
    expect(putA.body.config.mcpServers.shop.headers).toEqual({ Authorization: "***" });
    const putB = await call(`/api/v1/mcp/agents/${agentB}/config`, {
      method: "PUT",
      body: { mcpServers: { ...hidden, shop: { url: await serverUrl("beta"), transport: "sse", headers: { "X-Api-Key": "beta-key" }, connect_timeout_ms: 2000 } } },
    });
    expect(putB.status).toBe(200);

    const a = await session({ agent_id: agentA });
    const b = await session({ agent_id: agentB });
    const plain = await session();
    expect(await eventually(async () => ((await externalNames(a)).includes("mcp_search") ? externalNames(a) : undefined), 10_000, "A's tools")).toEqual(
      expect.arrayContaining(["mcp_search", "mcp_inspect"]),
    );
    expect(await eventually(async () => ((await externalNames(b)).includes("mcp_search") ? externalNames(b) : undefined), 10_000, "B's tools")).toEqual(
      expect.arrayContaining(["mcp_search", "mcp_inspect"]),
    );
    // Only their own server: none of the service's inherited ones (alpha's other tools, server-everything…).
    expect(await externalNames(a)).not.toContain("mcp_echo");
    expect(await externalNames(b)).not.toContain("mcp_echo");

    expect((await execute(a, "mcp_search", { query: "q" })).body).toEqual({ success: true, action: "req_llm", result: "alpha results for q" });
    expect((await execute(b, "mcp_search", { query: "q" })).body).toEqual({ success: true, action: "req_llm", result: "beta results for q" });

    // The service's own catalogue is untouched for sessions of no agent.
    const plainNames = await externalNames(plain);
    expect(plainNames).toContain("mcp_echo");
    expect(plainNames).toContain("mcp_alpha_search");
  });

  it("refuses an agent's server that references a secret the deployment does not have, and keeps the config it had", async () => {
    const agent = `agent-secretless-${Date.now()}`;
    const good = await call(`/api/v1/mcp/agents/${agent}/config`, { method: "PUT", body: { tools: { deny: ["local_exit"] } } });
    expect(good.status).toBe(200);
    const bad = await call(`/api/v1/mcp/agents/${agent}/config`, {
      method: "PUT",
      body: { mcpServers: { x: { url: "https://x.example.com/mcp", headers: { Authorization: "Bearer ${NO_SUCH_SECRET}" } } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/NO_SUCH_SECRET/);
    expect((await call(`/api/v1/mcp/agents/${agent}/config`)).body).toMatchObject({ version: good.body.version, config: { tools: { deny: ["local_exit"] } } });
  });
});
