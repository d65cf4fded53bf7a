/**
 * The session-side provider over a hand-written in-memory upstream object (the Durable Object RPC seam):
 * naming and routing across servers, the revalidation window, and what it serves when an object fails.
 * The real objects and real upstreams are exercised in test/external/.
 */
import { describe, expect, it } from "vitest";
import { fail, ok, type Result } from "../../core/errors";
import { DEFAULT_NAMING, type StoredNames } from "../../tools/naming";
import { ExternalTools, REVALIDATE_MS } from "./external-tools";
import { initialHealth } from "./health";
import { parseServers } from "./server-config";
import type { UpstreamTool } from "./upstream-client";
import type { CallRequest, CatalogueReply, CatalogueRequest, UpstreamRpc, UpstreamStatus } from "./upstream-rpc";

const tool = (name: string): UpstreamTool => ({ name, description: name, inputSchema: { type: "object", properties: { n: { type: "integer" } } } });

class InMemoryUpstream implements UpstreamRpc {
  catalogueCalls = 0;
  calls: CallRequest[] = [];
  broken = false;
  constructor(public tools: UpstreamTool[], public version = 1) {}
  async catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>> {
    this.catalogueCalls += 1;
    if (this.broken) throw new Error("object reset");
    const reply: CatalogueReply = { version: this.version, visible: true, health: initialHealth() };
    if (request.known_version !== this.version) reply.tools = this.tools;
    return ok(reply);
  }
  async call(request: CallRequest) {
    this.calls.push(request);
    return ok({ content: [{ type: "text", text: `${request.tool}:${JSON.stringify(request.arguments)}` }] });
  }
  async status(): Promise<Result<UpstreamStatus>> {
    return fail("internal", "unused");
  }
}

function setup() {
  const { servers } = parseServers({ mcpServers: { one: { url: "http://one/mcp" }, two: { url: "http://two/mcp", prefix: "t2" } } });
  const upstreams: Record<string, InMemoryUpstream> = { one: new InMemoryUpstream([tool("search"), tool("a.b")]), two: new InMemoryUpstream([tool("search")]) };
  let now = 1_000_000;
  let names: StoredNames | undefined;
  const store = { load: () => names, save: (next: StoredNames) => void (names = next) };
  const provider = new ExternalTools(servers, async (server) => upstreams[server.name]!, store, DEFAULT_NAMING, () => now);
  return { provider, upstreams, advance: (ms: number) => (now += ms) };
}

describe("ExternalTools", () => {
  it("names across servers and routes each name to its server with the original tool name", async () => {
    const { provider, upstreams } = setup();
    expect((await provider.list()).map((t) => t.name)).toEqual(["mcp_one_search", "mcp_a_b", "mcp_t2_search"]);
    const result = await provider.call("mcp_a_b", { n: 1 });
    expect(result).toEqual(ok({ success: true, action: "req_llm", result: 'a.b:{"n":1}' }));
    expect(upstreams.one!.calls[0]).toMatchObject({ server: "one", tool: "a.b", arguments: { n: 1 } });
    expect(upstreams.two!.calls).toEqual([]);
  });

  it("validates arguments before calling", async () => {
    const { provider, upstreams } = setup();
    await provider.list();
    const result = await provider.call("mcp_t2_search", { n: "x" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("invalid_request");
    expect(upstreams.two!.calls).toEqual([]);
  });

  it("asks the upstream objects again only after the revalidation window, and re-sends tools only when changed", async () => {
    const { provider, upstreams, advance } = setup();
    await provider.list();
    await provider.list();
    expect(upstreams.one!.catalogueCalls).toBe(1);
    advance(REVALIDATE_MS);
    upstreams.one!.tools = [tool("search"), tool("a.b"), tool("new")];
    upstreams.one!.version = 2;
    expect((await provider.list()).map((t) => t.name)).toContain("mcp_new");
    expect(upstreams.one!.catalogueCalls).toBe(2);
  });

  it("keeps serving the last known tools when an upstream object fails", async () => {
    const { provider, upstreams, advance } = setup();
    await provider.list();
    upstreams.two!.broken = true;
    advance(REVALIDATE_MS);
    expect((await provider.list()).map((t) => t.name)).toEqual(["mcp_one_search", "mcp_a_b", "mcp_t2_search"]);
  });

  it("answers tool_not_found for a name no server has", async () => {
    const { provider } = setup();
    const result = await provider.call("mcp_nothing", {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("tool_not_found");
  });
});
