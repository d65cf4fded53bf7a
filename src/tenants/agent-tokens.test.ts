import "./workers-crypto.test-setup";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentTokens, parseAgentToken, sameHash, tokenHash } from "./agent-tokens";

function memoryKv() {
  const map = new Map<string, unknown>();
  return { get: (key: string) => map.get(key), put: (key: string, value: unknown) => void map.set(key, structuredClone(value)), delete: (key: string) => map.delete(key) };
}

const agentIds = fc.stringMatching(/^[\w.:-]{1,40}$/).filter((id) => !/^\.+$/.test(id));

describe("agent tokens", () => {
  it("name their agent and id, for any agent id, and store only a hash", async () => {
    await fc.assert(
      fc.asyncProperty(agentIds, async (agentId) => {
        const tokens = new AgentTokens(memoryKv());
        const minted = await tokens.mint(agentId, 3_600, 1_000);
        if (!minted.ok) throw new Error("mint failed");
        expect(parseAgentToken(minted.value.token)).toEqual({ agent_id: agentId, id: minted.value.id });
        const record = tokens.record(minted.value.id, 2_000);
        expect(record?.hash).toBe(await tokenHash(minted.value.token));
        expect(JSON.stringify(record)).not.toContain(minted.value.token.split(".")[3]);
      }),
      { numRuns: 50 },
    );
  });

  it("never parse what is not one: any string, and any one-character change of a real token's shape", async () => {
    const tokens = new AgentTokens(memoryKv());
    const minted = await tokens.mint("agent-1", 3_600);
    if (!minted.ok) throw new Error("mint failed");
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseAgentToken(text);
        if (parsed) expect(text.startsWith("xzt1.")).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.nat(minted.value.token.length - 1), fc.constantFrom(".", "!", " ", "é"), (at, char) => {
        const broken = minted.value.token.slice(0, at) + char + minted.value.token.slice(at + 1);
        fc.pre(broken !== minted.value.token);
        const parsed = parseAgentToken(broken);
        // A change in the secret part may still parse (the hash check refuses it), never into another shape.
        if (parsed) expect(parsed).toEqual({ agent_id: "agent-1", id: minted.value.id });
      }),
    );
  });

  it("expire, revoke, and keep at most 100 per agent", async () => {
    const tokens = new AgentTokens(memoryKv());
    const short = await tokens.mint("a", 60, 0);
    if (!short.ok) throw new Error("mint failed");
    expect(tokens.record(short.value.id, 59_999)).toBeDefined();
    expect(tokens.record(short.value.id, 60_000)).toBeUndefined();
    expect(tokens.list(60_000)).toEqual([]);
    for (let i = 0; i < 100; i += 1) expect((await tokens.mint("a", 3_600, 100_000)).ok).toBe(true);
    const over = await tokens.mint("a", 3_600, 100_000);
    expect(over.ok).toBe(false);
    const first = tokens.list(100_000)[0]!;
    expect(tokens.revoke(first.id)).toBe(true);
    expect(tokens.revoke(first.id)).toBe(false);
    expect((await tokens.mint("a", 3_600, 100_000)).ok).toBe(true);
  });

  it("compare hashes of equal length only", () => {
    expect(sameHash("ab".repeat(32), "ab".repeat(32))).toBe(true);
    expect(sameHash("ab".repeat(32), "ac".repeat(32))).toBe(false);
    expect(sameHash("ab".repeat(32), "ab")).toBe(false);
  });
});
