/**
 * How long a caller uses its copy of a server's catalogue (tools, route, health) before asking the upstream
 * object again. Pure, so the arithmetic is property-tested.
 */

/**
 * The shortest revalidation window. Every execute lists the catalogue first (to resolve the name), so this
 * spares one RPC per call in a burst; changes (a new list, a server turning unhealthy) show up at most this
 * much later.
 */
export const REVALIDATE_MS = 1_000;

/**
 * The window of one server's copy: {@link REVALIDATE_MS}, or the upstream's own `ttlMs` (2026-07-28 tools/list)
 * when longer, but never past the operator's `cache_ttl_seconds`, after which the object re-lists anyway: an
 * upstream promising a day of freshness must not hide a re-listing, or a health change, for a day.
 */
export function revalidateAfterMs(ttlMs: number | undefined, cacheTtlSeconds: number): number {
  const upstream = ttlMs !== undefined && Number.isFinite(ttlMs) && ttlMs > 0 ? ttlMs : 0;
  return Math.max(REVALIDATE_MS, Math.min(upstream, cacheTtlSeconds * 1000));
}

/** Whether a copy confirmed at `checkedAt` is still used as is at `now` (after a clock stepped back, it is not). */
export function isFresh(checkedAt: number, now: number, ttlMs: number | undefined, cacheTtlSeconds: number): boolean {
  const age = now - checkedAt;
  return age >= 0 && age < revalidateAfterMs(ttlMs, cacheTtlSeconds);
}
