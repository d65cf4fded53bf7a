/**
 * The one place metrics are aggregated: a single SQLite-backed Durable Object (named METRICS_OBJECT), a thin
 * shell over src/observability/metrics-store.ts.
 *
 * Why a Durable Object and not isolate memory: isolates and session objects are recycled at any time, and a
 * Prometheus counter must never go backwards. Every increment is committed to this object's storage before
 * its RPC returns. Writes are tiny (a handful of SQL upserts in one synchronous transaction); one object serves
 * on the order of 1,000 requests/s (the Durable Object soft limit), so senders batch per isolate window.
 * Design and limits: docs/operations.md.
 */
import { DurableObject } from "cloudflare:workers";
import type { Result } from "../src/core/errors";
import { MetricsStore } from "../src/observability/metrics-store";
import { countObjectRequest } from "../src/observability/object-traffic";
import type { MetricsBatchInput, MetricsRpc, MetricsSnapshot } from "../src/observability/metrics-model";
import { sqlOf } from "./host";

export class MetricsObject extends DurableObject<Env> implements MetricsRpc {
  readonly #store: MetricsStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new MetricsStore(sqlOf(ctx), ctx.storage.kv);
  }

  record(batch: MetricsBatchInput): Promise<Result<{ applied: number; dropped: number }>> {
    countObjectRequest("metrics");
    return this.#store.record(batch);
  }

  snapshot(): Promise<MetricsSnapshot> {
    countObjectRequest("metrics");
    return this.#store.snapshot();
  }
}
