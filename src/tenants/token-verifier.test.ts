import "./workers-crypto.test-setup";
import { describe, expect, it } from "vitest";
import { fail, ok } from "../core/errors";
import { AgentTokens } from "./agent-tokens";
import { MAX_TRUST_MS, verifyAgentToken, type LookupToken } from "./token-verifier";

function memoryKv() {
  const map = new Map<string, unknown>();
  return { get: (key: string) => map.get(key), put: (key: string, value: unknown) => void map.set(key, structuredClone(value)), delete: (key: string) => map.delete(key) };
}

async function setup(agentId: string) {
  const tokens = new AgentTokens(memoryKv());
  const minted = await tokens.mint(agentId, 3_600, 1_000);
  if (!minted.ok) throw new Error("mint failed");
  let lookups = 0;
  let down = false;
  const lookup: LookupToken = async (_agent, id) => {
    lookups += 1;
    return down ? fail("internal", "agent object unavailable") : ok(tokens.record(id, 1_000) ?? null);
  };
  return { tokens, minted: minted.value, lookup, lookups: () => lookups, setDown: (value: boolean) => void (down = value) };
}

describe("verifyAgentToken", () => {
  it("asks the agent's object once per cache window, and honours a revocation after it", async () => {
    const { tokens, minted, lookup, lookups } = await setup("v-agent-1");
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 10_000)).toEqual({ kind: "agent", agent_id: "v-agent-1", token_id: minted.id });
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 14_999)).toBeDefined();
    expect(lookups()).toBe(1);
    tokens.revoke(minted.id);
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 14_999)).toBeDefined(); // within the window: as it was told
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 15_000)).toBeUndefined();
    expect(lookups()).toBe(2);
  });

  it("refuses a wrong secret under a real id, an expired token, and an unknown one when the object cannot say", async () => {
    const { minted, lookup, setDown } = await setup("v-agent-2");
    const wrong = `${minted.token.slice(0, -1)}${minted.token.endsWith("A") ? "B" : "A"}`;
    expect(await verifyAgentToken(wrong, lookup, 5_000, 20_000)).toBeUndefined();
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 20_000)).toBeDefined();
    // Past its expiry (minted at 1 s for an hour), even though the cached record is fresh.
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 3_601_001)).toBeUndefined();
    const other = await setup("v-agent-3");
    other.setDown(true);
    setDown(true);
    expect(await verifyAgentToken(other.minted.token, other.lookup, 5_000, 30_000)).toBeUndefined();
  });

  it("passes a token on while the agent's object cannot be asked for 10 s after its last answer, never longer", async () => {
    const { tokens, minted, lookup, lookups, setDown } = await setup("v-agent-4");
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 100_000)).toBeDefined();
    tokens.revoke(minted.id);
    setDown(true);
    // The cache window is over and the object cannot say: its answer of 100 s still stands, for 10 s.
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 105_000)).toBeDefined();
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 100_000 + MAX_TRUST_MS - 1)).toBeDefined();
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 100_000 + MAX_TRUST_MS)).toBeUndefined();
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 700_000)).toBeUndefined();
    expect(lookups()).toBe(5);
    // Asked again once it answers: the revocation it now reports holds.
    setDown(false);
    expect(await verifyAgentToken(minted.token, lookup, 5_000, 700_001)).toBeUndefined();
    expect(lookups()).toBe(6);
  });
});
