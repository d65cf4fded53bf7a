/**
 * The metrics Durable Object on its own: exact histogram buckets for known durations, the tool-name cap,
 * bad records, out-of-order session events, and durability across eviction. Rendered through the real
 * `/metrics` route.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_TOOL_NAMES, METRICS_OBJECT, OTHER } from "../../src/observability/metrics-model";
import { find, scrape, series, value } from "./scrape";

const metrics = () => env.METRICS.getByName(METRICS_OBJECT);

const call = (tool_name: string, duration_ms: number, status = "success", source = "local") => ({ tool_name, source, status, duration_ms });

describe("metrics object", () => {
  it("puts each duration in its bucket, cumulative and inclusive, with exact sum and count", async () => {
    const durations = [0, 5, 6, 40, 1500, 30_000, 40_000];
    const reply = await metrics().record({ tool_calls: durations.map((ms) => call("bucket_probe", ms)) });
    expect(reply).toEqual({ ok: true, value: { applied: 7, dropped: 0 } });

    const result = await scrape();
    const labels = { tool_name: "bucket_probe", status: "success" };
    const buckets = Object.fromEntries(
      series(result, "mcp_tool_execution_duration_seconds_bucket")
        .filter((sample) => sample.labels.tool_name === "bucket_probe")
        .map((sample) => [sample.labels.le, sample.value]),
    );
    expect(buckets).toEqual({
      "0.005": 2,
      "0.01": 3,
      "0.025": 3,
      "0.05": 4,
      "0.1": 4,
      "0.25": 4,
      "0.5": 4,
      "1": 4,
      "2.5": 5,
      "5": 5,
      "10": 5,
      "30": 6,
      "+Inf": 7,
    });
    expect(value(result, "mcp_tool_execution_duration_seconds_count", labels)).toBe(7);
    expect(value(result, "mcp_tool_execution_duration_seconds_sum", labels)).toBe(71.551);
    expect(value(result, "mcp_tool_execution_total", labels)).toBe(7);
    expect(result.types.get("mcp_tool_execution_duration_seconds")).toBe("histogram");
  });

  it("applies merged records (a count and the total duration) as that many items", async () => {
    const route = "/api/v1/merged-probe";
    const reply = await metrics().record({
      tool_calls: [{ ...call("merged_probe", 9, "timeout", "local"), count: 3 }, call("merged_probe", 40, "timeout", "local")],
      http: [{ route, method: "GET", status: 200, count: 4 }, { route, method: "GET", status: 200 }],
    });
    expect(reply).toEqual({ ok: true, value: { applied: 4, dropped: 0 } });

    const result = await scrape();
    const labels = { tool_name: "merged_probe", status: "timeout" };
    expect(value(result, "mcp_tool_execution_total", labels)).toBe(4);
    expect(value(result, "mcp_tool_execution_duration_seconds_count", labels)).toBe(4);
    expect(value(result, "mcp_tool_execution_duration_seconds_sum", labels)).toBe(0.049);
    expect(value(result, "mcp_tool_execution_duration_seconds_bucket", { ...labels, le: "0.005" })).toBe(3); // mean 3 ms
    expect(value(result, "mcp_tool_execution_duration_seconds_bucket", { ...labels, le: "0.025" })).toBe(3);
    expect(value(result, "mcp_tool_execution_duration_seconds_bucket", { ...labels, le: "0.05" })).toBe(4);
    expect(value(result, "http_requests_total", { route, method: "GET", status: "200" })).toBe(5);
  });

  it("counts timeouts by source and folds unknown statuses and sources", async () => {
    await metrics().record({
      tool_calls: [call("slow_tool", 1500, "timeout", "device"), call("slow_tool", 1500, "timeout", "external"), call("slow_tool", 1, "kaboom", "mars")],
    });
    const result = await scrape();
    expect(value(result, "mcp_tool_timeouts_total", { source: "device" })).toBe(1);
    expect(value(result, "mcp_tool_timeouts_total", { source: "external" })).toBe(1);
    expect(value(result, "mcp_tool_execution_total", { tool_name: "slow_tool", status: "timeout" })).toBe(2);
    expect(value(result, "mcp_tool_execution_total", { tool_name: "slow_tool", status: OTHER })).toBe(1);
  });

  it(`gives the first ${MAX_TOOL_NAMES} tool names their own series for good, and folds later ones into "other"`, async () => {
    const before = await scrape();
    const admitted = new Set(series(before, "mcp_tool_execution_total").map((sample) => sample.labels.tool_name));
    admitted.delete("unknown");
    const fresh = Array.from({ length: MAX_TOOL_NAMES - admitted.size }, (_, i) => `cap_${i}`);
    await metrics().record({ tool_calls: fresh.slice(0, 50).map((name) => call(name, 1)) });
    await metrics().record({ tool_calls: fresh.slice(50).map((name) => call(name, 1)) });
    await metrics().record({ tool_calls: [call("one_too_many", 1), call("two_too_many", 1), call("cap_0", 1)] });

    const result = await scrape();
    const names = new Set(series(result, "mcp_tool_execution_total").map((sample) => sample.labels.tool_name));
    expect(names.size).toBe(MAX_TOOL_NAMES + 1); // the admitted names plus "other"
    expect(names.has("one_too_many")).toBe(false);
    expect(value(result, "mcp_tool_execution_total", { tool_name: OTHER, status: "success" })).toBe(2);
    expect(value(result, "mcp_tool_execution_total", { tool_name: "cap_0", status: "success" })).toBe(2);
  });

  it("drops invalid records and refuses a batch that is not one, without throwing", async () => {
    const reply = await metrics().record({ tool_calls: [{ tool_name: 7 }, call("fine", 1)], http: [{ route: "/x" }], sessions: [{ session_id: "" }] });
    expect(reply).toEqual({ ok: true, value: { applied: 1, dropped: 3 } });
    const refused = await metrics().record("garbage" as never);
    expect(refused.ok).toBe(false);
  });

  it("orders session events by version, whatever order they arrive in", async () => {
    const before = await scrape();
    const active = value(before, "mcp_active_sessions");
    const relays = value(before, "mcp_device_relays_attached");
    // "late" was bound, attached and ended; its events arrive scrambled, and the bind twice.
    await metrics().record({
      sessions: [
        { session_id: "late", kind: "ended", version: 30 },
        { session_id: "late", kind: "relay_attached", version: 20 },
        { session_id: "late", kind: "bound", version: 10 },
        { session_id: "late", kind: "bound", version: 10 },
        // "live" was bound and attached; a stale detach arrives last.
        { session_id: "live", kind: "relay_attached", version: 20 },
        { session_id: "live", kind: "bound", version: 10 },
        { session_id: "live", kind: "relay_detached", version: 5 },
      ],
    });
    const result = await scrape();
    expect(value(result, "mcp_active_sessions") - active).toBe(1);
    expect(value(result, "mcp_device_relays_attached") - relays).toBe(1);
  });

  it("keeps every count when the metrics object is evicted", async () => {
    const before = await scrape();
    const stub = metrics();
    await evictDurableObject(stub);
    const after = await scrape();
    for (const sample of before.samples.filter((s) => s.name !== "http_requests_total")) {
      expect(find(after, sample.name, sample.labels)?.value).toBe(sample.value);
    }
  });
});
