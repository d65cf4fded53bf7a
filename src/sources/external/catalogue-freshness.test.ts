import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isFresh, REVALIDATE_MS, revalidateAfterMs } from "./catalogue-freshness";

const ttl = fc.option(fc.oneof(fc.integer({ min: -1_000, max: 10 ** 9 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY)), { nil: undefined });
const server = fc.record({ cache_ttl_seconds: fc.integer({ min: 1, max: 7 * 24 * 3600 }), revalidate_seconds: fc.integer({ min: 1, max: 3600 }) });
const defaults = { cache_ttl_seconds: 300, revalidate_seconds: 10 };

describe("catalogue freshness", () => {
  it("revalidates after revalidate_seconds, or after the upstream's ttlMs when it sends one, never after the cache TTL", () => {
    expect(revalidateAfterMs(undefined, defaults)).toBe(10_000);
    expect(revalidateAfterMs(0, defaults)).toBe(10_000);
    expect(revalidateAfterMs(30_000, defaults)).toBe(30_000);
    expect(revalidateAfterMs(2_000, defaults)).toBe(2_000);
    expect(revalidateAfterMs(86_400_000, defaults)).toBe(300_000);
    expect(revalidateAfterMs(60_000, { cache_ttl_seconds: 1, revalidate_seconds: 10 })).toBe(REVALIDATE_MS);
    expect(revalidateAfterMs(10, defaults)).toBe(REVALIDATE_MS);
  });

  it("keeps the window between 1 s and the larger of 1 s and the cache TTL, for any ttlMs and configuration", () => {
    fc.assert(
      fc.property(ttl, server, (ttlMs, config) => {
        const window = revalidateAfterMs(ttlMs, config);
        expect(Number.isFinite(window)).toBe(true);
        expect(window).toBeGreaterThanOrEqual(REVALIDATE_MS);
        expect(window).toBeLessThanOrEqual(Math.max(REVALIDATE_MS, config.cache_ttl_seconds * 1000));
      }),
    );
  });

  it("honours an upstream ttlMs exactly when it lies between 1 s and the cache TTL", () => {
    fc.assert(
      fc.property(server, fc.integer({ min: REVALIDATE_MS, max: 7 * 24 * 3600 * 1000 }), (config, ttlMs) => {
        fc.pre(ttlMs <= config.cache_ttl_seconds * 1000);
        expect(revalidateAfterMs(ttlMs, config)).toBe(ttlMs);
      }),
    );
  });

  it("never shortens the window when the upstream promises more freshness", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 8 }), fc.integer({ min: 1, max: 10 ** 8 }), server, (a, b, config) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(revalidateAfterMs(high, config)).toBeGreaterThanOrEqual(revalidateAfterMs(low, config));
      }),
    );
  });

  it("serves a copy exactly while its age is within the window (a clock stepping back revalidates)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 42 }), fc.integer({ min: -(10 ** 7), max: 10 ** 7 }), ttl, server, (checkedAt, age, ttlMs, config) => {
        const fresh = isFresh(checkedAt, checkedAt + age, ttlMs, config);
        expect(fresh).toBe(age >= 0 && age < revalidateAfterMs(ttlMs, config));
      }),
    );
  });
});
