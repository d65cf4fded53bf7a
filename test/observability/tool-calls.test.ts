/**
 * `/metrics` after a mix of tool calls through the real Worker and session objects, across several sessions:
 * local successes and argument errors, unknown tools, a device tool error, a device success and a device
 * timeout (a silent fake ESP32). Storage is per test file, so every count here starts at zero.
 */
import { describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../support/api";
import { FakeEsp32, standardTools } from "../support/fake-esp32";
import { waitFor } from "../support/wait";
import { DURATION_BUCKETS } from "../../src/observability/metrics-model";
import { scrapeUntil, series, sum, value, type Scrape } from "./scrape";

const EXECUTE = "/api/v1/mcp/tools/:toolName/execute";
const BIND = "/api/v1/mcp/sessions/:sessionId/bind";
/** The test configuration's device call timeout (vitest.config.ts). */
const CALL_TIMEOUT_S = 1.5;

async function execute(sessionId: string, tool: string, args: Record<string, unknown> = {}) {
  return call(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { body: { session_id: sessionId, arguments: args } });
}

async function deviceSession(options: { silent?: boolean } = {}) {
  const id = newSessionId("metrics-device");
  await bind(id);
  const device = new FakeEsp32(standardTools(), options);
  device.sessionId = id;
  const relay = await device.attachWebSocket(id);
  await waitFor(async () => ((await call(`/api/v1/mcp/sessions/${id}`)).body.relay?.phase === "ready" ? true : undefined), 5000, "device ready");
  return { id, relay };
}

function histogram(scrape: Scrape, labels: Record<string, string>) {
  const buckets = series(scrape, "mcp_tool_execution_duration_seconds_bucket").filter(
    (sample) => sample.labels.tool_name === labels.tool_name && sample.labels.status === labels.status,
  );
  return {
    buckets: buckets.map((sample) => ({ le: sample.labels.le, count: sample.value })),
    count: value(scrape, "mcp_tool_execution_duration_seconds_count", labels),
    sum: value(scrape, "mcp_tool_execution_duration_seconds_sum", labels),
  };
}

describe("/metrics after a mix of tool calls", () => {
  it("counts every execution exactly, by tool and outcome, with consistent histograms", async () => {
    const [a, b] = [newSessionId("metrics-a"), newSessionId("metrics-b")];
    await bind(a);
    await bind(b);
    const healthy = await deviceSession();
    const silent = await deviceSession({ silent: true });

    const statuses = [
      (await execute(a, "local_get_time")).status,
      (await execute(a, "local_get_time")).status,
      (await execute(b, "local_get_time")).status,
      (await execute(a, "local_play_music", {})).status, // missing song_name
      (await execute(b, "no_such_tool")).status,
      (await execute(b, "x\"y\\z")).status, // garbage never becomes a label
      (await execute(healthy.id, "self_audio_speaker_set_volume", { volume: 50 })).status,
      (await execute(healthy.id, "self_audio_speaker_set_volume", { volume: 150 })).status, // device refuses
      (await execute(silent.id, "self_audio_speaker_set_volume", { volume: 10 })).status, // times out
    ];
    expect(statuses).toEqual([200, 200, 200, 400, 404, 404, 200, 200, 504]);
    healthy.relay.close();
    silent.relay.close();

    const result = await scrapeUntil(
      (s) => sum(s, "mcp_tool_execution_total") >= 9 && sum(s, "http_requests_total", (l) => l.route === EXECUTE) >= 9,
      "all nine executions recorded",
    );

    const expected: [string, string, number][] = [
      ["local_get_time", "success", 3],
      ["local_play_music", "invalid_request", 1],
      ["unknown", "tool_not_found", 2],
      ["self_audio_speaker_set_volume", "success", 1],
      ["self_audio_speaker_set_volume", "tool_error", 1],
      ["self_audio_speaker_set_volume", "timeout", 1],
    ];
    const executions = series(result, "mcp_tool_execution_total").map((s) => [s.labels.tool_name, s.labels.status, s.value]);
    expect(executions.sort()).toEqual([...expected].sort());
    expect(series(result, "mcp_tool_timeouts_total")).toEqual([{ name: "mcp_tool_timeouts_total", labels: { source: "device" }, value: 1 }]);

    for (const [tool_name, status, count] of expected) {
      const { buckets, count: observed, sum: seconds } = histogram(result, { tool_name, status });
      expect(observed).toBe(count);
      expect(buckets.map((bucket) => bucket.le)).toEqual([...DURATION_BUCKETS.map(String), "+Inf"]);
      expect(buckets.at(-1)?.count).toBe(count);
      // Cumulative: never decreasing.
      for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]!.count).toBeGreaterThanOrEqual(buckets[i - 1]!.count);
      expect(seconds).toBeGreaterThanOrEqual(0);
    }
    // A timed-out call lasted at least the call timeout (timers never fire early): not in any bucket below it.
    const timeout = histogram(result, { tool_name: "self_audio_speaker_set_volume", status: "timeout" });
    expect(timeout.buckets.find((bucket) => bucket.le === "1")?.count).toBe(0);
    expect(timeout.sum).toBeGreaterThanOrEqual(CALL_TIMEOUT_S);

    // The HTTP side: one request per call, by route pattern and status; never a raw path.
    expect(value(result, "http_requests_total", { route: EXECUTE, method: "POST", status: "200" })).toBe(5);
    expect(value(result, "http_requests_total", { route: EXECUTE, method: "POST", status: "400" })).toBe(1);
    expect(value(result, "http_requests_total", { route: EXECUTE, method: "POST", status: "404" })).toBe(2);
    expect(value(result, "http_requests_total", { route: EXECUTE, method: "POST", status: "504" })).toBe(1);
    expect(value(result, "http_requests_total", { route: BIND, method: "POST", status: "200" })).toBe(4);
    for (const sample of series(result, "http_requests_total")) expect(sample.labels.route).not.toMatch(/metrics-|no_such_tool/);
    expect(result.text).not.toContain("no_such_tool");
  });
});
