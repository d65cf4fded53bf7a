/**
 * The Analytics Engine binding and the metric hooks' "never throw" contract. Locally the TOOL_CALLS binding is
 * miniflare's simulator, which accepts points and drops them (nothing to read back), so the point's content
 * is proven by the unit test (src/observability/analytics.test.ts); here: the binding is wired, an absent
 * binding is skipped while the Prometheus series still count, and broken bindings never surface.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { writeToolCallPoint } from "../../src/observability/analytics";
import { recordToolCall } from "../../src/observability/metrics";
import type { ToolCallEvent } from "../../src/observability/tool-call";
import { scrapeUntil, value } from "./scrape";

const event = (tool_name: string): ToolCallEvent => ({ request_id: "", session_id: "analytics-1", tool_name, source: "local", status: "success", duration_ms: 3 });

function collect(): { waitUntil: (promise: Promise<unknown>) => void; settled: () => Promise<unknown[]> } {
  const pending: Promise<unknown>[] = [];
  return { waitUntil: (promise) => void pending.push(promise), settled: () => Promise.all(pending) };
}

describe("Analytics Engine", () => {
  it("is bound from wrangler.toml and takes a data point", () => {
    expect(typeof env.TOOL_CALLS?.writeDataPoint).toBe("function");
    expect(writeToolCallPoint(env.TOOL_CALLS, event("present_binding"))).toBe(true);
  });

  it("skips an absent binding, and the Prometheus series still count the call", async () => {
    const { waitUntil, settled } = collect();
    expect(() => recordToolCall({ ...env, TOOL_CALLS: undefined } as unknown as Env, event("absent_binding_probe"), waitUntil)).not.toThrow();
    await settled();
    const labels = { tool_name: "absent_binding_probe", status: "success" };
    const scrape = await scrapeUntil((s) => value(s, "mcp_tool_execution_total", labels) === 1, "probe counted");
    expect(value(scrape, "mcp_tool_execution_duration_seconds_bucket", { ...labels, le: "0.005" })).toBe(1);
  });

  it("never throws when the bindings are missing or broken", async () => {
    const { waitUntil, settled } = collect();
    const broken = {
      ...env,
      TOOL_CALLS: { writeDataPoint: () => { throw new Error("dataset gone"); } },
      METRICS: { getByName: () => { throw new Error("namespace gone"); } },
    } as unknown as Env;
    expect(() => recordToolCall(broken, event("broken"), waitUntil)).not.toThrow();
    expect(() => recordToolCall({ ...env, METRICS: undefined, TOOL_CALLS: undefined } as unknown as Env, event("none"), waitUntil)).not.toThrow();
    const unreachable = { ...env, METRICS: { getByName: () => ({ record: () => Promise.reject(new Error("overloaded")) }) } } as unknown as Env;
    recordToolCall(unreachable, event("unreachable"), waitUntil);
    await expect(settled()).resolves.toBeDefined(); // the delivery promise swallows the failure
  });
});
