import { describe, expect, it } from "vitest";
import { connectionDigest, isToolExposed, parseServers, redactUrl, upstreamObjectName } from "./server-config";

const parse = (mcpServers: Record<string, unknown>) => parseServers({ mcpServers });

describe("parseServers", () => {
  it("reads today's .mcp_server_settings.json entries with defaults", () => {
    const { servers, issues, entries } = parse({
      calc: { url: "https://calc.example/mcp" },
      legacy: { url: "http://127.0.0.1:9000/sse", transport: "sse", headers: { Authorization: "Bearer x" }, timeout_ms: "5000" },
    });
    expect(issues).toEqual([]);
    expect(servers.map((s) => [s.name, s.transport, s.timeout_ms, s.prefix])).toEqual([
      ["calc", "streamable-http", 30000, "calc"],
      ["legacy", "sse", 5000, "legacy"],
    ]);
    expect(servers[0]).toMatchObject({ connect_timeout_ms: 10000, cache_ttl_seconds: 300, unhealthy_grace_seconds: 60, allow: undefined, deny: [] });
    expect(entries.map((e) => e.status)).toEqual(["enabled", "enabled"]);
  });

  it("accepts the transport spellings of other MCP clients, and `type`/`disabled`", () => {
    const { servers, entries } = parse({
      a: { url: "http://h/mcp", type: "streamableHttp" },
      b: { url: "http://h/mcp", transport: "http" },
      c: { url: "http://h/sse", type: "sse", disabled: true },
      d: { url: "http://h/sse", enabled: "false" },
    });
    expect(servers.map((s) => [s.name, s.transport])).toEqual([
      ["a", "streamable-http"],
      ["b", "streamable-http"],
    ]);
    expect(entries.map((e) => e.status)).toEqual(["enabled", "enabled", "disabled", "disabled"]);
  });

  it("reports a stdio entry as a config error that names the server and how to bridge it", () => {
    const { servers, issues, entries } = parse({
      fs: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] },
      ok: { url: "http://h/mcp" },
    });
    expect(servers.map((s) => s.name)).toEqual(["ok"]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.code).toBe("config_invalid");
    expect(issues[0]!.message).toContain("'fs'");
    expect(issues[0]!.message).toMatch(/stdio/);
    expect(issues[0]!.message).toMatch(/Streamable HTTP bridge/);
    expect(issues[0]!.message).toContain("server-filesystem");
    expect(entries[0]).toMatchObject({ name: "fs", status: "misconfigured", transport: "stdio" });
  });

  it("ignores disabled stdio entries", () => {
    expect(parse({ fs: { command: "npx", enabled: false } }).issues).toEqual([]);
  });

  it.each([
    [{ transport: "websocket", url: "http://h" }, /unknown transport/],
    [{ url: "not a url" }, /not a valid URL/],
    [{ url: "ftp://h/mcp" }, /must be http/],
    [{}, /missing "url"/],
    [{ url: "http://h", timeout_ms: 5 }, /timeout_ms/],
    [{ url: "http://h", prefix: "bad prefix" }, /prefix/],
    [{ url: "http://h", retry_initial_ms: 5000, retry_max_ms: 1000 }, /retry_max_ms/],
    ["just a string", /invalid/],
  ])("reports a bad entry %j", (entry, pattern) => {
    const { servers, issues } = parse({ bad: entry, good: { url: "http://h/mcp" } });
    expect(servers.map((s) => s.name)).toEqual(["good"]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(pattern);
    expect(issues[0]!.message).toContain("'bad'");
  });

  it("rejects two entries with the same name", () => {
    const { servers, issues } = parse({ a: { url: "http://h/1" }, b: { name: "a", url: "http://h/2" } });
    expect(servers).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/two entries/);
  });

  it("derives a safe default prefix, and honours tools.allow/deny", () => {
    const [server] = parse({ "my server.v2": { url: "http://h", tools: { allow: ["a", "b"], deny: ["b"] } } }).servers;
    expect(server!.prefix).toBe("my_server_v2");
    expect(["a", "b", "c"].filter((t) => isToolExposed(server!, t))).toEqual(["a"]);
  });
});

describe("upstreamObjectName", () => {
  it("is stable, changes with the connection identity, and hides header values", async () => {
    const base = { name: "s", url: "http://h/mcp", transport: "streamable-http" as const, headers: { Authorization: "Bearer secret" } };
    const name = await upstreamObjectName(base);
    expect(name).toMatch(/^s#[0-9a-f]{24}$/);
    expect(name).not.toContain("secret");
    expect(await upstreamObjectName({ ...base, headers: { authorization: "Bearer secret" } })).toBe(name);
    expect(await connectionDigest({ ...base, url: "http://h/other" })).not.toBe(await connectionDigest(base));
    expect(await connectionDigest({ ...base, headers: { Authorization: "Bearer rotated" } })).not.toBe(await connectionDigest(base));
  });
});

describe("redactUrl", () => {
  it("masks credentials and query values", () => {
    expect(redactUrl("https://user:pw@h.example/mcp?token=abc&x=1")).toBe("https://h.example/mcp?token=***&x=***");
  });
});
