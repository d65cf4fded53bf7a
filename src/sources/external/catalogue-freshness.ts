/**
 * How long a caller uses its copy of a server's catalogue (tools, route, health) before asking the upstream
 * object again. Pure, so the arithmetic is property-tested.
 *
 * The copy is shared by every caller of one isolate (external-tools.ts), so the upstream object hears from each
 * isolate at most once per window, however many sessions list there (docs/scaling.md): that window, not the
 * number of listings, sets the object's load.
 */

/** The shortest window, whatever the upstream or the operator says. */
export const REVALIDATE_MS = 1_000;

/** What of a server's configuration the window depends on. */
export interface FreshnessConfig {
  /** The window when the upstream states no `ttlMs`. */
  revalidate_seconds: number;
  /** After this the object re-lists anyway: no window outlasts it. */
  cache_ttl_seconds: number;
}

/**
 * The window of one server's copy: the upstream's own `ttlMs` (2026-07-28 tools/list) when it sends one, else
 * `revalidate_seconds`; at least {@link REVALIDATE_MS}, and never past the operator's `cache_ttl_seconds`: an
 * upstream promising a day of freshness must not hide a re-listing, or a health change, for a day.
 */
export function revalidateAfterMs(ttlMs: number | undefined, server: FreshnessConfig): number {
  const stated = ttlMs !== undefined && Number.isFinite(ttlMs) && ttlMs > 0 ? ttlMs : server.revalidate_seconds * 1000;
  return Math.max(REVALIDATE_MS, Math.min(stated, server.cache_ttl_seconds * 1000));
}

/** Whether a copy confirmed at `checkedAt` is still used as is at `now` (after a clock stepped back, it is not). */
export function isFresh(checkedAt: number, now: number, ttlMs: number | undefined, server: FreshnessConfig): boolean {
  const age = now - checkedAt;
  return age >= 0 && age < revalidateAfterMs(ttlMs, server);
}
