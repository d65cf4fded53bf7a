/**
 * Fault injection on the device source, through the real Worker and session Durable Object with the fake
 * ESP32: unsafe and colliding tool names, oversized replies to calls in flight, floods of bad frames, deep
 * nesting, rebinds that must not disturb the camera, and the firmware's spoken results.
 * (A gateway process killed mid-call, and the runtime restarted, are in test/e2e/peers-wrangler-dev.test.ts.)
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../../support/api";
import { FakeEsp32, standardTools, type FakeTool, type WebSocketRelay } from "../../support/fake-esp32";
import { waitFor } from "../../support/wait";

const FRAME_LIMIT = 64 * 1024; // limits.max_frame_bytes of the test config
const SAFE = /^[A-Za-z0-9_-]{1,64}$/;

const textTool = (name: string, text: string): FakeTool => ({
  name,
  description: `The ${name} tool`,
  inputSchema: { type: "object", properties: {} },
  run: () => [{ type: "text", text }],
});

async function connect(tools: FakeTool[], channel: "websocket" | "sse" = "websocket", bindBody: Record<string, unknown> = {}) {
  const id = newSessionId("fault");
  await bind(id, bindBody);
  const device = new FakeEsp32(tools);
  device.sessionId = id;
  const relay = channel === "websocket" ? await device.attachWebSocket(id) : await device.attachSse(id);
  await waitFor(async () => ((await call(`/api/v1/mcp/sessions/${id}`)).body.relay.phase === "ready" ? true : undefined), 5000, "ready");
  return { id, device, relay };
}

async function deviceTools(id: string): Promise<{ name: string; description: string }[]> {
  return (await call(`/api/v1/mcp/tools?session_id=${id}`)).body.tools.filter((tool: { source: string }) => tool.source === "device");
}

async function execute(id: string, tool: string, args: Record<string, unknown> = {}) {
  const started = Date.now();
  const response = await call(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { body: { session_id: id, arguments: args } });
  return { ...response, elapsed: Date.now() - started };
}

describe("device tool names", () => {
  it("offers only names LLM APIs accept, one per tool, each running its own tool", async () => {
    const raws = ["self.a.b", "self.a_b", "self_light:toggle", "self_screen/x", `self.${"long_name_".repeat(8)}`, "self.打开灯", "self.关闭灯", "local_exit", "mcp_weather", "home__lights"];
    const { id, device } = await connect(raws.map((raw) => textTool(raw, `ran ${raw}`)));
    const tools = await deviceTools(id);
    // Every device tool is offered: names in the other sources' namespaces (local_, mcp_, __) are moved out of them.
    expect(tools).toHaveLength(raws.length);
    for (const tool of tools) expect(tool.name).toMatch(SAFE);
    expect(new Set(tools.map((tool) => tool.name)).size).toBe(tools.length);
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(["self_a_b", "self_light_toggle", "self_screen_x", "self_da_kai_deng", "self_guan_bi_deng", "device_local_exit", "device_mcp_weather", "home_lights"]),
    );
    expect(tools.find((tool) => tool.name === "self_da_kai_deng")?.description).toBe("[self.打开灯] The self.打开灯 tool");

    for (const tool of tools) {
      const result = await execute(id, tool.name);
      const called = device.received.filter((message) => message.method === "tools/call").at(-1) as { params: { name: string } };
      expect(result.body.result).toBe(`ran ${called.params.name}`);
      expect(result.body.result).not.toBe(undefined);
    }
    const ranByName = await execute(id, "self_a_b");
    expect(ranByName.body.result).toBe("ran self.a_b"); // the closest raw name keeps the plain one
    const exit = await execute(id, "local_exit", { say_goodbye: "bye" });
    expect(exit.body).toMatchObject({ action: "call_handler", result: { handler: "mcp_handler_exit" } });
  });

  it("keeps each name when the device reconnects, even if it now lists a tool that would have taken it", async () => {
    const { id, relay } = await connect([textTool("self.a.b", "ran self.a.b")]);
    expect((await deviceTools(id)).map((tool) => tool.name)).toEqual(["self_a_b"]);
    relay.close();
    await waitFor(async () => ((await call(`/api/v1/mcp/sessions/${id}`)).body.relay.attached ? undefined : true), 5000, "detached");
    const again = new FakeEsp32([textTool("self.a.b", "ran self.a.b"), textTool("self.a_b", "ran self.a_b")]);
    again.sessionId = id;
    await again.attachWebSocket(id);
    await waitFor(async () => ((await deviceTools(id)).length === 2 ? true : undefined), 5000, "both listed");
    expect((await execute(id, "self_a_b")).body.result).toBe("ran self.a.b");
    const other = (await deviceTools(id)).find((tool) => tool.name !== "self_a_b")!;
    expect((await execute(id, other.name)).body.result).toBe("ran self.a_b");
  });
});

describe.each(["websocket", "sse"] as const)("device faults over %s", (channel) => {
  it("fails a call at once when the device's reply is over the frame limit", async () => {
    const { id } = await connect([textTool("self.huge", "x".repeat(FRAME_LIMIT + 10)), textTool("self.small", "ok")], channel);
    const result = await execute(id, "self_huge");
    expect(result.status, JSON.stringify(result.body)).toBe(502);
    expect(result.body.error).toMatchObject({ code: "upstream_error", message: expect.stringMatching(/exceeds/) });
    expect(result.elapsed).toBeLessThan(1500); // device.call_timeout_ms: not waited for
    expect((await execute(id, "self_small")).body.result).toBe("ok"); // the relay stays usable
  });
});

describe("device faults over websocket", () => {
  it("survives a flood of bad frames at constant cost: this session and others stay quick", async () => {
    const { id, relay } = (await connect([textTool("self.ping", "pong")])) as { id: string; relay: WebSocketRelay };
    const other = await connect([textTool("self.ping", "pong")]);
    const nested = `{"type":"mcp","payload":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    for (let i = 0; i < 1000; i += 1) {
      relay.sendRaw(i % 4 === 0 ? "not json" : i % 4 === 1 ? '{"type":"mcp","payload":{"id":"x","result":{}}}' : i % 4 === 2 ? '{"type":"audio"}' : nested);
    }
    const mine = await execute(id, "self_ping");
    const theirs = await execute(other.id, "self_ping");
    expect(mine.body.result).toBe("pong");
    expect(theirs.body.result).toBe("pong");
    expect(mine.elapsed + theirs.elapsed).toBeLessThan(1500);
    expect((await call(`/api/v1/mcp/sessions/${id}`)).body.relay).toMatchObject({ attached: true, phase: "ready" });
  });

  it("refuses deeply nested frames relayed over HTTP and tRPC with 400, before any recursive work", async () => {
    const id = newSessionId("deep");
    await bind(id);
    // Built as text: the test itself must not recurse over it either.
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const frame = `{"session_id":"${id}","type":"mcp","payload":{"jsonrpc":"2.0","id":3,"result":{"content":${deep}}}}`;
    const headers = { "content-type": "application/json" };
    const posted = await call(`/api/v1/mcp/sessions/${id}/messages`, { rawBody: `{"frames":[${frame}]}`, headers });
    expect(posted.status).toBe(400);
    expect(posted.body.error).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/max_json_depth/) });
    const trpc = await call("/trpc/handleXiaoZhiMessage", { rawBody: frame, headers });
    expect(trpc.status).toBe(400);
    expect(trpc.body.error.data.app_code).toBe("invalid_request");
    const query = await call(`/trpc/getTools?input=${encodeURIComponent(`{"session_id":"${id}","x":${deep}}`)}`);
    expect(query.status).toBe(400);
  });
});

describe("rebinds and the camera", () => {
  const VISION = { vision_url: "http://vision.example/explain", token: "vision-token" };

  it("keeps the bound vision on a rebind without vision fields, and sends no new initialize", async () => {
    const { id, device } = await connect(standardTools(), "websocket", VISION);
    const initializes = () => device.received.filter((message) => message.method === "initialize").length;
    expect(initializes()).toBe(1);
    await bind(id); // the gateway rebinds on the next conversation, without vision fields
    const view = (await call(`/api/v1/mcp/sessions/${id}`)).body;
    expect(view).toMatchObject({ vision_url: VISION.vision_url, has_token: true });
    expect(initializes()).toBe(1);
    expect(device.vision).toEqual({ url: VISION.vision_url, token: VISION.token });
    const photo = await execute(id, "self_camera_take_photo", { question: "what is this?" });
    expect(photo.body).toMatchObject({ success: true, action: "call_handler" });

    // A changed vision endpoint is sent again, once.
    await bind(id, { vision_url: "http://vision.example/v2", token: "t2" });
    await waitFor(() => (initializes() === 2 ? true : undefined), 5000, "a second initialize");
    expect(device.vision).toEqual({ url: "http://vision.example/v2", token: "t2" });
  });

  it("speaks a device result {action: RESPONSE} directly, for any device tool", async () => {
    const spoken = JSON.stringify({ success: true, action: "RESPONSE", response: "图中是一只猫" });
    const { id } = await connect([textTool("self.camera.take_photo", spoken), textTool("self.custom.explain", spoken)]);
    for (const tool of ["self_camera_take_photo", "self_custom_explain"]) {
      expect((await execute(id, tool)).body).toEqual({ success: true, action: "response", result: "图中是一只猫", response: "图中是一只猫" });
    }
  });
});

describe("MCP clients of a session", () => {
  it("hear tools/list_changed only when the list really changed: not when the relay attaches", async () => {
    const id = newSessionId("changes");
    await bind(id);
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      exports.default.fetch(
        new Request(`http://service.test/api/v1/mcp/sessions/${id}/mcp`, {
          method: "POST",
          headers: { authorization: "Bearer test-token-1", "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
          body: JSON.stringify(body),
        }),
      );
    const initialized = await post({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
    const mcpSession = initialized.headers.get("mcp-session-id")!;
    await initialized.text();
    await post({ jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": mcpSession });
    const stream = await exports.default.fetch(
      new Request(`http://service.test/api/v1/mcp/sessions/${id}/mcp`, {
        headers: { authorization: "Bearer test-token-1", accept: "text/event-stream", "mcp-session-id": mcpSession, "mcp-protocol-version": "2025-11-25" },
      }),
    );
    const reader = stream.body!.getReader();
    const events: string[] = [];
    void (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        events.push(...decoder.decode(value).split("\n").filter((line) => line.startsWith("data:")));
      }
    })();

    const device = new FakeEsp32([textTool("self.a", "a")]);
    device.sessionId = id;
    const relay = await device.attachWebSocket(id);
    await waitFor(() => (events.length >= 1 ? true : undefined), 5000, "list_changed once the tools are listed");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toHaveLength(1);
    expect(events[0]).toContain("notifications/tools/list_changed");
    // The relay reconnects and the device lists the same tools: nothing changed for the LLM.
    relay.close();
    await waitFor(() => (events.length >= 2 ? true : undefined), 5000, "list_changed when the tools left");
    await device.attachWebSocket(id);
    await waitFor(() => (events.length >= 3 ? true : undefined), 5000, "list_changed when they came back");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toHaveLength(3);
    await reader.cancel();
  });
});
