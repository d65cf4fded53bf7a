/**
 * The durable metrics store: counters, histograms and session gauges in SQL tables, written one batch per
 * transaction. It runs inside the one metrics object (durable-objects/metrics-object.ts), whose storage
 * survives every recycling, so a Prometheus counter never goes backwards. Knows SQL, not Durable Objects.
 */
import type { z } from "zod";
import { fail, ok, type Result } from "../core/errors";
import type { KvStore, SqlStore } from "../core/host";
import { log } from "./log";
import {
  bucketFor,
  METRICS_OBJECT,
  HttpRecord,
  httpStatusLabel,
  MAX_TOOL_NAMES,
  methodLabel,
  MetricsBatch,
  OTHER,
  routeLabel,
  SessionEvent,
  sourceLabel,
  statusLabel,
  ToolCallRecord,
  UNKNOWN,
  type CounterSample,
  type HistogramSample,
  type Labels,
  type MetricsBatchInput,
  type MetricsRpc,
  type MetricsSnapshot,
} from "./metrics-model";

/** Ended sessions are kept this long as tombstones, so a late, older event cannot resurrect them. */
const TOMBSTONE_MS = 60 * 60 * 1000;

const SCHEMA_VERSION = 1;
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS counters (name TEXT NOT NULL, labels TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (name, labels))`,
  // Non-cumulative: one row per (series, upper bound); the renderer accumulates. Bounds are stored as text so a
  // later change of DURATION_BUCKETS still renders monotonic buckets.
  `CREATE TABLE IF NOT EXISTS histogram_buckets (name TEXT NOT NULL, labels TEXT NOT NULL, le TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (name, labels, le))`,
  // Sum in milliseconds: integer milliseconds add up exactly, seconds as floats would not.
  `CREATE TABLE IF NOT EXISTS histogram_totals (name TEXT NOT NULL, labels TEXT NOT NULL, sum_ms REAL NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (name, labels))`,
  `CREATE TABLE IF NOT EXISTS tool_names (name TEXT PRIMARY KEY)`,
  // Gauges are sets, not up/down counters: a repeated or lost event cannot make them drift for ever.
  `CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, active INTEGER NOT NULL, active_version INTEGER NOT NULL,
     relay INTEGER NOT NULL, relay_version INTEGER NOT NULL, updated_ms INTEGER NOT NULL)`,
];

export class MetricsStore implements MetricsRpc {
  constructor(
    private readonly sql: SqlStore,
    kv: KvStore,
  ) {
    // Synchronous SQL: nothing can interleave before the tables exist.
    if (kv.get("schema_version") !== SCHEMA_VERSION) {
      for (const statement of SCHEMA) this.sql.exec(statement);
      kv.put("schema_version", SCHEMA_VERSION);
    }
  }

  /** Applies one batch atomically. Invalid items are dropped (and counted in the reply), never fatal. */
  async record(batch: MetricsBatchInput): Promise<Result<{ applied: number; dropped: number }>> {
    const parsed = MetricsBatch.safeParse(batch);
    if (!parsed.success) return fail("invalid_request", "Invalid metrics batch");
    let applied = 0;
    let dropped = 0;
    const each = <T>(items: unknown[], schema: z.ZodType<T>, apply: (item: T) => void) => {
      for (const item of items) {
        const valid = schema.safeParse(item);
        if (valid.success) apply(valid.data);
        if (valid.success) applied += 1;
        else dropped += 1;
      }
    };
    const now = Date.now();
    this.sql.transaction(() => {
      each(parsed.data.tool_calls, ToolCallRecord, (call) => this.#toolCall(call));
      each(parsed.data.http, HttpRecord, (request) => this.#http(request));
      each(parsed.data.sessions, SessionEvent, (event) => this.#session(event, now));
    });
    if (dropped > 0) log("warn", "metrics.dropped", { dropped });
    return ok({ applied, dropped });
  }

  /** Every series, as plain data. Also forgets old tombstones: scrapes are frequent and cheap to piggyback on. */
  async snapshot(): Promise<MetricsSnapshot> {
    this.sql.exec("DELETE FROM sessions WHERE active = 0 AND relay = 0 AND updated_ms < ?", Date.now() - TOMBSTONE_MS);
    const counters = this.sql
      .exec<{ name: string; labels: string; value: number }>("SELECT name, labels, value FROM counters ORDER BY name, labels")
      .toArray()
      .map((row): CounterSample => ({ name: row.name, labels: parseLabels(row.labels), value: row.value }));
    const histograms = new Map<string, HistogramSample>();
    for (const row of this.sql.exec<{ name: string; labels: string; sum_ms: number; count: number }>(
      "SELECT name, labels, sum_ms, count FROM histogram_totals ORDER BY name, labels",
    )) {
      histograms.set(key(row.name, row.labels), { name: row.name, labels: parseLabels(row.labels), buckets: [], sum_seconds: row.sum_ms / 1000, count: row.count });
    }
    for (const row of this.sql.exec<{ name: string; labels: string; le: string; count: number }>("SELECT name, labels, le, count FROM histogram_buckets")) {
      histograms.get(key(row.name, row.labels))?.buckets.push({ le: row.le, count: row.count });
    }
    const gauges = this.sql
      .exec<{ active: number | null; relays: number | null }>("SELECT SUM(active) AS active, SUM(relay) AS relays FROM sessions")
      .one();
    return { counters, histograms: [...histograms.values()], active_sessions: gauges.active ?? 0, relays_attached: gauges.relays ?? 0 };
  }

  #toolCall(call: ToolCallRecord): void {
    const labels = { tool_name: this.#admitToolName(call.tool_name), status: statusLabel(call.status) };
    this.#count("mcp_tool_execution_total", labels, call.count);
    this.#observe("mcp_tool_execution_duration_seconds", labels, call.duration_ms, call.count);
    if (call.status === "timeout") this.#count("mcp_tool_timeouts_total", { source: sourceLabel(call.source) }, call.count);
  }

  #http(request: HttpRecord): void {
    const labels = { route: routeLabel(request.route), method: methodLabel(request.method), status: httpStatusLabel(request.status) };
    this.#count("http_requests_total", labels, request.count);
  }

  /** Last writer wins per field, by version: events of one session may arrive out of order. */
  #session(event: SessionEvent, now: number): void {
    const fields = {
      bound: { active: 1, relay: null },
      ended: { active: 0, relay: 0 },
      relay_attached: { active: null, relay: 1 },
      relay_detached: { active: null, relay: 0 },
    }[event.kind];
    this.sql.exec(
      `INSERT INTO sessions (session_id, active, active_version, relay, relay_version, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET
         active = CASE WHEN excluded.active_version > active_version THEN excluded.active ELSE active END,
         active_version = MAX(active_version, excluded.active_version),
         relay = CASE WHEN excluded.relay_version > relay_version THEN excluded.relay ELSE relay END,
         relay_version = MAX(relay_version, excluded.relay_version),
         updated_ms = excluded.updated_ms`,
      event.session_id,
      fields.active ?? 0,
      fields.active === null ? 0 : event.version,
      fields.relay ?? 0,
      fields.relay === null ? 0 : event.version,
      now,
    );
  }

  /**
   * The first {@link MAX_TOOL_NAMES} names seen get their own label, for good: a name never moves between
   * series, so its counter never drops. Later names share "other".
   */
  #admitToolName(name: string): string {
    if (name === UNKNOWN || name === OTHER) return name;
    if (this.sql.exec("SELECT 1 FROM tool_names WHERE name = ?", name).toArray().length > 0) return name;
    const { n } = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tool_names").one();
    if (n >= MAX_TOOL_NAMES) return OTHER;
    this.sql.exec("INSERT INTO tool_names (name) VALUES (?)", name);
    return name;
  }

  #count(name: string, labels: Labels, by: number): void {
    this.sql.exec(
      "INSERT INTO counters (name, labels, value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value",
      name,
      JSON.stringify(labels),
      by,
    );
  }

  /** `count` observations in one bucket (that of their mean), totalling `totalMs`. */
  #observe(name: string, labels: Labels, totalMs: number, count: number): void {
    const encoded = JSON.stringify(labels);
    this.sql.exec(
      "INSERT INTO histogram_buckets (name, labels, le, count) VALUES (?, ?, ?, ?) ON CONFLICT (name, labels, le) DO UPDATE SET count = count + excluded.count",
      name,
      encoded,
      bucketFor(totalMs / count / 1000),
      count,
    );
    this.sql.exec(
      `INSERT INTO histogram_totals (name, labels, sum_ms, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (name, labels) DO UPDATE SET sum_ms = sum_ms + excluded.sum_ms, count = count + excluded.count`,
      name,
      encoded,
      totalMs,
      count,
    );
  }
}

const key = (name: string, labels: string) => `${name}\u0000${labels}`;

function parseLabels(text: string): Labels {
  const parsed: unknown = JSON.parse(text);
  const labels: Labels = {};
  if (typeof parsed === "object" && parsed !== null) {
    for (const [name, value] of Object.entries(parsed)) if (typeof value === "string") labels[name] = value;
  }
  return labels;
}
