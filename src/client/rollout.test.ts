import { describe, expect, it } from "vitest";
import { bucketOf, RolloutConfig, routeFor } from "./rollout";

describe("bucketOf", () => {
  it("is 32-bit FNV-1a modulo 100 (published FNV test vectors), as Go's hash/fnv.New32a computes it", () => {
    // FNV-1a 32: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968.
    expect(bucketOf("")).toBe(0x811c9dc5 % 100);
    expect(bucketOf("a")).toBe(0xe40c292c % 100);
    expect(bucketOf("foobar")).toBe(0xbf9cf968 % 100);
  });

  it("matches the vectors docs/integration.md gives the Go voice server", () => {
    expect(bucketOf("conv-7f3a9c")).toBe(75);
    expect(bucketOf("s-1")).toBe(16);
    expect(bucketOf("8f2c1e6a-3b7d-4c9e-a1f0-5d6e7f8a9b0c")).toBe(94);
  });

  it("hashes UTF-8 bytes, so ids with non-ASCII text bucket the same in every language", () => {
    // "é" is 0xc3 0xa9 in UTF-8; FNV-1a over those two bytes.
    let hash = 0x811c9dc5;
    for (const byte of [0xc3, 0xa9]) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    expect(bucketOf("é")).toBe(hash % 100);
  });

  it("is deterministic and within 0..99", () => {
    for (let i = 0; i < 2000; i += 1) {
      const id = `session-${i}`;
      const bucket = bucketOf(id);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(100);
      expect(bucketOf(id)).toBe(bucket);
    }
  });

  it("spreads session ids evenly enough for a percentage split", () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i += 1) counts[Math.floor(bucketOf(`conv-${i.toString(36)}-${i * 7919}`) / 10)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(850); // 1,000 expected per decile
  });
});

describe("routeFor", () => {
  const ids = Array.from({ length: 500 }, (_, i) => `voice-${i}`);

  it("sends nothing to the service at 0% or with use_service off, everything at 100%", () => {
    expect(ids.every((id) => routeFor(id, { use_service: true, traffic_split: 0 }) === "local")).toBe(true);
    expect(ids.every((id) => routeFor(id, { use_service: false, traffic_split: 100 }) === "local")).toBe(true);
    expect(ids.every((id) => routeFor(id, { use_service: true, traffic_split: 100 }) === "service")).toBe(true);
  });

  it("at N% sends exactly the sessions whose bucket is below N; raising N only adds sessions", () => {
    const at = (split: number) => new Set(ids.filter((id) => routeFor(id, { use_service: true, traffic_split: split }) === "service"));
    for (const id of at(30)) expect(bucketOf(id)).toBeLessThan(30);
    expect(at(30).size).toBeGreaterThan(ids.length * 0.2);
    expect(at(30).size).toBeLessThan(ids.length * 0.4);
    for (const id of at(10)) expect(at(30).has(id)).toBe(true);
  });

  it("validates the switches", () => {
    expect(RolloutConfig.safeParse({ use_service: true, traffic_split: 101 }).success).toBe(false);
    expect(RolloutConfig.safeParse({ use_service: true, traffic_split: 12.5 }).success).toBe(false);
    expect(RolloutConfig.safeParse({ use_service: true, traffic_split: 50 }).success).toBe(true);
  });
});
