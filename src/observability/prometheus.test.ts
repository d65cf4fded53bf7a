import { describe, expect, it } from "vitest";
import { bucketFor, DURATION_BUCKETS, methodLabel, OTHER, routeLabel, sourceLabel, statusLabel, toolNameLabel, UNKNOWN, type MetricsSnapshot } from "./metrics-model";
import { escapeLabelValue, METRIC_FAMILIES, renderPrometheus } from "./prometheus";

const empty: MetricsSnapshot = { counters: [], histograms: [], active_sessions: 0, relays_attached: 0 };

describe("renderPrometheus", () => {
  it("declares every family once, with zero gauges when nothing happened", () => {
    const text = renderPrometheus({ snapshot: empty });
    for (const [name, family] of Object.entries(METRIC_FAMILIES)) {
      expect(text.split("\n").filter((line) => line === `# TYPE ${name} ${family.type}`)).toHaveLength(1);
    }
    expect(text).toContain("\nmcp_active_sessions 0\n");
    expect(text).toContain("\nmcp_device_relays_attached 0\n");
    expect(text.endsWith("\n")).toBe(true);
  });

  it("renders cumulative buckets from non-cumulative storage, +Inf = _count", () => {
    const text = renderPrometheus({
      snapshot: {
        ...empty,
        histograms: [
          {
            name: "mcp_tool_execution_duration_seconds",
            labels: { tool_name: "t", status: "success" },
            buckets: [
              { le: "0.005", count: 2 },
              { le: "0.05", count: 1 },
              { le: "30", count: 1 },
              { le: "+Inf", count: 3 },
            ],
            sum_seconds: 190.5,
            count: 7,
          },
        ],
      },
    });
    const lines = text.split("\n").filter((line) => line.startsWith("mcp_tool_execution_duration_seconds_"));
    expect(lines).toEqual([
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.005"} 2',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.01"} 2',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.025"} 2',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.05"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.1"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.25"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="0.5"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="1"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="2.5"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="5"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="10"} 3',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="30"} 4',
      'mcp_tool_execution_duration_seconds_bucket{tool_name="t",status="success",le="+Inf"} 7',
      'mcp_tool_execution_duration_seconds_sum{tool_name="t",status="success"} 190.5',
      'mcp_tool_execution_duration_seconds_count{tool_name="t",status="success"} 7',
    ]);
  });

  it("keeps buckets monotonic when stored bounds are not current bounds (after a bucket change)", () => {
    const text = renderPrometheus({
      snapshot: {
        ...empty,
        histograms: [{ name: "mcp_tool_execution_duration_seconds", labels: {}, buckets: [{ le: "0.3", count: 4 }], sum_seconds: 1.2, count: 4 }],
      },
    });
    expect(text).toContain('mcp_tool_execution_duration_seconds_bucket{le="0.25"} 0');
    expect(text).toContain('mcp_tool_execution_duration_seconds_bucket{le="0.5"} 4');
  });

  it("escapes backslash, quote and newline in label values, and sorts series", () => {
    const text = renderPrometheus({
      snapshot: {
        ...empty,
        counters: [
          { name: "mcp_tool_execution_total", labels: { tool_name: 'b"\\\nx', status: "success" }, value: 1 },
          { name: "mcp_tool_execution_total", labels: { tool_name: "a", status: "success" }, value: 2 },
        ],
      },
    });
    const lines = text.split("\n").filter((line) => line.startsWith("mcp_tool_execution_total{"));
    expect(lines).toEqual(['mcp_tool_execution_total{tool_name="a",status="success"} 2', 'mcp_tool_execution_total{tool_name="b\\"\\\\\\nx",status="success"} 1']);
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it("reports upstreams as 1/0, and omits the samples when their states are unknown", () => {
    const withStates = renderPrometheus({ snapshot: empty, upstreams: [{ server: "weather", up: true }, { server: "maps", up: false }] });
    expect(withStates).toContain('mcp_upstream_up{server="weather"} 1\nmcp_upstream_up{server="maps"} 0\n');
    expect(renderPrometheus({ snapshot: empty })).not.toMatch(/^mcp_upstream_up/m);
  });
});

describe("label bounding", () => {
  it("never turns a name that resolved to no tool into a label", () => {
    expect(toolNameLabel("no_such_tool", "none", "tool_not_found")).toBe(UNKNOWN);
    expect(toolNameLabel("x".repeat(40), "local", "tool_not_found")).toBe(UNKNOWN);
    expect(toolNameLabel("local_get_time", "local", "success")).toBe("local_get_time");
    expect(toolNameLabel("t".repeat(129), "device", "success")).toBe(OTHER);
  });

  it("folds values outside the known sets", () => {
    expect(statusLabel("timeout")).toBe("timeout");
    expect(statusLabel("tool_error")).toBe("tool_error");
    expect(statusLabel("kaboom")).toBe(OTHER);
    expect(sourceLabel("device")).toBe("device");
    expect(sourceLabel("none")).toBe("none");
    expect(sourceLabel("mars")).toBe(OTHER);
    expect(methodLabel("GET")).toBe("GET");
    expect(methodLabel("BREW")).toBe(OTHER);
    expect(routeLabel("/api/v1/mcp/tools/:toolName/execute")).toBe("/api/v1/mcp/tools/:toolName/execute");
    expect(routeLabel("")).toBe(OTHER);
  });

  it("puts a duration under the first bound at or above it (le is inclusive)", () => {
    expect(bucketFor(0)).toBe("0.005");
    expect(bucketFor(5 / 1000)).toBe("0.005");
    expect(bucketFor(6 / 1000)).toBe("0.01");
    expect(bucketFor(2500 / 1000)).toBe("2.5");
    expect(bucketFor(30)).toBe("30");
    expect(bucketFor(30.001)).toBe("+Inf");
    expect(DURATION_BUCKETS).toEqual([...DURATION_BUCKETS].sort((a, b) => a - b));
  });
});
