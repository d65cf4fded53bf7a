/**
 * Traffic split against the real worker: 0% never touches the service, 100% never touches the local path,
 * N% sends exactly the sessions whose bucket is below N, and a session never changes path — not between
 * calls, not between gateway instances.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, RolloutGateway, type RolloutConfig } from "../../src/client";
import { newSessionId } from "../support/api";
import { localExecutor, recording, workerClient, workerFetch } from "./support";

/** One conversation as a gateway runs it: bind, two LLM turns each listing tools and calling one, unbind. */
async function conversation(gateway: RolloutGateway, sessionId: string): Promise<void> {
  await gateway.bindSession({ session_id: sessionId, device_id: "aa:bb:cc:dd:ee:ff" });
  for (let turn = 0; turn < 2; turn += 1) {
    const { tools } = await gateway.getTools({ session_id: sessionId });
    expect(tools.length).toBeGreaterThan(0);
    const result = await gateway.executeTool({ session_id: sessionId, tool_name: "local_get_time" });
    expect(result.success).toBe(true);
  }
  await gateway.unbindSession({ session_id: sessionId });
}

function setup(rollout: RolloutConfig) {
  const service = recording(workerFetch);
  const local = localExecutor();
  const gateway = new RolloutGateway(workerClient({ fetch: service.fetch }), { ...rollout, fallback: local.executor });
  /** Which path each session's calls took; a session seen on both paths flipped. */
  const paths = (sessionId: string) => ({
    service: service.requests.filter((r) => r.session === sessionId).length,
    local: local.calls.filter((c) => c.session_id === sessionId).length,
  });
  return { gateway, service, local, paths };
}

const sessions = Array.from({ length: 24 }, () => newSessionId("split"));

describe("traffic_split on the real worker", () => {
  it("0% keeps every conversation local and never calls the service", async () => {
    const { gateway, service, local } = setup({ use_service: true, traffic_split: 0 });
    for (const id of sessions.slice(0, 6)) await conversation(gateway, id);
    expect(service.requests).toEqual([]);
    expect(local.calls).toHaveLength(6 * 4);
  });

  it("use_service: false is the kill switch, whatever the split", async () => {
    const { gateway, service } = setup({ use_service: false, traffic_split: 100 });
    for (const id of sessions.slice(0, 6)) await conversation(gateway, id);
    expect(service.requests).toEqual([]);
  });

  it("100% sends every conversation to the service and never to the local path", async () => {
    const { gateway, service, local } = setup({ use_service: true, traffic_split: 100 });
    for (const id of sessions.slice(0, 6)) await conversation(gateway, id);
    expect(local.calls).toEqual([]);
    // bind, 2 × (tools, execute), unbind: six real requests per conversation, all answered 2xx (else it threw).
    expect(service.requests).toHaveLength(6 * 6);
  });

  it("N% sends exactly the sessions whose bucket is below N, each whole conversation on one path", async () => {
    const split = 50;
    const { gateway, paths } = setup({ use_service: true, traffic_split: split });
    const expectedService = sessions.filter((id) => bucketOf(id) < split);
    // The ids are fixed per run but random across runs; both paths must be exercised for the test to mean anything.
    expect(expectedService.length).toBeGreaterThan(0);
    expect(expectedService.length).toBeLessThan(sessions.length);

    for (const id of sessions) await conversation(gateway, id);
    for (const id of sessions) {
      const { service, local } = paths(id);
      if (expectedService.includes(id)) expect({ id, service, local }).toEqual({ id, service: 6, local: 0 });
      else expect({ id, service, local }).toEqual({ id, service: 0, local: 4 });
    }
  });

  it("puts a session on the same path in every gateway instance and at every split above its bucket", () => {
    const a = new RolloutGateway(workerClient(), { use_service: true, traffic_split: 30, fallback: localExecutor().executor });
    const b = new RolloutGateway(workerClient(), { use_service: true, traffic_split: 30, fallback: localExecutor().executor });
    const wider = new RolloutGateway(workerClient(), { use_service: true, traffic_split: 60, fallback: localExecutor().executor });
    for (const id of sessions) {
      expect(b.pathFor(id)).toBe(a.pathFor(id));
      if (a.pathFor(id) === "service") expect(wider.pathFor(id)).toBe("service"); // raising the split only adds sessions
    }
  });
});
