/**
 * Device tools through the real Worker and session Durable Object, with a fake ESP32 that speaks the
 * xiaozhi protocol, over both relay channels (WebSocket, and SSE + POST /messages).
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ageSession, bind, call, newSessionId } from "../../support/api";
import { FakeEsp32, postFrames, standardTools, type Content, type FakeOptions } from "../../support/fake-esp32";
import { waitFor } from "../../support/wait";

const VISION = { vision_url: "http://vision.example/explain", token: "vision-token-123" };

type Channel = "websocket" | "sse";

async function connect(channel: Channel, options: FakeOptions = {}, bindBody: Record<string, unknown> = VISION) {
  const id = newSessionId(channel);
  await bind(id, bindBody);
  const device = new FakeEsp32(standardTools(), options);
  device.sessionId = id;
  const relay = channel === "websocket" ? await device.attachWebSocket(id) : await device.attachSse(id);
  await waitReady(id);
  return { id, device, relay };
}

async function session(id: string) {
  return (await call(`/api/v1/mcp/sessions/${id}`)).body;
}

async function waitReady(id: string) {
  return waitFor(async () => {
    const view = await session(id);
    return view.relay?.phase === "ready" ? view : undefined;
  }, 5000, `session ${id} ready`);
}

async function execute(id: string, tool: string, args: Record<string, unknown>) {
  return call(`/api/v1/mcp/tools/${tool}/execute`, { body: { session_id: id, arguments: args } });
}

async function toolNames(id: string): Promise<string[]> {
  return (await call(`/api/v1/mcp/tools?session_id=${id}`)).body.tools.map((tool: { name: string }) => tool.name);
}

describe.each<Channel>(["websocket", "sse"])("device relay over %s", (channel) => {
  it("initializes with the bound vision capability, then lists every page", async () => {
    const { id, device } = await connect(channel);
    const [initialize, firstPage, secondPage] = device.received;
    expect(initialize).toEqual({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2024-11-05",
        capabilities: { vision: { url: VISION.vision_url, token: VISION.token } },
        clientInfo: { name: "XiaozhiClient", version: "1.0.0" },
      },
    });
    expect(device.vision).toEqual({ url: VISION.vision_url, token: VISION.token });
    expect(firstPage).toEqual({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(secondPage).toEqual({ jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: "self.audio_speaker.set_volume" } });

    const tools = (await call(`/api/v1/mcp/tools?session_id=${id}`)).body.tools;
    const deviceTools = tools.filter((tool: { source: string }) => tool.source === "device");
    expect(deviceTools.map((tool: { name: string }) => tool.name)).toEqual([
      "self_get_device_status",
      "self_audio_speaker_set_volume",
      "self_camera_take_photo",
    ]);
    expect(tools.slice(0, 3)).toEqual(deviceTools); // device tools come first, in device order
    const [, volume] = deviceTools;
    expect(volume.input_schema).toEqual(standardTools()[1]!.inputSchema);
    expect(volume.description).toBe(standardTools()[1]!.description);

    const view = await session(id);
    expect(view.relay).toEqual({ attached: true, phase: "ready", server_info: { name: "fake-esp32-board", version: "2.0.0" }, tool_count: 3, pending_calls: 0 });
    expect(view.tools.device).toBe(3);
  });

  it("round-trips set_volume with the dotted name and typed arguments", async () => {
    const { id, device } = await connect(channel);
    const response = await execute(id, "self_audio_speaker_set_volume", { volume: 50 });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, action: "req_llm", result: "true" });
    const sent = device.received.at(-1);
    expect(sent).toEqual({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "self.audio_speaker.set_volume", arguments: { volume: 50 } } });
  });

  it("turns take_photo into call_handler mcp_handler_take_photo", async () => {
    const { id } = await connect(channel);
    const response = await execute(id, "self_camera_take_photo", { question: "what is this?" });
    expect(response.body).toEqual({
      success: true,
      action: "call_handler",
      result: { handler: "mcp_handler_take_photo", args: JSON.stringify({ success: true, text: "I see a cup (asked: what is this?)" }) },
    });
  });

  it("reports device errors as action error, and unknown names as 404", async () => {
    const { id } = await connect(channel, { forget: ["self.get_device_status"] });
    const tooLoud = await execute(id, "self_audio_speaker_set_volume", { volume: 150 });
    expect(tooLoud.status).toBe(200);
    expect(tooLoud.body).toEqual({ success: false, action: "error", result: "Value exceeds maximum allowed: 100" });
    const forgotten = await execute(id, "self_get_device_status", {});
    expect(forgotten.body).toEqual({ success: false, action: "error", result: "Unknown tool: self.get_device_status" });
    const never = await execute(id, "self_fly", {});
    expect(never.status).toBe(404);
    expect(never.body.error.code).toBe("tool_not_found");
  });

  it("times out a silent device with 504, forgets the call and ignores the late reply", async () => {
    const { id, device } = await connect(channel, { silent: true });
    const response = await execute(id, "self_audio_speaker_set_volume", { volume: 10 });
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe("timeout");
    expect((await session(id)).relay.pending_calls).toBe(0);
    // The device wakes up and answers the abandoned call: nothing happens, the next call works.
    device.options.silent = false;
    const lateId = (device.received.at(-1) as { id: number }).id;
    await postFrames(id, [{ session_id: id, type: "mcp", payload: { jsonrpc: "2.0", id: lateId, result: { content: [{ type: "text", text: "late" }] } } }]);
    const next = await execute(id, "self_audio_speaker_set_volume", { volume: 20 });
    expect(next.body).toEqual({ success: true, action: "req_llm", result: "true" });
  });

  it("fails pending calls at once with 503 when the relay drops, and drops the device tools", async () => {
    const { id, device, relay } = await connect(channel, { callDelayMs: 400 });
    const pending = execute(id, "self_audio_speaker_set_volume", { volume: 30 });
    await waitFor(() => device.received.some((message) => message.method === "tools/call"), 2000, "call sent");
    await relay.close();
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe("device_unavailable");
    await waitFor(async () => ((await session(id)).relay.attached ? undefined : true), 2000, "relay detached");
    expect((await toolNames(id)).filter((name) => name.startsWith("self_"))).toEqual([]);
    const detached = await execute(id, "self_get_device_status", {});
    expect(detached.status).toBe(503);
    expect(detached.body.error.code).toBe("device_unavailable");
    expect((await execute(id, "self_never_seen", {})).status).toBe(404);
  });
});

describe("device relay", () => {
  it("survives eviction of the Durable Object: tools, relay and ids never reused", async () => {
    const { id, device } = await connect("websocket");
    expect((await execute(id, "self_audio_speaker_set_volume", { volume: 1 })).body.action).toBe("req_llm");
    await evictDurableObject(env.SESSIONS.getByName(id));
    const after = await execute(id, "self_audio_speaker_set_volume", { volume: 2 });
    expect(after.body).toEqual({ success: true, action: "req_llm", result: "true" });
    const ids = device.received.filter((message) => "id" in message).map((message) => message.id as number);
    // initialize, two list pages, a call; after the eviction, ids resume above the stored reservation: never reused.
    expect(ids.slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(ids).toHaveLength(5);
    expect(ids[4]).toBeGreaterThan(4);
    expect(Number.isInteger(ids[4])).toBe(true);
    expect((await toolNames(id)).slice(0, 3)).toEqual(["self_get_device_status", "self_audio_speaker_set_volume", "self_camera_take_photo"]);
  });

  it("keeps two devices apart with the same ids in flight", async () => {
    const a = await connect("websocket", { callDelayMs: 100 });
    const b = await connect("websocket", { callDelayMs: 100 });
    a.device.tools[0]!.run = () => [{ type: "text", text: "device A" }];
    b.device.tools[0]!.run = () => [{ type: "text", text: "device B" }];
    const results = await Promise.all([
      execute(a.id, "self_get_device_status", {}),
      execute(b.id, "self_get_device_status", {}),
      execute(a.id, "self_get_device_status", {}),
      execute(b.id, "self_get_device_status", {}),
    ]);
    expect(results.map((r) => r.body.result)).toEqual(["device A", "device B", "device A", "device B"]);
    const callIds = (device: FakeEsp32) => device.received.filter((m) => m.method === "tools/call").map((m) => m.id).sort();
    expect(callIds(a.device)).toEqual(callIds(b.device)); // the same numeric ids were in flight on both
  });

  it("matches concurrent replies of one device by id", async () => {
    const { id, device } = await connect("websocket", { callDelayMs: 20 });
    device.tools[1]!.run = (args) => [{ type: "text", text: `volume=${String(args.volume)}` }];
    const volumes = [5, 15, 25, 35, 45];
    const results = await Promise.all(volumes.map((volume) => execute(id, "self_audio_speaker_set_volume", { volume })));
    expect(results.map((r) => r.body.result)).toEqual(volumes.map((v) => `volume=${v}`));
  });

  it("survives garbage frames", async () => {
    const { id, relay } = await connect("websocket");
    const ws = relay as unknown as { sendRaw(frame: string): void };
    ws.sendRaw("not json at all");
    ws.sendRaw(JSON.stringify({ type: "hello", payload: {} }));
    ws.sendRaw(JSON.stringify({ session_id: id, type: "mcp", payload: "not an object" }));
    ws.sendRaw(JSON.stringify({ session_id: id, type: "mcp", payload: { jsonrpc: "2.0", id: "4", result: {} } }));
    ws.sendRaw(JSON.stringify({ session_id: id, type: "mcp", payload: { jsonrpc: "2.0", id: 999, result: {} } }));
    ws.sendRaw(JSON.stringify({ session_id: id, type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/message", params: { level: "info" } } }));
    ws.sendRaw(JSON.stringify({ session_id: id, type: "mcp", payload: { jsonrpc: "2.0", id: 77, method: "ping" } }));
    ws.sendRaw(JSON.stringify({ session_id: id, type: "mcp", payload: { big: "x".repeat(70 * 1024) } }));
    const response = await execute(id, "self_audio_speaker_set_volume", { volume: 60 });
    expect(response.body).toEqual({ success: true, action: "req_llm", result: "true" });
    expect((await session(id)).relay).toMatchObject({ attached: true, phase: "ready", tool_count: 3 });
  });

  it("counts malformed and oversized frames posted over HTTP without failing the request", async () => {
    const { id } = await connect("sse");
    const response = await postFrames(id, ["garbage", { type: "mcp", payload: { big: "x".repeat(70 * 1024) } }, { type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/x" } }]);
    expect(response.status).toBe(413); // the whole body is over limits.max_body_bytes in tests
    const small = await postFrames(id, ["garbage", { type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/x" } }]);
    expect(small.status).toBe(200);
    expect(await small.json()).toEqual({ success: true, result: { accepted: 1, dropped: 1 } });
  });

  it("never offers user-only tools even when the device lists them", async () => {
    const { id } = await connect("websocket", { leakUserTools: true });
    expect(await toolNames(id)).not.toContain("self_system_reboot");
    expect((await execute(id, "self_system_reboot", {})).status).toBe(404);
  });

  it("keeps the tools already received when a page fails", async () => {
    const { id } = await connect("websocket", { failPage: 2 });
    expect((await toolNames(id)).filter((name) => name.startsWith("self_"))).toEqual(["self_get_device_status"]);
  });

  it("lists again on notifications/tools/list_changed", async () => {
    const { id, device, relay } = await connect("websocket");
    device.tools.push({
      name: "self.screen.set_brightness",
      description: "Sets the screen brightness",
      inputSchema: { type: "object", properties: { brightness: { type: "integer", minimum: 0, maximum: 100 } }, required: ["brightness"] },
      run: () => [{ type: "text", text: "true" }],
    });
    (relay as unknown as { sendRaw(frame: string): void }).sendRaw(
      JSON.stringify({ session_id: id, type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/tools/list_changed" } }),
    );
    await waitFor(async () => ((await toolNames(id)).includes("self_screen_set_brightness") ? true : undefined), 3000, "new tool listed");
    expect((await execute(id, "self_screen_set_brightness", { brightness: 70 })).body.action).toBe("req_llm");
    expect((await toolNames(id)).filter((name) => name.startsWith("self_"))).toHaveLength(4);
  });

  it("decodes the firmware's image content and keeps raw items next to the text", async () => {
    const { id, device } = await connect("websocket");
    const items: Content[] = [
      { type: "text", text: "snapshot" },
      { type: "image", image: JSON.stringify({ type: "image", mimeType: "image/jpeg", data: "AAAA" }) },
    ];
    device.tools[0]!.run = () => items;
    const response = await execute(id, "self_get_device_status", {});
    expect(response.body).toEqual({
      success: true,
      action: "req_llm",
      result: "snapshot\n[image: image/jpeg, 3 bytes]",
      content: [{ type: "text", text: "snapshot" }, { type: "image", mimeType: "image/jpeg", data: "AAAA" }],
    });
  });

  it("replaces an older relay, closing it with a 4000-range code", async () => {
    const { id, device, relay } = await connect("websocket");
    const second = await device.attachWebSocket(id);
    const closed = await (relay as unknown as { closed: Promise<{ code: number; reason: string }> }).closed;
    expect(closed.code).toBe(4001);
    expect(closed.reason).toContain("replaced");
    await waitReady(id);
    expect((await execute(id, "self_audio_speaker_set_volume", { volume: 5 })).body.action).toBe("req_llm");
    second.close();
  });

  it("refuses a relay for a session that was never bound, and one without credentials", async () => {
    const device = new FakeEsp32(standardTools());
    await expect(device.attachWebSocket(newSessionId("unbound"))).rejects.toThrow(/404.*session_not_found/);
    const id = newSessionId();
    await bind(id);
    await expect(device.attachWebSocket(id, "wrong-token")).rejects.toThrow(/401/);
    const noUpgrade = await call(`/api/v1/mcp/sessions/${id}/device`);
    expect(noUpgrade.status).toBe(400);
  });

  it("keeps a session with an attached relay from idling out", async () => {
    const { id, relay } = await connect("websocket");
    const stub = env.SESSIONS.getByName(id);
    await ageSession(stub, 3_600_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await session(id)).relay.attached).toBe(true);
    expect((await execute(id, "self_audio_speaker_set_volume", { volume: 7 })).body.action).toBe("req_llm");
    // Once the relay is gone, the same idleness ends the session.
    relay.close();
    await waitFor(async () => ((await session(id)).relay.attached ? undefined : true), 3000, "relay detached");
    await ageSession(stub, 3_600_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await call(`/api/v1/mcp/sessions/${id}`)).body.error.code).toBe("session_not_found");
  });

  it("closes the relay on unbind", async () => {
    const { id, relay } = await connect("websocket");
    expect((await call(`/api/v1/mcp/sessions/${id}`, { method: "DELETE" })).status).toBe(200);
    const closed = await (relay as unknown as { closed: Promise<{ code: number }> }).closed;
    expect(closed.code).toBe(4000);
  });

  it("re-initializes on rebind, and forgets the previous device's tools when another device binds", async () => {
    const { id, device } = await connect("websocket");
    await bind(id, { device_id: "aa:bb:cc:dd:ee:ff", vision_url: "http://vision.example/v2", token: "t2" });
    await waitFor(() => (device.vision?.url === "http://vision.example/v2" ? true : undefined), 3000, "re-initialize");
    await waitReady(id);
    const other = newSessionId();
    await bind(other);
    // A different device takes over the session id, with no relay yet: the old names are gone (404, not 503).
    await bind(id, { device_id: "11:22:33:44:55:66" });
    const stale = await execute(id, "self_audio_speaker_set_volume", { volume: 5 });
    expect(stale.status).toBe(404);
  });

  it("resumes an SSE relay with Last-Event-ID without missing frames", async () => {
    const { id, device, relay } = await connect("sse");
    const seen = [...(relay as unknown as { eventIds: number[] }).eventIds];
    expect(seen).toEqual([1, 2, 3]);
    const resumed = await device.attachSse(id, { lastEventId: 1 });
    await waitFor(() => (resumed.eventIds.length >= 2 ? true : undefined), 2000, "replay");
    expect(resumed.eventIds.slice(0, 2)).toEqual([2, 3]);
    expect((await execute(id, "self_audio_speaker_set_volume", { volume: 9 })).body.action).toBe("req_llm");
  });

  it("relays frames through tRPC handleXiaoZhiMessage too", async () => {
    const id = newSessionId("trpc");
    await bind(id, VISION);
    const device = new FakeEsp32(standardTools());
    const stream = await call(`/trpc/handleXiaoZhiMessage`, { body: { session_id: id, type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/initialized" } } });
    expect(stream.body.result.data).toEqual({ success: true, result: { accepted: 1, dropped: 0 } });
    const bad = await call(`/trpc/handleXiaoZhiMessage`, { body: { session_id: id } });
    expect(bad.body.error.data.app_code).toBe("invalid_request");
    void device;
  });
});
