import { describe, expect, it, vi } from "vitest";
import { appError } from "../../core/errors";
import type { JsonRpcOutbound } from "./jsonrpc";
import { ID_BLOCK, PeerClient } from "./peer-client";
import type { PeerState } from "./peer-state";

function harness(callTimeoutMs = 1000, initial?: PeerState) {
  let stored: PeerState | undefined = initial;
  let saves = 0;
  const sent: JsonRpcOutbound[] = [];
  let now = 1_000;
  let changes = 0;
  const client = new PeerClient({
    load: () => stored,
    save: (state) => {
      saves += 1;
      stored = structuredClone(state);
    },
    send: (message) => {
      sent.push(message);
      return true;
    },
    now: () => now,
    callTimeoutMs,
    listTimeoutMs: 500,
    log: () => undefined,
    onToolsChanged: () => void (changes += 1),
    sendInitialized: false,
    unavailableMessage: "No device relay is attached to this session",
  });
  return {
    client,
    sent,
    changes: () => changes,
    advance: (ms: number) => (now += ms),
    last: () => sent.at(-1) as { id: number; method: string; params?: unknown },
    saves: () => saves,
    stored: () => stored,
  };
}

const tool = (name: string) => ({ name, description: name, inputSchema: { type: "object", properties: {} } });

describe("PeerClient", () => {
  it("initializes with id 1, follows nextCursor and publishes the tools once complete", async () => {
    const { client, last } = harness();
    client.attach({ protocolVersion: "2024-11-05" });
    expect(last()).toMatchObject({ id: 1, method: "initialize" });
    client.receive({ jsonrpc: "2.0", id: 1, result: { serverInfo: { name: "board" } } });
    expect(last()).toEqual({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")], nextCursor: "self.b" } });
    expect(client.tools()).toEqual([]); // not visible before the list is complete
    expect(last()).toEqual({ jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: "self.b" } });
    client.receive({ jsonrpc: "2.0", id: 3, result: { tools: [tool("self.b"), { ...tool("self.u"), annotations: { audience: ["user"] } }] } });
    expect(client.tools().map((t) => t.name)).toEqual(["self.a", "self.b"]);
    expect(client.status()).toMatchObject({ attached: true, phase: "ready", server_info: { name: "board" }, tool_count: 2 });
  });

  it("ignores a duplicate last page instead of listing again", async () => {
    const { client, sent } = harness();
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    const before = sent.length;
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    expect(sent.length).toBe(before);
    expect(client.tools()).toHaveLength(1);
  });

  it("finishes a handshake the peer abandons, keeping what arrived", async () => {
    const { client, advance } = harness();
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")], nextCursor: "self.b" } });
    advance(501);
    client.expireHandshake();
    expect(client.tools().map((t) => t.name)).toEqual(["self.a"]);
  });

  it("times out a call, then ignores its late reply", async () => {
    const { client, last } = harness(20);
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    const result = await client.callTool("self.a", {});
    expect(result.ok ? null : result.error.code).toBe("timeout");
    const lateId = last().id;
    client.receive({ jsonrpc: "2.0", id: lateId, result: { content: [{ type: "text", text: "late" }] } });
    expect(client.counters().ignored_replies).toBe(1);
    expect(client.status().pending_calls).toBe(0);
  });

  it("fails calls in flight at once when the connection goes, and keeps the tools known for a 503", async () => {
    const { client } = harness(10_000);
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    const pending = client.callTool("self.a", {});
    client.detach("gone");
    const result = await pending;
    expect(result.ok ? null : result.error.code).toBe("device_unavailable");
    expect(client.knownTools().map((t) => t.name)).toEqual(["self.a"]);
    expect(client.tools()).toEqual([]);
    client.forgetTools();
    expect(client.knownTools()).toEqual([]);
  });

  it("counts bad replies in memory: a flood of them writes nothing", () => {
    const { client, saves } = harness();
    const before = saves();
    for (let i = 0; i < 1000; i++) client.receive({ jsonrpc: "2.0", id: "2", result: {} });
    expect(client.counters().malformed_frames).toBe(1000);
    expect(saves()).toBe(before);
  });

  it("says the tools changed only when they did: not on attach, not when a reconnect lists the same tools", () => {
    const { client, changes } = harness();
    client.attach({});
    expect(changes()).toBe(0);
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    expect(changes()).toBe(1);
    client.rehandshake({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 3, result: { tools: [tool("self.a")] } });
    expect(changes()).toBe(1); // same tools listed again
    client.detach("gone");
    expect(changes()).toBe(2);
    client.detach("gone again");
    expect(changes()).toBe(2);
  });

  it("fails the call an unreadable reply answers at once, by its id or as the only call in flight", async () => {
    const { client, sent } = harness(10_000);
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    const first = client.callTool("self.a", {});
    const firstId = (sent.at(-1) as { id: number }).id;
    const second = client.callTool("self.a", {});
    expect(client.rejectReply(undefined, appError("upstream_error", "too big"))).toBe(false); // two in flight: which?
    expect(client.rejectReply(firstId, appError("upstream_error", "too big"))).toBe(true);
    expect(await first).toEqual({ ok: false, error: { code: "upstream_error", message: "too big" } });
    expect(client.rejectReply(undefined, appError("upstream_error", "too big"))).toBe(true);
    expect((await second).ok).toBe(false);
  });

  it("pings: any answer counts, silence within the deadline does not", async () => {
    const { client, last } = harness(10_000);
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    const answered = client.ping(1_000);
    client.receive({ jsonrpc: "2.0", id: last().id, error: { message: "Method not implemented: ping" } });
    expect(await answered).toBe(true);
    expect(await client.ping(20)).toBe(false);
  });

  it("writes nothing per call: ids come from a stored block, and a new client resumes above it", async () => {
    const { client, sent, saves, stored } = harness();
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    const before = saves();
    const answer = () => {
      const request = sent.at(-1) as { id: number };
      client.receive({ jsonrpc: "2.0", id: request.id, result: { content: [{ type: "text", text: "ok" }] } });
    };
    for (let i = 0; i < 10; i++) {
      const pending = client.callTool("self.a", {});
      answer();
      expect((await pending).ok).toBe(true);
    }
    expect(saves()).toBe(before);
    const used = sent.map((message) => ("id" in message ? (message.id as number) : 0)).filter((id) => id > 0);
    expect(used).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(stored()!.next_id).toBe(2 + ID_BLOCK);

    // Another client over the same stored state (the object after an eviction) never reuses an id.
    const resumed = harness(1000, stored());
    const pending = resumed.client.callTool("self.a", {});
    expect(resumed.last().id).toBe(2 + ID_BLOCK);
    resumed.client.receive({ jsonrpc: "2.0", id: 2 + ID_BLOCK, result: { content: [{ type: "text", text: "ok" }] } });
    expect((await pending).ok).toBe(true);
    expect(resumed.stored()!.next_id).toBe(2 + 2 * ID_BLOCK);
  });

  it("watches calls in flight with one timer, and still times out each call that is not answered", async () => {
    const { client, sent } = harness(40);
    client.attach({});
    client.receive({ jsonrpc: "2.0", id: 1, result: {} });
    client.receive({ jsonrpc: "2.0", id: 2, result: { tools: [tool("self.a")] } });
    const timers = vi.spyOn(globalThis, "setTimeout");
    try {
      for (let i = 0; i < 10; i++) {
        const pending = client.callTool("self.a", {});
        const request = sent.at(-1) as { id: number };
        client.receive({ jsonrpc: "2.0", id: request.id, result: { content: [{ type: "text", text: "ok" }] } });
        expect((await pending).ok).toBe(true);
      }
      expect(timers).toHaveBeenCalledTimes(1);
      // An unanswered call behind the watched (long answered) one still gets its timeout.
      const unanswered = await client.callTool("self.a", {});
      expect(unanswered.ok ? null : unanswered.error.code).toBe("timeout");
      expect(client.status().pending_calls).toBe(0);
    } finally {
      timers.mockRestore();
    }
  });
});
