/**
 * Tool-call metrics (issue 6). PLACEHOLDER: the production-observability work fills this in (Prometheus
 * aggregation, Analytics Engine data points). Called by the session Durable Object after every execution.
 */
import type { ToolCallEvent } from "../session/session-service";

export function recordToolCall(_env: Env, _event: ToolCallEvent, _waitUntil: (promise: Promise<unknown>) => void): void {
  // intentionally empty until metrics land
}
