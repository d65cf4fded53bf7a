/**
 * How routes confine an agent token to its agent: the core does it for sessions (session-directory.ts); routes
 * that name an agent themselves (`{agentId}`, `?agent_id=`) or hand a request to an object use these.
 */
import type { Context } from "hono";
import { AppException, appError } from "../core/errors";
import { agentScope } from "../core/principal";
import type { AppEnv } from "./app-env";

/** The agent the caller is confined to; undefined for a service token. */
export function scopeOf(c: Context<AppEnv>): string | undefined {
  const principal = c.get("principal");
  return principal === undefined ? undefined : agentScope(principal);
}

/** Refuses an agent token that names another agent (403: it knows which agent it asked for). */
export function requireOwnAgent(c: Context<AppEnv>, agentId: string): void {
  const scope = scopeOf(c);
  if (scope !== undefined && scope !== agentId) throw new AppException(appError("forbidden", `An agent token reaches its own agent only, not '${agentId}'`));
}
