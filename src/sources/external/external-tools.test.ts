/**
 * The caller-side provider over a hand-written in-memory upstream object (the Durable Object RPC seam):
 * naming and routing across servers, the revalidation window, what it serves when an object fails, and that
 * a call on a route goes to the upstream, not to the object. The real objects and real upstreams are
 * exercised in test/sources/external/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fail, ok, type Result } from "../../core/errors";
import { DEFAULT_NAMING, type StoredNames } from "../../tools/naming";
import { startTestServer, type TestServer } from "../../../test/fixtures/upstream-servers";
import { ExternalTools } from "./external-tools";
import { initialHealth, recordSuccess, type Health } from "./health";
import { parseServers } from "./server-config";
import { UpstreamConnection } from "./upstream-client";
import type { UpstreamRoute, UpstreamTool } from "./upstream-model";
import type { CallRequest, CatalogueReply, CatalogueRequest, UpstreamRpc, UpstreamStatus } from "./upstream-rpc";

const tool = (name: string): UpstreamTool => ({ name, description: name, inputSchema: { type: "object", properties: { n: { type: "integer" } } } });

class InMemoryUpstream implements UpstreamRpc {
  catalogueCalls = 0;
  calls: CallRequest[] = [];
  reports = 0;
  broken = false;
  ttl_ms: number | undefined;
  route: UpstreamRoute | undefined;
  health: Health = recordSuccess(initialHealth(), 0);
  constructor(public tools: UpstreamTool[], public version = 1) {}
  async catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>> {
    this.catalogueCalls += 1;
    if (this.broken) throw new Error("object reset");
    const reply: CatalogueReply = { version: this.version, visible: true, health: this.health };
    if (request.known_version !== this.version) reply.tools = this.tools;
    if (this.ttl_ms !== undefined) reply.ttl_ms = this.ttl_ms;
    if (this.route) reply.route = this.route;
    return ok(reply);
  }
  async call(request: CallRequest) {
    this.calls.push(request);
    return ok({ content: [{ type: "text", text: `${request.tool}:${JSON.stringify(request.arguments)}` }] });
  }
  async follow(): Promise<Result<{ followers: number }>> {
    return ok({ followers: 1 });
  }

  async renew(): Promise<Result<UpstreamRoute>> {
    return fail("internal", "unused");
  }
  async report(): Promise<Result<Health>> {
    this.reports += 1;
    return ok(this.health);
  }
  async status(): Promise<Result<UpstreamStatus>> {
    return fail("internal", "unused");
  }
}

/** Servers with a 1 s caller window (revalidate_seconds), as the tests of freshness need. */
const WINDOW_MS = 1_000;

function setup(cache_ttl_seconds = 300) {
  const revalidate_seconds = WINDOW_MS / 1000;
  const { servers } = parseServers({
    mcpServers: { one: { url: "http://one/mcp", cache_ttl_seconds, revalidate_seconds }, two: { url: "http://two/mcp", prefix: "t2", cache_ttl_seconds, revalidate_seconds } },
  });
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

  it("shows a romanized name's original at the start of its description", async () => {
    const { provider, upstreams } = setup();
    upstreams.one!.tools = [tool("search"), tool("a.b"), tool("查天气")];
    const listed = await provider.list();
    const weather = listed.find((t) => t.name === "mcp_cha_tian_qi")!;
    expect(weather.description).toMatch(/^\[查天气\] /);
    expect(listed.find((t) => t.name === "mcp_a_b")!.description).not.toMatch(/^\[/); // punctuation only: no original shown
    expect(await provider.call("mcp_cha_tian_qi", {})).toMatchObject({ ok: true });
    expect(upstreams.one!.calls.at(-1)).toMatchObject({ tool: "查天气" });
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
    advance(WINDOW_MS);
    upstreams.one!.tools = [tool("search"), tool("a.b"), tool("new")];
    upstreams.one!.version = 2;
    expect((await provider.list()).map((t) => t.name)).toContain("mcp_new");
    expect(upstreams.one!.catalogueCalls).toBe(2);
  });

  it("keeps serving the last known tools when an upstream object fails", async () => {
    const { provider, upstreams, advance } = setup();
    await provider.list();
    upstreams.two!.broken = true;
    advance(WINDOW_MS);
    expect((await provider.list()).map((t) => t.name)).toEqual(["mcp_one_search", "mcp_a_b", "mcp_t2_search"]);
  });

  it("widens the window to the upstream's ttlMs, capped by the server's cache TTL", async () => {
    const { provider, upstreams, advance } = setup(20);
    upstreams.one!.ttl_ms = 60_000;
    await provider.list();
    advance(WINDOW_MS);
    await provider.list();
    expect(upstreams.one!.catalogueCalls).toBe(1); // within its ttlMs
    expect(upstreams.two!.catalogueCalls).toBe(2); // no ttlMs: its revalidate_seconds
    advance(19_000);
    await provider.list();
    expect(upstreams.one!.catalogueCalls).toBe(2); // 20 s: cache_ttl_seconds caps the 60 s ttlMs
  });

  it("never revalidates on the call path", async () => {
    const { provider, upstreams, advance } = setup();
    await provider.list();
    advance(10 * WINDOW_MS);
    expect((await provider.call("mcp_a_b", { n: 2 })).ok).toBe(true);
    expect(upstreams.one!.catalogueCalls).toBe(1);
  });

  it("answers tool_not_found for a name no server has", async () => {
    const { provider } = setup();
    const result = await provider.call("mcp_nothing", {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("tool_not_found");
  });
});

describe("ExternalTools on a route", () => {
  let upstream: TestServer;
  beforeAll(async () => {
    upstream = await startTestServer({
      name: "direct",
      transport: "streamable-http",
      tools: [{ name: "ping", description: "Pong", inputSchema: { type: "object" }, run: () => ({ content: [{ type: "text", text: "pong" }] }) }],
    });
  });
  afterAll(() => upstream.stop());

  it("calls the upstream itself, and the object hears nothing of it", async () => {
    const { servers } = parseServers({ mcpServers: { direct: { url: upstream.url } } });
    const opened = await UpstreamConnection.open(servers[0]!, { onToolsChanged: () => undefined, onDead: () => undefined });
    if (!opened.ok) throw new Error(opened.failure.message);
    const object = new InMemoryUpstream([{ name: "ping", description: "Pong", inputSchema: { type: "object" } }]);
    object.route = opened.value.route;
    await opened.value.close();
    const provider = new ExternalTools(servers, async () => object, { load: () => undefined, save: () => undefined }, DEFAULT_NAMING);
    expect((await provider.list()).map((tool) => tool.name)).toEqual(["mcp_ping"]);
    const calls = upstream.stats.call;
    for (let i = 0; i < 3; i += 1) expect(await provider.call("mcp_ping", {})).toEqual(ok({ success: true, action: "req_llm", result: "pong" }));
    expect(upstream.stats.call - calls).toBe(3);
    expect(object.calls).toEqual([]);
    expect(object.reports).toBe(0);
    expect(object.catalogueCalls).toBe(1);
  });
});

describe("ExternalTools sharing one isolate's copies", () => {
  it("asks each upstream object once per window for every instance built over the same copies", async () => {
    const { servers } = parseServers({ mcpServers: { one: { url: "http://one/mcp" } } });
    const upstream = new InMemoryUpstream([tool("search")]);
    let now = 1_000_000;
    const known = new Map();
    const session = () => {
      let names: StoredNames | undefined;
      return new ExternalTools(servers, async () => upstream, { load: () => names, save: (next) => void (names = next) }, DEFAULT_NAMING, () => now, known);
    };
    // Fifty sessions of one isolate list within the default 10 s window: one catalogue request in all.
    for (let i = 0; i < 50; i += 1) expect((await session().list()).map((t) => t.name)).toEqual(["mcp_search"]);
    expect(upstream.catalogueCalls).toBe(1);
    now += 10_000;
    await session().list();
    expect(upstream.catalogueCalls).toBe(2);
  });
});
