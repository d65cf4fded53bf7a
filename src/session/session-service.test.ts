import { describe, expect, it } from "vitest";
import type { SessionRecord } from "./session-record";
import { ok } from "../core/errors";
import type { Source } from "../tools/tool-source";
import { CALL_CATALOGUE_TTL_MS, SessionService, touchGranularityMs } from "./session-service";

function harness(idleTtlMs = 60_000, providers: Source[] = []) {
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
    providers: async () => ({ sources: providers, filter: { deny: [] } }),
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

describe("SessionService execution", () => {
  const echo: Source = {
    kind: "local",
    list: async () => [{ name: "local_echo", description: "", input_schema: { type: "object" }, source: "local" }],
    call: async (_name, args) => ok({ success: true, action: "response", result: JSON.stringify(args), response: JSON.stringify(args) }),
  };

  it("returns the call it made next to the result (for the caller's log line and metrics)", async () => {
    const { service } = harness(60_000, [echo]);
    await service.bind(BIND);
    const execution = await service.execute({ session_id: "s1", tool_name: "local_echo", arguments: { n: 1 } }, "req-1");
    expect(execution.ok && execution.value.result).toBe('{"n":1}');
    expect(execution.call).toEqual({ request_id: "req-1", session_id: "s1", tool_name: "local_echo", source: "local", status: "success", duration_ms: 0 });

    const unknown = await service.execute({ session_id: "s1", tool_name: "nope", arguments: {} });
    expect(unknown.ok).toBe(false);
    expect(unknown.call).toMatchObject({ tool_name: "nope", source: "none", status: "tool_not_found" });
  });

  it("makes no call, and reports none, for a session that is not bound or a device that does not match", async () => {
    const { service } = harness(60_000, [echo]);
    expect(await service.execute({ session_id: "s1", tool_name: "local_echo", arguments: {} })).toEqual({
      ok: false,
      error: expect.objectContaining({ code: "session_not_found" }),
    });
    await service.bind(BIND);
    const conflict = await service.execute({ session_id: "s1", tool_name: "local_echo", arguments: {}, device_id: "other" });
    expect(conflict).toEqual({ ok: false, error: expect.objectContaining({ code: "session_conflict" }) });
    expect(conflict.call).toBeUndefined();
  });

  it("resolves calls against a catalogue kept for a while: not rebuilt per call, rebuilt when stale, changed or rebound", async () => {
    let listings = 0;
    const counted: Source = { ...echo, list: async () => ((listings += 1), echo.list()) };
    const { service, advance } = harness(60_000, [counted]);
    await service.bind(BIND);
    const run = () => service.execute({ session_id: "s1", tool_name: "local_echo", arguments: {} });
    const before = listings;
    await run();
    await run();
    await run();
    expect(listings - before).toBe(0); // the catalogue the bind's view built serves the calls
    advance(CALL_CATALOGUE_TTL_MS);
    await run();
    expect(listings - before).toBe(1);
    await run();
    expect(listings - before).toBe(1);
    service.catalogueChanged();
    await run();
    expect(listings - before).toBe(2);
    advance(1);
    await service.bind({ ...BIND, enabled_tools: ["local_echo"] });
    await run();
    expect(listings - before).toBe(3); // the rebind's view listed for the new binding, and the call used it
    await service.tools();
    await run();
    expect(listings - before).toBe(4); // tools() built afresh, and calls use what it built
  });
});
