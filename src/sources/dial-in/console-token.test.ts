/**
 * Console tokens produced independently: by Node's own node:crypto (OpenSSL), exactly as the manager console's
 * Java builds them (md5 hex of the agent id, a space after the colon, AES/ECB/PKCS5, standard Base64), and a
 * known-answer vector cross-checked with the `openssl enc` command line.
 */
import { createCipheriv, createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { consoleKey, decryptConsoleToken } from "./console-token";

/** What `AgentMcpAccessPointServiceImpl.encryptToken` produces, written against node:crypto. */
function consoleToken(keyText: string, agentId: string): string {
  const md5 = createHash("md5").update(agentId, "utf8").digest("hex");
  const keyBytes = Buffer.from(keyText, "utf8");
  const key = [16, 24, 32].includes(keyBytes.length) ? keyBytes : Buffer.concat([keyBytes, Buffer.alloc(32)]).subarray(0, 32);
  const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  return Buffer.concat([cipher.update(`{"agentId": "${md5}"}`, "utf8"), cipher.final()]).toString("base64");
}

describe("console tokens", () => {
  it("match the known-answer vector (node:crypto and openssl agree)", () => {
    expect(consoleToken("6a369b7f1bcf4d3e8d123ece38bb9627", "test-agent")).toBe("00OYCe+Ual0+tKOaEhWAGe9SffGEo8zuX1D03VVbacTA3gcjqAsMLeGicKbgbM+f");
    expect(decryptConsoleToken("6a369b7f1bcf4d3e8d123ece38bb9627", "00OYCe+Ual0+tKOaEhWAGe9SffGEo8zuX1D03VVbacTA3gcjqAsMLeGicKbgbM+f")).toEqual({
      ok: true,
      value: { agent_id: "ab5346c1d6fd44d8eeabe65e764965f6" },
    });
    expect(decryptConsoleToken("abc", "XUDeb3Eb5heSK26HKfhArJyr0GsFm2GSkz5nhViVuryp88fkyo03kUXbp5MSCSEn")).toMatchObject({ ok: true });
  });

  it("derive the key as the console does: 16/24/32 bytes as they are, anything else zero-padded or cut to 32", () => {
    expect(consoleKey("a".repeat(16))).toHaveLength(16);
    expect(consoleKey("a".repeat(24))).toHaveLength(24);
    expect([...consoleKey("abc")]).toEqual([97, 98, 99, ...new Array(29).fill(0)]);
    expect(consoleKey("k".repeat(40))).toHaveLength(32);
  });

  it("decode any console token for any key and agent id (property, tokens made by node:crypto)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 48 }), fc.string({ minLength: 1, maxLength: 64 }), (keyText, agentId) => {
        const token = consoleToken(keyText, agentId);
        const md5 = createHash("md5").update(agentId, "utf8").digest("hex");
        expect(decryptConsoleToken(keyText, token)).toEqual({ ok: true, value: { agent_id: md5 } });
        // A query that was not percent-encoded turns `+` into a space: still read.
        expect(decryptConsoleToken(keyText, token.replaceAll("+", " "))).toEqual({ ok: true, value: { agent_id: md5 } });
      }),
      { numRuns: 200 },
    );
  });

  it("refuse tokens under another key, tampered, truncated or not Base64", () => {
    const token = consoleToken("right-key", "agent");
    const flipped = Buffer.from(token, "base64");
    flipped[5] = flipped[5]! ^ 0xff;
    for (const [key, candidate] of [
      ["wrong-key", token],
      ["right-key", flipped.toString("base64")],
      ["right-key", token.slice(0, 20)],
      ["right-key", "not base64 !!"],
      ["right-key", ""],
    ] as const) {
      const result = decryptConsoleToken(key, candidate);
      expect(result.ok, `${key} ${candidate}`).toBe(false);
      if (!result.ok) expect(result.error.code).toBe("unauthorized");
    }
  });
});
