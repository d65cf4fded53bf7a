/**
 * How a failed tools/call reads to the caller (REST, tRPC, MCP), the same whether the call went straight to
 * the upstream or through its object. Pure.
 */
import { fail, type Result } from "../../core/errors";
import { isCoolingDown, type Health } from "./health";
import type { ExternalServer } from "./server-config";
import type { UpstreamFailure } from "./upstream-model";

/** The circuit is open: the call fails at once, without touching the network. */
export function coolingDown(server: Pick<ExternalServer, "name">, health: Health, now: number): Result<never> | undefined {
  if (!isCoolingDown(health, now)) return undefined;
  const retryIn = Math.max(0, Math.ceil(((health.next_retry_at ?? 0) - now) / 1000));
  return fail("upstream_error", `MCP server '${server.name}' is unavailable (${health.last_error ?? "unknown error"}); next retry in ${retryIn} s`, {
    server: server.name,
  });
}

/** A call that failed after it was sent (or while connecting, when `connecting`). */
export function callFailed(server: Pick<ExternalServer, "name" | "timeout_ms">, failure: UpstreamFailure, connecting = false): Result<never> {
  if (failure.kind === "protocol" && !connecting) {
    // The server answered: it is healthy, the call is not.
    return fail("upstream_error", `MCP server '${server.name}' rejected the call: ${failure.message}`, { server: server.name, mcp_code: failure.mcp_code ?? null });
  }
  if (failure.kind === "timeout") return fail("timeout", `MCP server '${server.name}': ${failure.message}`, { server: server.name, timeout_ms: server.timeout_ms });
  const what = connecting ? "is unreachable" : "failed";
  return fail("upstream_error", `MCP server '${server.name}' ${what}: ${failure.message}`, { server: server.name });
}

/** Failures that say nothing against the server's health: it answered, or it is merely slow (probed apart). */
export function judgesHealth(failure: UpstreamFailure): boolean {
  return failure.kind !== "protocol" && failure.kind !== "timeout";
}
