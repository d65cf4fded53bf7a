/**
 * What the metrics pipeline carries and how labels stay bounded. The session objects and the Worker send
 * {@link MetricsBatch}es to the one metrics Durable Object (metrics-object.ts); `/metrics` renders its
 * {@link MetricsSnapshot}. Every label value passes through a folding rule here, so neither a client nor a
 * device can create series at will.
 */
import { z } from "zod";
import { ERROR_CODES, type Result } from "../core/errors";
import { ToolSource } from "../core/schemas";

/** The name of the single metrics object. */
export const METRICS_OBJECT = "global";

/**
 * Upper bounds (seconds) of `mcp_tool_execution_duration_seconds`. A voice turn notices anything above a few
 * hundred milliseconds, and device/upstream calls stop at their 30 s ceiling, so resolution goes from 5 ms
 * (local tools) to 30 s.
 */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** Distinct tool names that get their own series; later ones are folded into {@link OTHER}. */
export const MAX_TOOL_NAMES = 100;

/** Label value for names that resolved to no tool: garbage from a client never becomes a label. */
export const UNKNOWN = "unknown";
/** Label value for anything past a cap or outside a known set. */
export const OTHER = "other";

/** Longest label value kept as is; longer values are folded (a tool name is at most 128 characters). */
const MAX_LABEL_LENGTH = 128;

const STATUSES: ReadonlySet<string> = new Set(["success", "tool_error", ...ERROR_CODES]);
const SOURCES: ReadonlySet<string> = new Set([...ToolSource.options, "none"]);
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The tool label a sender may ship: names that resolved to no tool are never sent. */
export function toolNameLabel(toolName: string, source: string, status: string): string {
  if (source === "none" || status === "tool_not_found") return UNKNOWN;
  return toolName.length > MAX_LABEL_LENGTH ? OTHER : toolName;
}

export const statusLabel = (status: string): string => (STATUSES.has(status) ? status : OTHER);
export const sourceLabel = (source: string): string => (SOURCES.has(source) ? source : OTHER);
export const methodLabel = (method: string): string => (METHODS.has(method) ? method : OTHER);
/** Route patterns come from our own router, but a pattern is still only a label when it is short. */
export const routeLabel = (route: string): string => (route.length > 0 && route.length <= MAX_LABEL_LENGTH ? route : OTHER);
export const httpStatusLabel = (status: number): string => (Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER);

// Loose shapes at the RPC boundary: during a rollout an older or newer sender may talk to this object, so the
// receiver folds values rather than rejecting whole batches.
const Label = z.string().max(512);

const DAY_MS = 24 * 3600 * 1000;
/** How many alike items one record stands for (senders merge them per batch window; absent = one). */
const Count = z.number().int().positive().max(1_000_000).default(1);

/**
 * `count` tool calls with the same labels, all in one histogram bucket; `duration_ms` is the total of their
 * durations (their mean lies in that same bucket).
 */
export const ToolCallRecord = z
  .object({ tool_name: Label, source: Label, status: Label, duration_ms: z.number().nonnegative(), count: Count })
  .refine((call) => call.duration_ms <= call.count * DAY_MS, { message: "duration_ms exceeds a day per call", path: ["duration_ms"] });
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

/** `count` HTTP requests with the same labels. */
export const HttpRecord = z.object({ route: Label, method: Label, status: z.number(), count: Count });
export type HttpRecord = z.infer<typeof HttpRecord>;

export const SessionEventKind = z.enum(["bound", "ended", "relay_attached", "relay_detached"]);
export type SessionEventKind = z.infer<typeof SessionEventKind>;

/**
 * A session lifecycle change. `version` orders events of one session (they travel as independent RPCs and
 * may arrive out of order): the object keeps, per field, the value of the newest event it has seen.
 */
export const SessionEvent = z.object({ session_id: z.string().min(1).max(256), kind: SessionEventKind, version: z.number().int().nonnegative() });
export type SessionEvent = z.infer<typeof SessionEvent>;

/** Records of each kind one batch may carry. */
export const MAX_BATCH_RECORDS = 100;

export const MetricsBatch = z.object({
  tool_calls: z.array(z.unknown()).max(MAX_BATCH_RECORDS).default([]),
  http: z.array(z.unknown()).max(MAX_BATCH_RECORDS).default([]),
  sessions: z.array(z.unknown()).max(MAX_BATCH_RECORDS).default([]),
});
export type MetricsBatchInput = z.input<typeof MetricsBatch>;

export type Labels = Record<string, string>;

export interface CounterSample {
  name: string;
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  name: string;
  labels: Labels;
  /** Non-cumulative counts keyed by the upper bound they were recorded under ("0.005", …, "+Inf"). */
  buckets: { le: string; count: number }[];
  sum_seconds: number;
  count: number;
}

/** Everything the metrics object holds, as plain data (it crosses Durable Object RPC). */
export interface MetricsSnapshot {
  counters: CounterSample[];
  histograms: HistogramSample[];
  active_sessions: number;
  relays_attached: number;
}

/** The upper bound a duration falls under, as stored: inclusive, like Prometheus `le`. */
export function bucketFor(seconds: number): string {
  const bound = DURATION_BUCKETS.find((le) => seconds <= le);
  return bound === undefined ? "+Inf" : String(bound);
}

/** The metrics object's RPC surface, as the Worker and the session objects call it. */
export interface MetricsRpc {
  record(batch: MetricsBatchInput): Promise<Result<{ applied: number; dropped: number }>>;
  snapshot(): Promise<MetricsSnapshot>;
}
