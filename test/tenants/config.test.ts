/**
 * An agent's own configuration at run time, against the real Worker and objects: a change reaches sessions
 * already bound (REST and their MCP clients, which hear list_changed), the shared endpoint of the agent within
 * seconds, and nothing else; what is refused leaves the stored config as it was; secrets never come back.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, bind, call, newSessionId, TOKEN } from "../support/api";
import { waitFor } from "../support/wait";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((close) => close().catch(() => undefined)));
});

const names = async (sessionId: string): Promise<string[]> => (await call(`/api/v1/mcp/tools?session_id=${sessionId}`)).body.tools.map((tool: { name: string }) => tool.name);
const put = (agent: string, body: unknown) => call(`/api/v1/mcp/agents/${agent}/config`, { method: "PUT", body });

describe("per-agent configuration", () => {
  it("reaches a session already bound without a restart: its tools over REST, and its MCP client hears list_changed", async () => {
    const agent = newSessionId("cfg-agent");
    const sessionId = newSessionId("cfg-session");
    await bind(sessionId, { agent_id: agent });
    expect(await names(sessionId)).toContain("local_play_music");

    const changes = { count: 0 };
    const client = new Client({ name: "cfg", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } }, listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: () => void (changes.count += 1) } } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${BASE}/api/v1/mcp/sessions/${sessionId}/mcp`), {
        fetch: (url, init) => exports.default.fetch(new Request(url, init)),
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    cleanup.push(() => client.close());

    const stored = await put(agent, {
      tools: { deny: ["local_play_music"] },
      local_tools: { change_role: { roles: [{ name: "tutor", prompt: "You are a patient tutor." }] } },
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ agent_id: agent, version: expect.any(Number) });
    await waitFor(() => (changes.count >= 1 ? true : undefined), 5_000, "list_changed after the config changed");
    const after = await names(sessionId);
    expect(after).not.toContain("local_play_music");
    const roles = (await call(`/api/v1/mcp/tools?session_id=${sessionId}`)).body.tools.find((tool: { name: string }) => tool.name === "local_change_role");
    expect(JSON.stringify(roles.input_schema)).toContain("tutor");
    const listed = (await client.listTools(undefined, { cacheMode: "bypass" })).tools.map((tool) => tool.name);
    expect(listed).not.toContain("local_play_music");
    // Calling a denied tool is refused as an unknown one.
    const denied = await call("/api/v1/mcp/tools/local_play_music/execute", { body: { session_id: sessionId, arguments: {} } });
    expect(denied.body.error.code).toBe("tool_not_found");

    // Deleted: the service's config again, and the client hears that too.
    const before = changes.count;
    expect((await call(`/api/v1/mcp/agents/${agent}/config`, { method: "DELETE" })).body).toEqual({ agent_id: agent, deleted: true });
    await waitFor(() => (changes.count > before ? true : undefined), 5_000, "list_changed after the config was deleted");
    expect(await names(sessionId)).toContain("local_play_music");
    expect((await call(`/api/v1/mcp/agents/${agent}/config`)).status).toBe(404);
  });

  it("changes only that agent's sessions, and reaches its shared endpoint within seconds", async () => {
    const agent = newSessionId("cfg-one");
    const mine = newSessionId("cfg-mine");
    const other = newSessionId("cfg-other");
    await bind(mine, { agent_id: agent });
    await bind(other, { agent_id: newSessionId("cfg-two") });
    expect((await put(agent, { tools: { deny: ["local_exit"] } })).status).toBe(200);
    await waitFor(async () => (!(await names(mine)).includes("local_exit") ? true : undefined), 5_000, "the agent's session");
    expect(await names(other)).toContain("local_exit");

    const shared = async () => {
      const answer = await call(`/mcp?agent_id=${agent}`, {
        body: { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} },
        headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
      });
      return (answer.body.result.tools as { name: string }[]).map((tool) => tool.name);
    };
    await waitFor(async () => (!(await shared()).includes("local_exit") ? true : undefined), 8_000, "the agent's shared endpoint");
  });

  it("narrows a bound session to an allow-list: only the allowed names are listed and run", async () => {
    const agent = newSessionId("cfg-allow");
    const sessionId = newSessionId("cfg-allow-s");
    await bind(sessionId, { agent_id: agent });
    expect((await put(agent, { tools: { allow: ["local_get_time", "local_exit"] } })).status).toBe(200);
    await waitFor(async () => ((await names(sessionId)).length === 2 ? true : undefined), 5_000, "the allow-list applied");
    expect((await names(sessionId)).sort()).toEqual(["local_exit", "local_get_time"]);
    expect((await call("/api/v1/mcp/tools/local_get_time/execute", { body: { session_id: sessionId, arguments: {} } })).body.success).toBe(true);
    const outside = await call("/api/v1/mcp/tools/local_play_music/execute", { body: { session_id: sessionId, arguments: {} } });
    expect(outside.body.error.code).toBe("tool_not_found");
  });

  it("refuses invalid configs with the reason and keeps the stored one", async () => {
    const agent = newSessionId("cfg-bad");
    const good = await put(agent, { tools: { allow: ["local_get_time"] } });
    expect(good.status).toBe(200);
    const refusals: [unknown, RegExp][] = [
      [{ mcpServers: { calc: { url: "not a url" } } }, /url/i],
      [{ mcpServers: { calc: { url: "ftp://calc.example.com/mcp" } } }, /http/],
      [{ mcpServers: { calc: { command: "npx", args: ["calc-server"] } } }, /stdio|command/],
      [{ mcpServers: { calc: { url: "https://calc.example.com/mcp", surprise: true } } }, /surprise|Unrecognized/i],
      [{ local_tools: { change_role: { roles: [{ name: "" }] } } }, /local_tools/],
      [{ tools: { deny: "local_exit" } }, /tools\.deny/],
      [{ unknown_section: {} }, /unknown_section|Unrecognized/i],
      [{ mcpServers: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`s${i}`, { url: `https://s${i}.example.com/mcp` }])) }, /64/],
      [{ local_tools: { change_role: { roles: Array.from({ length: 100 }, (_, i) => ({ name: `r${i}`, prompt: "x".repeat(400) })) } } }, /bytes/],
      [[], /object|expected/i],
    ];
    for (const [body, reason] of refusals) {
      const refused = await put(agent, body);
      expect(refused.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(refused.body.error.code).toBe("invalid_request");
      expect(refused.body.error.message).toMatch(reason);
    }
    // The zod issues come with a schema refusal, each with its path.
    const unknownKey = await put(agent, { mcpServers: { calc: { url: "https://calc.example.com/mcp", surprise: true } } });
    expect(unknownKey.body.error.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.arrayContaining(["mcpServers", "calc"]) })]));
    // A body over the service's whole-request limit (limits.max_body_bytes, 64 KiB in tests) is an invalid config
    // too: 400, as the tenants contract says, not the 413 of other routes.
    const huge = JSON.stringify({ local_tools: { change_role: { roles: [{ name: "r", prompt: "x".repeat(100 * 1024) }] } } });
    const oversized = await call(`/api/v1/mcp/agents/${agent}/config`, { method: "PUT", rawBody: huge, headers: { "content-type": "application/json" } });
    expect(oversized.status).toBe(400);
    expect(oversized.body.error).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/over \d+ bytes/) });
    const kept = await call(`/api/v1/mcp/agents/${agent}/config`);
    expect(kept.body).toMatchObject({ version: good.body.version, config: { tools: { allow: ["local_get_time"] } } });
  });

  it("refuses a deeply nested body before reading it, and keeps one consistent config under a flood of writes", async () => {
    const agent = newSessionId("cfg-flood");
    const deep = `{"local_tools":{"change_role":{"roles":[${"[".repeat(5_000)}${"]".repeat(5_000)}]}}}`;
    const nested = await call(`/api/v1/mcp/agents/${agent}/config`, { method: "PUT", rawBody: deep, headers: { "content-type": "application/json" } });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toMatch(/max_json_depth/);
    expect((await call(`/api/v1/mcp/agents/${agent}/config`)).status).toBe(404); // nothing stored

    const writes = await Promise.all(Array.from({ length: 20 }, (_, i) => put(agent, { tools: { deny: [`tool_${i}`] } })));
    expect(writes.map((write) => write.status)).toEqual(Array.from({ length: 20 }, () => 200));
    const versions = writes.map((write) => write.body.version as number);
    expect(new Set(versions).size).toBe(20); // every write got its own version
    const last = writes[versions.indexOf(Math.max(...versions))]!;
    expect((await call(`/api/v1/mcp/agents/${agent}/config`)).body).toEqual(last.body);
  });

  it("never shows a secret: header values and URL credentials and query values come back masked", async () => {
    const agent = newSessionId("cfg-secret");
    const body = {
      mcpServers: {
        home: {
          url: "https://user:pass@ha.example.com/mcp?api_key=s3cret",
          headers: { Authorization: "Bearer literal-secret", "X-Ref": "${MCP_ENDPOINT_SECRET}" },
        },
      },
    };
    const stored = await put(agent, body);
    expect(stored.status).toBe(200);
    const shown = await call(`/api/v1/mcp/agents/${agent}/config`);
    const text = JSON.stringify(shown.body);
    expect(text).not.toContain("literal-secret");
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("pass@");
    expect(text).not.toContain("test-endpoint-secret");
    expect(shown.body.config.mcpServers.home.headers).toEqual({ Authorization: "***", "X-Ref": "${MCP_ENDPOINT_SECRET}" });
  });

  it("answers 404 agent_not_found for an agent without a config, and an idempotent delete", async () => {
    const agent = newSessionId("cfg-none");
    const missing = await call(`/api/v1/mcp/agents/${agent}/config`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("agent_not_found");
    expect((await call(`/api/v1/mcp/agents/${agent}/config`, { method: "DELETE" })).body).toEqual({ agent_id: agent, deleted: false });
  });
});
