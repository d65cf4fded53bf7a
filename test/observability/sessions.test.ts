/**
 * The session gauges through the real Worker and session objects: bind (twice), relay attach over WebSocket
 * and SSE, relay drop, unbind, idle expiry and eviction. Storage is per test file: the gauges start at 0.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ageSession, bind, call, newSessionId } from "../support/api";
import { FakeEsp32, standardTools } from "../support/fake-esp32";
import { waitFor } from "../support/wait";
import { scrapeUntil, value, type Scrape } from "./scrape";

const gauges = (scrape: Scrape) => ({ active: value(scrape, "mcp_active_sessions"), relays: value(scrape, "mcp_device_relays_attached") });

function gaugesReach(active: number, relays: number, label: string) {
  return scrapeUntil((s) => gauges(s).active === active && gauges(s).relays === relays, `${label}: ${active} sessions, ${relays} relays`);
}

async function relayAttached(id: string, attached: boolean) {
  await waitFor(async () => ((await call(`/api/v1/mcp/sessions/${id}`)).body.relay?.attached === attached ? true : undefined), 5000, `relay ${attached}`);
}

describe("mcp_active_sessions and mcp_device_relays_attached", () => {
  it("follow binds, relays, unbinds and expiry", async () => {
    await gaugesReach(0, 0, "fresh storage");
    const [s1, s2, s3] = [newSessionId("gauge"), newSessionId("gauge"), newSessionId("gauge")];
    await bind(s1);
    await bind(s2);
    await bind(s3);
    await bind(s3, { client_id: "rebound" }); // binding again is the same session
    await gaugesReach(3, 0, "three bound");

    const wsDevice = new FakeEsp32(standardTools());
    const wsRelay = await wsDevice.attachWebSocket(s1);
    const sseDevice = new FakeEsp32(standardTools());
    const sseRelay = await sseDevice.attachSse(s2);
    await relayAttached(s1, true);
    await relayAttached(s2, true);
    await gaugesReach(3, 2, "two relays");

    wsRelay.close();
    await relayAttached(s1, false);
    await gaugesReach(3, 1, "websocket relay dropped");

    const unbound = await call(`/api/v1/mcp/sessions/${s2}`, { method: "DELETE" });
    expect(unbound.status).toBe(200);
    await gaugesReach(2, 0, "session with the SSE relay unbound");
    await sseRelay.close();

    // Idle expiry: the alarm deletes a session idle past its TTL.
    const idle = env.SESSIONS.getByName(s3);
    await ageSession(idle, 65_000);
    expect(await runDurableObjectAlarm(idle)).toBe(true);
    const result = await gaugesReach(1, 0, "idle session expired");

    // Eviction of a live session object changes nothing: the gauges are not in its memory.
    await evictDurableObject(env.SESSIONS.getByName(s1));
    expect((await call(`/api/v1/mcp/sessions/${s1}`)).status).toBe(200);
    expect(gauges(result)).toEqual({ active: 1, relays: 0 });
    expect(gauges(await gaugesReach(1, 0, "after eviction"))).toEqual({ active: 1, relays: 0 });
  });
});
