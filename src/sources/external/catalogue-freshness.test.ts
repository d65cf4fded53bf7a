import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isFresh, REVALIDATE_MS, revalidateAfterMs } from "./catalogue-freshness";

const ttl = fc.option(fc.oneof(fc.integer({ min: -1_000, max: 10 ** 9 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY)), { nil: undefined });
const cacheTtlSeconds = fc.integer({ min: 1, max: 7 * 24 * 3600 });

describe("catalogue freshness", () => {
  it("revalidates after 1 s, or after the upstream's ttlMs when longer, never after the operator's cache TTL", () => {
    expect(revalidateAfterMs(undefined, 300)).toBe(REVALIDATE_MS);
    expect(revalidateAfterMs(0, 300)).toBe(REVALIDATE_MS);
    expect(revalidateAfterMs(30_000, 300)).toBe(30_000);
    expect(revalidateAfterMs(86_400_000, 300)).toBe(300_000);
    expect(revalidateAfterMs(60_000, 1)).toBe(REVALIDATE_MS);
  });

  it("keeps the window between 1 s and the larger of 1 s and the cache TTL, for any ttlMs", () => {
    fc.assert(
      fc.property(ttl, cacheTtlSeconds, (ttlMs, seconds) => {
        const window = revalidateAfterMs(ttlMs, seconds);
        expect(Number.isFinite(window)).toBe(true);
        expect(window).toBeGreaterThanOrEqual(REVALIDATE_MS);
        expect(window).toBeLessThanOrEqual(Math.max(REVALIDATE_MS, seconds * 1000));
      }),
    );
  });

  it("honours an upstream ttlMs exactly when it lies between 1 s and the cache TTL", () => {
    fc.assert(
      fc.property(cacheTtlSeconds, fc.integer({ min: REVALIDATE_MS, max: 7 * 24 * 3600 * 1000 }), (seconds, ttlMs) => {
        fc.pre(ttlMs <= seconds * 1000);
        expect(revalidateAfterMs(ttlMs, seconds)).toBe(ttlMs);
      }),
    );
  });

  it("never shortens the window when the upstream promises more freshness", () => {
    fc.assert(
      fc.property(fc.nat(10 ** 8), fc.nat(10 ** 8), cacheTtlSeconds, (a, b, seconds) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(revalidateAfterMs(high, seconds)).toBeGreaterThanOrEqual(revalidateAfterMs(low, seconds));
      }),
    );
  });

  it("serves a copy exactly while its age is within the window (a clock stepping back revalidates)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 42 }), fc.integer({ min: -(10 ** 7), max: 10 ** 7 }), ttl, cacheTtlSeconds, (checkedAt, age, ttlMs, seconds) => {
        const fresh = isFresh(checkedAt, checkedAt + age, ttlMs, seconds);
        expect(fresh).toBe(age >= 0 && age < revalidateAfterMs(ttlMs, seconds));
      }),
    );
  });
});
