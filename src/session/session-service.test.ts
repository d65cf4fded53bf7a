import { describe, expect, it } from "vitest";
import type { SessionRecord } from "./session-record";
import { SessionService, touchGranularityMs } from "./session-service";

function harness(idleTtlMs = 60_000) {
  let stored: SessionRecord | undefined;
  let saves = 0;
  let now = 1_000_000;
  const service = new SessionService({
    store: {
      load: () => stored,
      save: (record) => {
        saves += 1;
        stored = record;
      },
    },
    idleTtlMs,
    now: () => now,
    providers: () => [],
    relayStatus: () => ({ attached: false, phase: "detached", server_info: null, tool_count: 0, pending_calls: 0 }),
  });
  return { service, saves: () => saves, stored: () => stored!, advance: (ms: number) => (now += ms), now: () => now };
}

const BIND = { session_id: "s1", device_id: "d1", client_id: "c1", vision_url: "", token: "", enabled_tools: [], agent_id: "" };

describe("SessionService activity", () => {
  it("stores activity at most once per granularity, and never expires a session before its TTL", async () => {
    const ttl = 60_000;
    const granularity = touchGranularityMs(ttl);
    expect(granularity).toBe(2_000);
    const { service, saves, stored, advance, now } = harness(ttl);
    await service.bind(BIND);
    const afterBind = saves();

    advance(granularity - 1);
    expect(service.touch().ok).toBe(true);
    expect(saves()).toBe(afterBind); // within the granularity: nothing written
    const lastActivity = now();
    expect(service.expiresAtMs(stored())).toBeGreaterThanOrEqual(lastActivity + ttl);
    expect(service.expiresAtMs(stored())).toBeLessThanOrEqual(lastActivity + ttl + granularity);

    advance(1);
    service.touch();
    expect(saves()).toBe(afterBind + 1);
    expect(stored().last_active_ms).toBe(now());
  });

  it("caps the granularity at one minute for long TTLs", () => {
    expect(touchGranularityMs(30 * 60_000)).toBe(60_000);
    expect(touchGranularityMs(3_000)).toBe(100);
  });
});
