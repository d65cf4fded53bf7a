import { describe, expect, it } from "vitest";
import { deepMerge, loadConfig } from "./config";

const bundled = {
  timezone: "${TZ_NAME:Asia/Shanghai}",
  sessions: { idle_ttl_seconds: 1800 },
  local_tools: { change_role: { enabled: true, roles: [{ name: "a", prompt: "p" }] } },
  mcpServers: {},
};

describe("loadConfig", () => {
  it("fills defaults for everything the file leaves out", () => {
    const result = loadConfig({ bundled: {}, vars: {} });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.timezone).toBe("Asia/Shanghai");
    expect(result.value.sessions.idle_ttl_seconds).toBe(1800);
    expect(result.value.limits).toEqual({ max_body_bytes: 1048576, max_frame_bytes: 1048576, max_json_depth: 64, max_answer_bytes: 8 * 1024 * 1024 });
    expect(result.value.device.call_timeout_ms).toBe(30000);
    expect(result.value.local_tools.time.enabled).toBe(true);
  });

  it("deep-merges a JSON override: objects merge, arrays replace", () => {
    const override = JSON.stringify({ sessions: { idle_ttl_seconds: 60 }, local_tools: { change_role: { roles: [{ name: "b", prompt: "q" }] } } });
    const result = loadConfig({ bundled, override, vars: {} });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.sessions.idle_ttl_seconds).toBe(60);
    expect(result.value.local_tools.change_role).toEqual({ enabled: true, roles: [{ name: "b", prompt: "q" }] });
  });

  it("accepts a YAML override", () => {
    const result = loadConfig({ bundled, override: "local_tools:\n  time:\n    enabled: false\n", vars: {} });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.local_tools.time.enabled).toBe(false);
    expect(result.value.local_tools.change_role.roles).toHaveLength(1);
  });

  it("expands ${VAR} and ${VAR:default}, coercing numbers and booleans", () => {
    const override = JSON.stringify({ sessions: { idle_ttl_seconds: "${TTL}" }, local_tools: { exit: { enabled: "${EXIT:false}" } } });
    const result = loadConfig({ bundled, override, vars: { TTL: "90", TZ_NAME: "Europe/Berlin" } });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.timezone).toBe("Europe/Berlin");
    expect(result.value.sessions.idle_ttl_seconds).toBe(90);
    expect(result.value.local_tools.exit.enabled).toBe(false);
  });

  it("names the field of an unset variable", () => {
    const result = loadConfig({ bundled, override: JSON.stringify({ mcpServers: { a: { headers: { x: "${SECRET}" } } } }), vars: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("config_invalid");
    expect(result.error.message).toContain("mcpServers.a.headers.x");
    expect(result.error.message).toContain("${SECRET}");
  });

  it("names the field of an invalid value", () => {
    const result = loadConfig({ bundled, override: JSON.stringify({ sessions: { idle_ttl_seconds: -1 } }), vars: {} });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain("sessions.idle_ttl_seconds");
  });

  it("rejects an unknown time zone", () => {
    const result = loadConfig({ bundled, override: "timezone: Mars/Olympus", vars: {} });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain("timezone");
  });

  it("rejects text that is neither JSON nor YAML, and non-object overrides", () => {
    expect(loadConfig({ bundled, override: "{ not: [valid", vars: {} }).ok).toBe(false);
    const list = loadConfig({ bundled, override: "[1, 2]", vars: {} });
    expect(list.ok).toBe(false);
    if (!list.ok) expect(list.error.message).toContain("object");
  });
});

describe("deepMerge", () => {
  it("replaces scalars and arrays, merges nested objects", () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
  });
});
