/**
 * Agent tokens against the real Worker and agent objects: minted once and shown once, listed without
 * secrets, revoked everywhere within seconds; forged and malformed tokens refused; a token outlives its agent's
 * config (the agent's sessions then run the service's).
 */
import { describe, expect, it } from "vitest";
import { call, newSessionId } from "../support/api";
import { waitFor } from "../support/wait";

async function mint(agent: string, body: Record<string, unknown> = {}) {
  const minted = await call(`/api/v1/mcp/agents/${agent}/tokens`, { body });
  expect(minted.status).toBe(200);
  return minted.body as { id: string; token: string; agent_id: string; expires_at: string };
}

describe("agent tokens", () => {
  it("are listed by id and expiry, never by token, and stop working everywhere within seconds of a revocation", async () => {
    const agent = newSessionId("tok-agent");
    const minted = await mint(agent, { ttl_seconds: 3_600 });
    expect(minted).toMatchObject({ agent_id: agent, id: expect.stringMatching(/^[0-9a-f]{16}$/), token: expect.stringMatching(/^xzt1\./) });
    expect(Date.parse(minted.expires_at) - Date.now()).toBeGreaterThan(3_500_000);

    const listed = await call(`/api/v1/mcp/agents/${agent}/tokens`);
    expect(listed.body.tokens).toEqual([{ id: minted.id, created_at: expect.any(String), expires_at: minted.expires_at }]);
    expect(JSON.stringify(listed.body)).not.toContain(minted.token.split(".")[3]!);

    const sessionId = newSessionId("tok-session");
    const bound = await call(`/api/v1/mcp/sessions/${sessionId}/bind`, { token: minted.token, body: { device_id: "d", agent_id: agent } });
    expect(bound.status).toBe(200);

    const revoked = await call(`/api/v1/mcp/agents/${agent}/tokens/${minted.id}`, { method: "DELETE" });
    expect(revoked.body).toEqual({ agent_id: agent, id: minted.id, revoked: true });
    const started = Date.now();
    await waitFor(async () => ((await call(`/api/v1/mcp/sessions/${sessionId}`, { token: minted.token })).status === 401 ? true : undefined), 10_000, "the revocation");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await call(`/api/v1/mcp/agents/${agent}/tokens`)).body.tokens).toEqual([]);
    // Revoking again is harmless.
    expect((await call(`/api/v1/mcp/agents/${agent}/tokens/${minted.id}`, { method: "DELETE" })).body.revoked).toBe(false);
  });

  it("refuse forged and malformed tokens with 401", async () => {
    const agent = newSessionId("tok-forge");
    const real = await mint(agent);
    const [prefix, encodedAgent, id, secret] = real.token.split(".") as [string, string, string, string];
    const otherAgent = btoa(newSessionId("tok-victim")).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const flipped = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    const forged = [
      `${prefix}.${encodedAgent}.${id}.${flipped}`, // the right id, another secret
      `${prefix}.${otherAgent}.${id}.${secret}`, // the secret of one agent presented for another
      `${prefix}.${encodedAgent}.0123456789abcdef.${secret}`, // an id that was never minted
      `xzt2.${encodedAgent}.${id}.${secret}`,
      real.token.slice(0, -1),
      "xzt1....",
      "not-a-token",
    ];
    for (const token of forged) {
      const answer = await call(`/api/v1/mcp/agents/${agent}/providers`, { token });
      expect(answer.status, token).toBe(401);
      expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect((await call(`/api/v1/mcp/agents/${agent}/providers`, { token: real.token })).status).toBe(200);
  });

  it("keep working after their agent's config is deleted: its sessions run the service's config", async () => {
    const agent = newSessionId("tok-noconfig");
    const { token } = await mint(agent);
    expect((await call(`/api/v1/mcp/agents/${agent}/config`, { method: "PUT", body: { tools: { deny: ["local_get_time"] } } })).status).toBe(200);
    expect((await call(`/api/v1/mcp/agents/${agent}/config`, { method: "DELETE" })).body.deleted).toBe(true);
    const sessionId = newSessionId("tok-defaults");
    expect((await call(`/api/v1/mcp/sessions/${sessionId}/bind`, { token, body: { device_id: "d", agent_id: agent } })).status).toBe(200);
    const time = await call("/api/v1/mcp/tools/local_get_time/execute", { token, body: { session_id: sessionId, arguments: {} } });
    expect(time.status).toBe(200);
    expect(time.body).toMatchObject({ success: true, action: "req_llm" });
  });

  it("minted in a flood are all distinct and all listed; a lookup flood of one forged id stays refused", async () => {
    const agent = newSessionId("tok-flood");
    const minted = await Promise.all(Array.from({ length: 30 }, () => mint(agent)));
    expect(new Set(minted.map((token) => token.id)).size).toBe(30);
    expect(new Set(minted.map((token) => token.token)).size).toBe(30);
    expect((await call(`/api/v1/mcp/agents/${agent}/tokens`)).body.tokens).toHaveLength(30);
    const forged = `${minted[0]!.token.slice(0, -4)}AAAA`;
    const answers = await Promise.all(Array.from({ length: 50 }, () => call(`/api/v1/mcp/agents/${agent}/providers`, { token: forged })));
    expect(answers.every((answer) => answer.status === 401)).toBe(true);
  });

  it("validate their lifetime and ids", async () => {
    const agent = newSessionId("tok-bad");
    expect((await call(`/api/v1/mcp/agents/${agent}/tokens`, { body: { ttl_seconds: 5 } })).status).toBe(400);
    expect((await call(`/api/v1/mcp/agents/${agent}/tokens`, { body: { ttl_seconds: 60, surprise: 1 } })).status).toBe(400);
    expect((await call(`/api/v1/mcp/agents/${agent}/tokens/not-an-id`, { method: "DELETE" })).status).toBe(400);
  });
});
