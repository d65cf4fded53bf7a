/**
 * Health of one upstream server: a small pure state machine with exponential backoff, so the rules
 * (when to retry, when tools are hidden) are unit-tested without a runtime.
 *
 * starting ──success──▶ healthy ──failure──▶ unhealthy ──success──▶ healthy
 *     └──────failure──────────────────────────▲
 * While unhealthy, calls fail fast until `next_retry_at` (then one call or the background alarm probes),
 * and the last known tools stay visible for `unhealthy_grace_seconds` after `unhealthy_since`.
 */
import { z } from "zod";

export const Health = z.object({
  state: z.enum(["starting", "healthy", "unhealthy"]),
  /** Consecutive failures; drives the backoff. */
  failures: z.number().int().min(0),
  last_error: z.string().nullable(),
  last_error_at: z.number().nullable(),
  last_success: z.number().nullable(),
  unhealthy_since: z.number().nullable(),
  next_retry_at: z.number().nullable(),
});
export type Health = z.infer<typeof Health>;

export interface BackoffPolicy {
  retry_initial_ms: number;
  retry_max_ms: number;
}

export const initialHealth = (): Health => ({
  state: "starting",
  failures: 0,
  last_error: null,
  last_error_at: null,
  last_success: null,
  unhealthy_since: null,
  next_retry_at: null,
});

export function recordSuccess(health: Health, now: number): Health {
  return { ...health, state: "healthy", failures: 0, last_success: now, unhealthy_since: null, next_retry_at: null };
}

export function recordFailure(health: Health, message: string, now: number, policy: BackoffPolicy): Health {
  const failures = health.failures + 1;
  return {
    ...health,
    state: "unhealthy",
    failures,
    last_error: message,
    last_error_at: now,
    unhealthy_since: health.unhealthy_since ?? now,
    next_retry_at: now + backoffMs(failures, policy),
  };
}

/** initial × 2^(failures−1), capped at max. */
export function backoffMs(failures: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(policy.retry_initial_ms * 2 ** exponent, policy.retry_max_ms);
}

/** Whether calls should be refused without touching the network (the circuit is open). */
export function isCoolingDown(health: Health, now: number): boolean {
  return health.state === "unhealthy" && health.next_retry_at !== null && now < health.next_retry_at;
}

/** Whether the server's last known tools are offered to the LLM. */
export function toolsVisible(health: Health, now: number, graceSeconds: number): boolean {
  if (health.state !== "unhealthy") return true;
  return health.unhealthy_since !== null && now - health.unhealthy_since < graceSeconds * 1000;
}
