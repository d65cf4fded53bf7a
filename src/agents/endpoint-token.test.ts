import { describe, expect, it } from "vitest";
import { mintToken, verifyToken } from "./endpoint-token";

const now = 1_800_000_000;

describe("endpoint tokens", () => {
  it("round-trips the agent and provider", async () => {
    const token = await mintToken("s3cret", { sub: "agent-1", prv: "calendar", iat: now, exp: now + 60 });
    const verified = await verifyToken("s3cret", token, now + 1);
    expect(verified).toEqual({ ok: true, value: { sub: "agent-1", prv: "calendar", aud: "xiaozhi-mcp-endpoint", iat: now, exp: now + 60 } });
  });

  it("refuses expired, tampered, foreign-signed, malformed tokens and a missing secret", async () => {
    const token = await mintToken("s3cret", { sub: "agent-1", iat: now, exp: now + 60 });
    const [h, , s] = token.split(".");
    const forged = `${h}.${btoa(JSON.stringify({ sub: "agent-2", aud: "xiaozhi-mcp-endpoint", iat: now, exp: now + 60 }))}.${s}`;
    const cases: [string | undefined, string | undefined, RegExp][] = [
      ["s3cret", token, /expired/],
      ["other", token, /signature/],
      ["s3cret", forged, /signature|Malformed/],
      ["s3cret", "not-a-token", /Malformed/],
      ["s3cret", undefined, /Malformed/],
      [undefined, token, /MCP_ENDPOINT_SECRET/],
    ];
    for (const [secret, candidate, message] of cases) {
      const result = await verifyToken(secret, candidate, secret === "s3cret" && candidate === token ? now + 61 : now);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe("unauthorized");
        expect(result.error.message).toMatch(message);
      }
    }
  });
});
