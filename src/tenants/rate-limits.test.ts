import { describe, expect, it } from "vitest";
import { loadConfig } from "../core/config";
import { rateLimitsOf } from "./rate-limits";

const parseConfig = (bundled: unknown) => loadConfig({ bundled, vars: {} });
const config = (() => {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error("default config");
  return parsed.value;
})();

describe("rateLimitsOf", () => {
  it("refuses over the limit with the seconds to wait, counts per agent key, and leaves agentless calls alone", async () => {
    const keys: string[] = [];
    const limiter = { limit: async ({ key }: { key: string }) => (keys.push(key), { success: keys.length <= 1 }) };
    const limits = rateLimitsOf({ AGENT_CALLS: limiter, AGENT_BINDS: limiter }, config)!;
    expect(await limits.call("a")).toEqual({ ok: true, value: undefined });
    expect(await limits.call("a")).toMatchObject({ ok: false, error: { code: "rate_limited", details: { retry_after_seconds: 60 } } });
    expect(await limits.call("")).toEqual({ ok: true, value: undefined });
    expect(keys).toEqual(["a", "a"]);
  });

  it("lets the request through when the limiter cannot answer (a guard's outage is not the service's)", async () => {
    const broken = { limit: async () => Promise.reject(new Error("limiter unavailable")) };
    const limits = rateLimitsOf({ AGENT_CALLS: broken, AGENT_BINDS: broken }, config)!;
    expect(await limits.call("a")).toEqual({ ok: true, value: undefined });
    expect(await limits.bind("a")).toEqual({ ok: true, value: undefined });
  });

  it("is off with agents.rate_limits: false", () => {
    const parsed = parseConfig({ agents: { rate_limits: false } });
    expect(parsed.ok && rateLimitsOf({}, parsed.value)).toBeUndefined();
  });
});
