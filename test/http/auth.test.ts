import { describe, expect, it } from "vitest";
import { bearerToken, isAcceptedToken, parseTokens } from "../../src/http/auth";

describe("bearer auth", () => {
  it("fails closed when no token is configured", async () => {
    expect(await isAcceptedToken("anything", parseTokens(undefined))).toBe(false);
    expect(await isAcceptedToken("", parseTokens(" , "))).toBe(false);
  });

  it("accepts any token of a rotation list and nothing else", async () => {
    const accepted = parseTokens("old-token, new-token");
    expect(await isAcceptedToken("old-token", accepted)).toBe(true);
    expect(await isAcceptedToken("new-token", accepted)).toBe(true);
    expect(await isAcceptedToken("new-token-but-longer", accepted)).toBe(false);
    expect(await isAcceptedToken(undefined, accepted)).toBe(false);
  });

  it("parses only well-formed Bearer headers", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(null)).toBeUndefined();
  });
});
