import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AUDIENCE, mintToken, verifyToken } from "./endpoint-token";

const now = 1_800_000_000;

describe("endpoint tokens", () => {
  it("round-trip the agent and provider", async () => {
    const token = await mintToken("s3cret", { sub: "agent-1", prv: "calendar", iat: now, exp: now + 60 });
    expect(token).toMatch(/^[0-9a-f]+\.[0-9a-f]{64}$/);
    const verified = await verifyToken("s3cret", token, now + 1);
    expect(verified).toEqual({ ok: true, value: { sub: "agent-1", prv: "calendar", aud: AUDIENCE, iat: now, exp: now + 60 } });
  });

  it("refuse expired, tampered, foreign-signed, malformed tokens and a missing secret", async () => {
    const token = await mintToken("s3cret", { sub: "agent-1", iat: now, exp: now + 60 });
    const [, signature] = token.split(".");
    const otherClaims = Buffer.from(JSON.stringify({ sub: "agent-2", aud: AUDIENCE, iat: now, exp: now + 60 })).toString("hex");
    const cases: [string | undefined, string | undefined, number, RegExp][] = [
      ["s3cret", token, now + 61, /expired/],
      ["other", token, now, /signature/],
      ["s3cret", `${otherClaims}.${signature}`, now, /signature/],
      ["s3cret", "not-a-token", now, /Malformed/],
      ["s3cret", "abc.def", now, /Malformed/],
      ["s3cret", undefined, now, /Malformed/],
      [undefined, token, now, /MCP_ENDPOINT_SECRET/],
    ];
    for (const [secret, candidate, at, message] of cases) {
      const result = await verifyToken(secret, candidate, at);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe("unauthorized");
        expect(result.error.message).toMatch(message);
      }
    }
  });

  it("still accept the compact JWTs earlier versions minted (HS256, signed independently by node:crypto)", async () => {
    const b64url = (text: string) => Buffer.from(text).toString("base64url");
    const body = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify({ sub: "agent-9", aud: AUDIENCE, iat: now, exp: now + 60 }))}`;
    const jwt = `${body}.${createHmac("sha256", "s3cret").update(body).digest("base64url")}`;
    expect(await verifyToken("s3cret", jwt, now)).toMatchObject({ ok: true, value: { sub: "agent-9" } });
    expect((await verifyToken("other", jwt, now)).ok).toBe(false);
  });

  it("can never spell `key` or `call`, which xiaozhi-esp32-server refuses in an endpoint URL (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 128 }), fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }), async (sub, prv) => {
        const token = await mintToken("s3cret", { sub, iat: now, exp: now + 60, ...(prv ? { prv } : {}) });
        expect(/key|call/i.test(token)).toBe(false);
        expect(await verifyToken("s3cret", token, now)).toMatchObject({ ok: true, value: { sub } });
      }),
      { numRuns: 200 },
    );
  });
});
