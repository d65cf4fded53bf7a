/**
 * Per-agent rate limits on binds and tool calls, through the platform's rate limiting bindings (wrangler.toml
 * `[[ratelimits]]`: `AGENT_BINDS`, `AGENT_CALLS`), keyed by agent id. The platform counts per location and
 * without a request to any object of ours, which is why it is used rather than a counter in the agent's
 * object (that would put a per-agent object on every call's path, docs/scaling.md). The limits themselves live
 * in wrangler.toml; `agents.rate_limits: false` turns enforcement off. A limiter that fails to answer lets the
 * request through, with a warning: an outage of the guard is not an outage of the service.
 */
import type { ServiceConfig } from "../core/config";
import { fail, ok, type Result } from "../core/errors";
import { log } from "../observability/log";

/** The window both bindings count over (wrangler.toml `period`): what `Retry-After` says at most. */
export const RATE_PERIOD_SECONDS = 60;

/** What the platform's binding offers (Workers Rate Limiting API). */
interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export interface AgentRateLimits {
  bind(agentId: string): Promise<Result<void>>;
  call(agentId: string): Promise<Result<void>>;
}

export function rateLimitsOf(env: Partial<Record<"AGENT_BINDS" | "AGENT_CALLS", RateLimiter>>, config: ServiceConfig): AgentRateLimits | undefined {
  if (!config.agents.rate_limits) return undefined;
  return { bind: (agentId) => check(env.AGENT_BINDS, agentId, "binds"), call: (agentId) => check(env.AGENT_CALLS, agentId, "tool calls") };
}

async function check(limiter: RateLimiter | undefined, agentId: string, what: string): Promise<Result<void>> {
  // No agent, or a deployment without the binding: nothing to count against.
  if (agentId === "" || !limiter) return ok(undefined);
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key: agentId }));
  } catch (error) {
    // The limiter is a guard against floods, not a gate: when it cannot answer, the request goes on (and says so).
    log("warn", "agent.rate_limit_unavailable", { agent_id: agentId, what, message: error instanceof Error ? error.message : String(error) });
    return ok(undefined);
  }
  return success
    ? ok(undefined)
    : fail("rate_limited", `Agent '${agentId}' is over its limit of ${what}; retry later`, { retry_after_seconds: RATE_PERIOD_SECONDS });
}
