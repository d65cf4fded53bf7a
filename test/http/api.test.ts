/**
 * Foundation acceptance: sessions, local tools and every bad input, through REST and through tRPC alike.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ageSession, call, newSessionId } from "../support/api";
import { transports } from "../support/transports";

const DEVICE = { device_id: "aa:bb:cc:dd:ee:01", client_id: "client-1" };
const LOCAL_NAMES = ["local_get_time", "local_exit", "local_play_music", "local_change_voice", "local_change_role", "local_switch_agent"];

describe.each(transports)("$name", (t) => {
  async function bound(body: Record<string, unknown> = {}) {
    const id = newSessionId(t.name);
    const outcome = await t.bind(id, { ...DEVICE, ...body });
    expect(outcome.status).toBe(200);
    return id;
  }

  it("binds, lists tools in a stable order and executes every local tool as spec §5 says", async () => {
    const id = await bound({ vision_url: "http://vision.local/explain", token: "secret-vision-token" });
    const tools = await t.getTools(id);
    expect(tools.status).toBe(200);
    expect(tools.data.tools.map((tool: { name: string }) => tool.name)).toEqual(LOCAL_NAMES);
    for (const tool of tools.data.tools) {
      expect(tool.source).toBe("local");
      expect(tool.input_schema.type).toBe("object");
    }
    const again = await t.getTools(id);
    expect(JSON.stringify(again.data)).toBe(JSON.stringify(tools.data));

    const time = await t.execute("local_get_time", { session_id: id, arguments: {} });
    expect(time.data).toMatchObject({ success: true, action: "req_llm" });
    expect(time.data.result).toMatch(/^现在是 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}，星期[一二三四五六日]（Asia\/Shanghai）。$/);

    const cases: [string, Record<string, unknown>, unknown][] = [
      ["local_exit", { say_goodbye: "下次见" }, { handler: "mcp_handler_exit", args: "下次见" }],
      ["local_play_music", { song_name: "random" }, { handler: "mcp_handler_play_music", args: "random" }],
      ["local_change_voice", { voice: "Aria" }, { handler: "mcp_handler_change_voice", args: "Aria" }],
      ["local_change_role", { role: "英语老师" }, { handler: "mcp_handler_change_role", args: { role: "英语老师", prompt: expect.stringContaining("English teacher") } }],
      ["local_switch_agent", { agent_id: 42, agent_name: "Tutor" }, { handler: "mcp_handler_switch_agent", args: { agent_id: 42, agent_name: "Tutor" } }],
    ];
    for (const [tool, args, result] of cases) {
      const outcome = await t.execute(tool, { session_id: id, arguments: args });
      expect(outcome.status, tool).toBe(200);
      expect(outcome.data, tool).toEqual({ success: true, action: "call_handler", result });
    }
    const role = await t.execute("local_change_role", { session_id: id, arguments: { role: "小智" } });
    expect(typeof role.data.result.args).toBe("object");
    expect(typeof role.data.result.args.prompt).toBe("string");

    const ask = await t.execute("local_switch_agent", { session_id: id });
    expect(ask.data).toMatchObject({ success: true, action: "req_llm" });
  });

  it("keeps two sessions apart, updates on rebind and deletes on unbind", async () => {
    const a = await bound({ enabled_tools: ["local_exit"] });
    const b = await bound({ device_id: "device-b" });
    expect((await t.getTools(a)).data.tools.map((tool: { name: string }) => tool.name)).toEqual(["local_exit"]);
    expect((await t.getTools(b)).data.tools).toHaveLength(LOCAL_NAMES.length);

    const before = await t.getSession(a);
    expect(before.data).toMatchObject({ session_id: a, device_id: DEVICE.device_id, has_token: false, enabled_tools: ["local_exit"] });
    expect(before.data).not.toHaveProperty("token");
    expect(before.data.tools).toEqual({ device: 0, local: 1, external: 0, provider: 0 });
    expect((await t.getSession(b)).data.device_id).toBe("device-b");

    const rebound = await t.bind(a, { device_id: "device-a2", client_id: "c2", token: "tok" });
    expect(rebound.data).toMatchObject({ device_id: "device-a2", client_id: "c2", has_token: true, enabled_tools: [], created_at: before.data.created_at });
    expect((await t.getTools(a)).data.tools).toHaveLength(LOCAL_NAMES.length);

    const deleted = await t.unbind(a);
    expect(deleted.status).toBe(200);
    expect(deleted.data).toMatchObject({ session_id: a, deleted: true });
    expect((await t.getTools(a)).code).toBe("session_not_found");
    expect((await t.unbind(a)).code).toBe("session_not_found");
    expect((await t.getSession(b)).status).toBe(200);
  });

  it("enabled_tools also refuses execution of tools outside the list", async () => {
    const id = await bound({ enabled_tools: ["local_exit"] });
    const refused = await t.execute("local_get_time", { session_id: id, arguments: {} });
    expect(refused).toMatchObject({ status: 404, code: "tool_not_found" });
  });

  it("answers every bad input with its stable code and stays usable", async () => {
    const id = await bound();
    const bad: [string, () => Promise<{ status: number; code?: string }>, number, string][] = [
      ["missing token", () => t.getTools(id, null), 401, "unauthorized"],
      ["wrong token", () => t.getTools(id, "nope"), 401, "unauthorized"],
      ["malformed JSON", () => t.executeRaw("local_exit", "{\"session_id\": "), 400, "invalid_request"],
      ["arguments not an object", () => t.execute("local_exit", { session_id: id, arguments: "bye" }), 400, "invalid_request"],
      ["session_id of the wrong type", () => t.execute("local_exit", { session_id: 12, arguments: {} }), 400, "invalid_request"],
      ["session_id with bad characters", () => t.getTools("bad id/../x"), 400, "invalid_request"],
      ["bind without device_id", () => t.bind(newSessionId(), { client_id: "x" }), 400, "invalid_request"],
      ["bind with an unknown field", () => t.bind(newSessionId(), { ...DEVICE, surprise: true }), 400, "invalid_request"],
      ["bind with a bad vision_url", () => t.bind(newSessionId(), { ...DEVICE, vision_url: "not a url" }), 400, "invalid_request"],
      ["unknown session", () => t.getTools(newSessionId("ghost")), 404, "session_not_found"],
      ["execute on unknown session", () => t.execute("local_exit", { session_id: newSessionId("ghost"), arguments: {} }), 404, "session_not_found"],
      ["unknown tool", () => t.execute("local_fly", { session_id: id, arguments: {} }), 404, "tool_not_found"],
      ["arguments failing the schema", () => t.execute("local_change_role", { session_id: id, arguments: { role: "pirate" } }), 400, "invalid_request"],
      ["missing required argument", () => t.execute("local_exit", { session_id: id, arguments: {} }), 400, "invalid_request"],
      ["argument of the wrong type", () => t.execute("local_switch_agent", { session_id: id, arguments: { agent_id: "7" } }), 400, "invalid_request"],
      ["device_id of another device", () => t.execute("local_exit", { session_id: id, device_id: "someone-else", arguments: { say_goodbye: "x" } }), 409, "session_conflict"],
      ["oversized body", () => t.execute("local_exit", { session_id: id, arguments: { say_goodbye: "x".repeat(70 * 1024) } }), 413, "payload_too_large"],
    ];
    for (const [label, send, status, code] of bad) {
      const outcome = await send();
      expect({ label, status: outcome.status, code: outcome.code }).toEqual({ label, status, code });
    }
    const still = await t.execute("local_exit", { session_id: id, device_id: DEVICE.device_id, arguments: { say_goodbye: "ok" } });
    expect(still.data).toMatchObject({ success: true, action: "call_handler" });
  });
});

describe("error bodies", () => {
  it("REST errors are {error:{code,message,details}} with zod issues and no stack", async () => {
    const id = newSessionId();
    const response = await call(`/api/v1/mcp/sessions/${id}/bind`, { body: { device_id: 5 } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
    expect(response.body.error.message).toContain("device_id");
    expect(Array.isArray(response.body.error.details.issues)).toBe(true);
    expect(JSON.stringify(response.body)).not.toMatch(/stack|\.ts:\d+/);
  });

  it("tRPC errors carry app_code and no stack", async () => {
    const response = await call(`/trpc/getTools?input=${encodeURIComponent(JSON.stringify({ session_id: newSessionId("ghost") }))}`);
    expect(response.status).toBe(404);
    expect(response.body.error.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404, app_code: "session_not_found" });
    expect(JSON.stringify(response.body)).not.toMatch(/stack|\.ts:\d+/);
  });

  it("a tRPC query sent as POST is refused, not crashed", async () => {
    const response = await call("/trpc/getTools", { body: { session_id: "x" } });
    expect(response.status).toBe(405);
    expect(response.body.error.data.app_code).toBe("invalid_request");
  });

  it("a tRPC mutation without a JSON content type is invalid_request, not internal", async () => {
    const response = await call("/trpc/executeTool", { method: "POST", rawBody: "{}", headers: { "content-type": "text/plain" } });
    expect(response.status).toBe(415);
    expect(response.body.error.data.app_code).toBe("invalid_request");
  });

  it("unknown routes answer route_not_found", async () => {
    const response = await call("/api/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("route_not_found");
  });

  it("accepts every token of the comma-separated secret", async () => {
    const id = newSessionId();
    expect((await call(`/api/v1/mcp/sessions/${id}/bind`, { body: DEVICE, token: "test-token-2" })).status).toBe(200);
  });
});

describe("health", () => {
  it("/healthz needs no auth and reports the version", async () => {
    const response = await call("/healthz", { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: "ok", version: expect.any(String) });
  });
});

describe("idle expiry", () => {
  it("the alarm deletes an idle session and re-arms for an active one", async () => {
    const idle = newSessionId("idle");
    const active = newSessionId("active");
    await call(`/api/v1/mcp/sessions/${idle}/bind`, { body: DEVICE });
    await call(`/api/v1/mcp/sessions/${active}/bind`, { body: DEVICE });
    const idleStub = env.SESSIONS.getByName(idle);
    const activeStub = env.SESSIONS.getByName(active);

    // Age the idle session past its TTL; the active one stays fresh.
    await ageSession(idleStub, 65_000);
    expect(await runDurableObjectAlarm(idleStub)).toBe(true);
    expect(await runDurableObjectAlarm(activeStub)).toBe(true);

    expect((await call(`/api/v1/mcp/sessions/${idle}`)).body.error.code).toBe("session_not_found");
    expect((await call(`/api/v1/mcp/sessions/${active}`)).status).toBe(200);
    const rearmed = await runInDurableObject(activeStub, (_instance, state) => state.storage.getAlarm());
    expect(rearmed).toBeGreaterThan(Date.now());
    const idleStorage = await runInDurableObject(idleStub, async (_instance, state) => ({
      alarm: await state.storage.getAlarm(),
      keys: [...state.storage.kv.list()].length,
    }));
    expect(idleStorage).toEqual({ alarm: null, keys: 0 });
  });
});
