/**
 * Metric hooks (issue 6). The session objects and the Worker call these after the fact: each hands one small
 * batch to the metrics Durable Object (metrics-object.ts) through `waitUntil`, so metrics are never on a
 * request's critical path, and every failure is logged and swallowed. Nothing here throws.
 *
 * Aggregation design, limits and the Analytics Engine schema: docs/operations.md.
 */
import type { ToolCallEvent } from "./tool-call";
import { writeToolCallPoint } from "./analytics";
import { withDeadline } from "../core/deadline";
import { log } from "./log";
import { PendingBatch, type HttpItem, type MetricsItems } from "./metrics-batch";
import { METRICS_OBJECT, toolNameLabel, type MetricsBatchInput, type MetricsRpc, type SessionEventKind } from "./metrics-model";

/** A metrics write that takes longer is abandoned: a slow metrics object must not keep callers alive. */
export const METRICS_WRITE_DEADLINE_MS = 5_000;

type WaitUntil = (promise: Promise<unknown>) => void;

/** After every tool execution: an Analytics Engine point and the Prometheus series. */
export function recordToolCall(env: Env, event: ToolCallEvent, waitUntil: WaitUntil): void {
  try {
    writeToolCallPoint(analyticsDataset(env), event);
  } catch (error) {
    log("warn", "metrics.analytics_failed", { message: String(error) });
  }
  send(env, { tool_calls: [{ tool_name: toolNameLabel(event.tool_name, event.source, event.status), source: event.source, status: event.status, duration_ms: event.duration_ms }] }, waitUntil);
}

/** The Worker, once per HTTP request (route = the matched pattern, never the raw path). */
export function recordHttpRequest(env: Env, request: HttpItem, waitUntil: WaitUntil): void {
  send(env, { http: [request] }, waitUntil);
}

/**
 * Session lifecycle, for the `mcp_active_sessions` and `mcp_device_relays_attached` gauges. Called by the
 * session object (`ctx` gives `waitUntil`) on bind, unbind/expiry, relay attach and relay detach.
 */
export function recordSessionEvent(ctx: { waitUntil(promise: Promise<unknown>): void }, env: Env, sessionId: string, kind: SessionEventKind): void {
  if (sessionId === "") return; // an unbound object has nothing to report
  send(env, { sessions: [{ session_id: sessionId, kind, version: nextVersion() }] }, (promise) => ctx.waitUntil(promise));
}

let sequence = 0;
/**
 * Orders the events of one session: epoch milliseconds × 1000 plus a per-isolate counter, because Date.now()
 * stands still within one event in workerd. Stays below 2^53 until the year 2255.
 */
function nextVersion(): number {
  sequence = (sequence + 1) % 1000;
  return Date.now() * 1000 + sequence;
}

/**
 * Items recorded within this window travel together, alike ones merged (metrics-batch.ts): one RPC to the
 * metrics object per isolate and window, instead of one per HTTP request plus one per tool call. An isolate
 * that dies inside a window loses at most that window's increments (counters undercount; they never go backwards).
 */
export const METRICS_BATCH_WINDOW_MS = 200;

let pending: PendingBatch | undefined;

function send(env: Env, items: MetricsItems, waitUntil: WaitUntil): void {
  try {
    if (env.METRICS === undefined) return;
    if (pending && !pending.fits(items)) pending = undefined;
    if (!pending) {
      // A stub only for the call that opens a batch (getByName derives the object id on every call).
      const stub = metricsStub(env);
      if (stub === undefined) return;
      const opened = new PendingBatch();
      pending = opened;
      // Delivered from the waitUntil of the call that opened the batch, with that call's stub.
      const flush = new Promise((resolve) => setTimeout(resolve, METRICS_BATCH_WINDOW_MS)).then(() => {
        if (pending === opened) pending = undefined;
        return deliver(stub, opened.toBatch());
      });
      waitUntil(flush);
    }
    pending.add(items);
  } catch (error) {
    log("warn", "metrics.write_failed", { message: String(error) });
  }
}

async function deliver(stub: MetricsRpc, batch: MetricsBatchInput): Promise<void> {
  try {
    const reply = await withDeadline(stub.record(batch), METRICS_WRITE_DEADLINE_MS, "the metrics object");
    if (!reply.ok) log("warn", "metrics.write_failed", { message: reply.error.message });
  } catch (error) {
    // Overloaded or restarting metrics object: this increment is lost, the request it describes is not.
    log("warn", "metrics.write_failed", { message: error instanceof Error ? error.message : String(error) });
  }
}

/** The metrics object, or undefined when the deployment has no `METRICS` binding. */
export function metricsStub(env: Env): MetricsRpc | undefined {
  const namespace: Env["METRICS"] | undefined = env.METRICS;
  return namespace?.getByName(METRICS_OBJECT);
}

function analyticsDataset(env: Env): AnalyticsEngineDataset | undefined {
  const dataset: Env["TOOL_CALLS"] | undefined = env.TOOL_CALLS;
  return dataset;
}
