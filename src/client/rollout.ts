/**
 * Rollout switches of the design document, as pure functions: `use_service` (the kill switch) and
 * `traffic_split` (the percentage of sessions that go to the service). The split is decided by a hash of the
 * session id, never by chance per call, so a conversation never flips between the service and the local
 * path, and every gateway process (and the Go voice server) puts the same session in the same bucket.
 */
import { z } from "zod";

export const RolloutConfig = z.object({
  /** false: every session stays on the local path, whatever the split. */
  use_service: z.boolean(),
  /** 0..100: sessions whose bucket is below it use the service. */
  traffic_split: z.int().min(0).max(100),
});
export type RolloutConfig = z.infer<typeof RolloutConfig>;

export type RoutePath = "service" | "local";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/**
 * The session's bucket, 0..99: 32-bit FNV-1a of the id's UTF-8 bytes, modulo 100. FNV-1a because every
 * language has it (Go: `hash/fnv.New32a`), so the voice server can compute the same bucket.
 */
export function bucketOf(sessionId: string): number {
  let hash = FNV_OFFSET;
  for (const byte of encoder.encode(sessionId)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash % 100;
}

export function routeFor(sessionId: string, rollout: RolloutConfig): RoutePath {
  return rollout.use_service && bucketOf(sessionId) < rollout.traffic_split ? "service" : "local";
}
