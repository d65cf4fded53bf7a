/**
 * Prometheus text exposition (format 0.0.4) of a {@link MetricsSnapshot} plus the gauges read at scrape time.
 * Pure: the route gathers the data, this module only formats it.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import { DURATION_BUCKETS, type CounterSample, type HistogramSample, type Labels, type MetricsSnapshot } from "./metrics-model";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type MetricType = "counter" | "gauge" | "histogram";

/** Every series the service exposes, in output order. */
export const METRIC_FAMILIES = {
  mcp_tool_execution_duration_seconds: { type: "histogram", help: "Tool execution time in seconds, by tool and outcome." },
  mcp_tool_execution_total: { type: "counter", help: "Tool executions, by tool and outcome (success, tool_error or the error code)." },
  mcp_tool_timeouts_total: { type: "counter", help: "Tool executions that hit their deadline, by tool source." },
  mcp_active_sessions: { type: "gauge", help: "Bound sessions that have not been unbound or expired." },
  mcp_device_relays_attached: { type: "gauge", help: "Sessions with a device relay (WebSocket or SSE) attached." },
  mcp_upstream_up: { type: "gauge", help: "1 when the external MCP server is healthy, 0 otherwise (disabled servers are omitted)." },
  http_requests_total: { type: "counter", help: "HTTP requests, by matched route pattern, method and status." },
} as const satisfies Record<string, { type: MetricType; help: string }>;

export type MetricName = keyof typeof METRIC_FAMILIES;

export interface ScrapeData {
  snapshot: MetricsSnapshot;
  /** `mcp_upstream_up` per configured server; absent when the states could not be read in time. */
  upstreams?: { server: string; up: boolean }[];
}

export function renderPrometheus({ snapshot, upstreams }: ScrapeData): string {
  const lines: string[] = [];
  for (const [name, family] of Object.entries(METRIC_FAMILIES) as [MetricName, (typeof METRIC_FAMILIES)[MetricName]][]) {
    lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
    if (name === "mcp_tool_execution_duration_seconds") {
      for (const histogram of sorted(snapshot.histograms.filter((h) => h.name === name))) lines.push(...histogramLines(histogram));
    } else if (name === "mcp_active_sessions") {
      lines.push(sample(name, {}, snapshot.active_sessions));
    } else if (name === "mcp_device_relays_attached") {
      lines.push(sample(name, {}, snapshot.relays_attached));
    } else if (name === "mcp_upstream_up") {
      for (const upstream of upstreams ?? []) lines.push(sample(name, { server: upstream.server }, upstream.up ? 1 : 0));
    } else {
      for (const counter of sorted(snapshot.counters.filter((c) => c.name === name))) lines.push(sample(name, counter.labels, counter.value));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Cumulative buckets over the current bounds; a stored bound counts toward every bound at or above it. */
function histogramLines(histogram: HistogramSample): string[] {
  const stored = histogram.buckets.map((bucket) => ({ le: bucket.le === "+Inf" ? Infinity : Number(bucket.le), count: bucket.count }));
  const lines = DURATION_BUCKETS.map((bound) => {
    const cumulative = stored.filter((bucket) => bucket.le <= bound).reduce((sum, bucket) => sum + bucket.count, 0);
    return sample(`${histogram.name}_bucket`, { ...histogram.labels, le: String(bound) }, cumulative);
  });
  lines.push(sample(`${histogram.name}_bucket`, { ...histogram.labels, le: "+Inf" }, histogram.count));
  lines.push(sample(`${histogram.name}_sum`, histogram.labels, histogram.sum_seconds));
  lines.push(sample(`${histogram.name}_count`, histogram.labels, histogram.count));
  return lines;
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([label, text]) => `${label}="${escapeLabelValue(text)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Stable output order, so two scrapes of the same data are byte-identical. */
function sorted<T extends CounterSample | HistogramSample>(samples: T[]): T[] {
  return [...samples].sort((a, b) => {
    const left = JSON.stringify(a.labels);
    const right = JSON.stringify(b.labels);
    return left < right ? -1 : left > right ? 1 : 0;
  });
}
