/**
 * The exported gateway client against the real worker (in-process, same Durable Objects as production):
 * the happy path, typed 4xx errors without retry or fallback, and fallback on a real outage and on the
 * worker's real 5xx answers (device gone: 503, device silent: 504, broken deployment config: 500).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GatewayClient, RolloutGateway, ServiceError, type FallbackEvent } from "../../src/client";
import { app } from "../../src/http/app";
import { BASE, bind, newSessionId, TOKEN } from "../support/api";
import { FakeEsp32, standardTools } from "../support/fake-esp32";
import { waitFor } from "../support/wait";
import { localExecutor, recording, workerClient, workerFetch } from "./support";

async function failure(work: Promise<unknown>): Promise<ServiceError> {
  const thrown = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(thrown).toBeInstanceOf(ServiceError);
  return thrown as ServiceError;
}

/** A bound session with the fake ESP32 attached over the relay WebSocket and its handshake done. */
async function withDevice(options: ConstructorParameters<typeof FakeEsp32>[1] = {}) {
  const id = newSessionId("client-dev");
  await bind(id);
  const device = new FakeEsp32(standardTools(), options);
  const relay = await device.attachWebSocket(id);
  const client = workerClient();
  await waitFor(async () => (await client.getSession({ session_id: id })).relay.phase === "ready", 5000, "device ready");
  return { id, device, relay, client };
}

describe("GatewayClient on the real worker", () => {
  it("binds, lists, executes and unbinds, returning the documented types", async () => {
    const client = workerClient();
    const id = newSessionId("client");
    const session = await client.bindSession({ session_id: id, device_id: "aa:bb:cc:dd:ee:ff", client_id: "c-1" });
    expect(session).toMatchObject({ session_id: id, device_id: "aa:bb:cc:dd:ee:ff", has_token: false, relay: { attached: false } });
    expect((await client.getSession({ session_id: id })).session_id).toBe(id);

    const { tools } = await client.getTools({ session_id: id });
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(["local_get_time", "local_play_music", "local_exit"]));

    const result = await client.executeTool({ session_id: id, tool_name: "local_play_music", arguments: { song_name: "random" } });
    expect(result).toEqual({ success: true, action: "call_handler", result: { handler: "mcp_handler_play_music", args: "random" } });

    expect(await client.unbindSession({ session_id: id })).toEqual({ session_id: id, deleted: true });
    expect((await failure(client.getTools({ session_id: id }))).code).toBe("session_not_found");
  });

  it("reaches the device's tools through the service once a relay is attached", async () => {
    const { id, relay, client } = await withDevice();
    const { tools } = await client.getTools({ session_id: id });
    expect(tools[0]?.source).toBe("device");
    const result = await client.executeTool({ session_id: id, tool_name: "self_audio_speaker_set_volume", arguments: { volume: 40 } });
    expect(result).toEqual({ success: true, action: "req_llm", result: "true" });
    relay.close();
  });

  it.each([
    ["unknown session", (c: GatewayClient) => c.getTools({ session_id: "never-bound" }), "session_not_found", 404],
    ["tool call on an unbound session", (c: GatewayClient) => c.executeTool({ session_id: "never-bound", tool_name: "nope" }), "session_not_found", 404],
    ["bad session id", (c: GatewayClient) => c.getSession({ session_id: "has space" }), "invalid_request", 400],
    ["bad vision url", (c: GatewayClient) => c.bindSession({ session_id: "s-x", device_id: "d", vision_url: "not a url" }), "invalid_request", 400],
  ] as const)("types a 4xx (%s) and does not retry it", async (_label, run, code, status) => {
    const { fetch, requests } = recording(workerFetch);
    const error = await failure(run(workerClient({ fetch })));
    expect(error).toMatchObject({ code, status, kind: "response", isOutage: false });
    expect(requests).toHaveLength(1);
  });

  it("types a refused token as unauthorized", async () => {
    const error = await failure(workerClient({ token: "wrong" }).getTools({ session_id: "s" }));
    expect(error).toMatchObject({ code: "unauthorized", status: 401 });
  });
});

describe("RolloutGateway fallback on the real worker", () => {
  const everyone = { use_service: true, traffic_split: 100 } as const;

  it("does not fall back on 4xx: the caller's bug surfaces", async () => {
    const local = localExecutor();
    const events: FallbackEvent[] = [];
    const gateway = new RolloutGateway(workerClient(), { ...everyone, fallback: local.executor }, { onFallback: (e) => events.push(e) });
    const id = newSessionId("no-fallback");
    await gateway.bindSession({ session_id: id, device_id: "aa:bb:cc:dd:ee:ff" });

    expect((await failure(gateway.executeTool({ session_id: id, tool_name: "no_such_tool" }))).code).toBe("tool_not_found");
    expect((await failure(gateway.executeTool({ session_id: id, tool_name: "local_exit", arguments: {} }))).code).toBe("invalid_request");
    const other = gateway.executeTool({ session_id: id, tool_name: "local_exit", arguments: { say_goodbye: "bye" }, device_id: "11:22:33:44:55:66" });
    expect((await failure(other)).code).toBe("session_conflict");
    expect((await failure(gateway.getTools({ session_id: newSessionId("unbound") }))).code).toBe("session_not_found");
    expect(local.calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it("falls back when the service is unreachable, after retrying reads but not executeTool", async () => {
    // Nothing listens on port 1 of loopback: a real connection failure.
    const { fetch, requests } = recording((request) => globalThis.fetch(request));
    const client = new GatewayClient({ baseUrl: "http://127.0.0.1:1", token: TOKEN, fetch, sleep: async () => undefined });
    const outage = await failure(client.getTools({ session_id: "s1" }));
    expect(outage).toMatchObject({ kind: "network", status: 0, isOutage: true });
    expect(requests).toHaveLength(3);

    const local = localExecutor();
    const events: FallbackEvent[] = [];
    const gateway = new RolloutGateway(client, { ...everyone, fallback: local.executor }, { onFallback: (e) => events.push(e) });
    requests.length = 0;
    expect((await gateway.getTools({ session_id: "s1" })).tools[0]?.description).toBe("in-process");
    expect(await gateway.executeTool({ session_id: "s1", tool_name: "local_get_time" })).toMatchObject({ result: "local path" });
    expect(requests.map((r) => r.path)).toEqual([
      "/api/v1/mcp/tools",
      "/api/v1/mcp/tools",
      "/api/v1/mcp/tools",
      "/api/v1/mcp/tools/local_get_time/execute",
    ]);
    expect(local.calls.map((c) => c.operation)).toEqual(["getTools", "executeTool"]);
    expect(events.map((e) => [e.operation, e.error.kind])).toEqual([
      ["getTools", "network"],
      ["executeTool", "network"],
    ]);
  });

  it("falls back on the worker's 503 when the device relay is gone", async () => {
    const { id, relay } = await withDevice();
    relay.close();
    const { fetch, requests } = recording(workerFetch);
    const probe = workerClient({ fetch });
    await waitFor(async () => !(await probe.getSession({ session_id: id })).relay.attached, 3000, "relay detached");

    requests.length = 0;
    const error = await failure(probe.executeTool({ session_id: id, tool_name: "self_audio_speaker_set_volume", arguments: { volume: 10 } }));
    expect(error).toMatchObject({ code: "device_unavailable", status: 503, isOutage: true });
    expect(requests).toHaveLength(1); // executeTool is never retried

    const local = localExecutor();
    const gateway = new RolloutGateway(probe, { ...everyone, fallback: local.executor });
    const result = await gateway.executeTool({ session_id: id, tool_name: "self_audio_speaker_set_volume", arguments: { volume: 10 } });
    expect(result.result).toBe("local path");
    expect(local.calls).toEqual([{ operation: "executeTool", session_id: id }]);
  });

  it("falls back on the worker's 504 when the device never answers", async () => {
    const { id, relay, client } = await withDevice({ silent: true });
    const local = localExecutor();
    const events: FallbackEvent[] = [];
    const gateway = new RolloutGateway(client, { ...everyone, fallback: local.executor }, { onFallback: (e) => events.push(e) });
    const result = await gateway.executeTool({ session_id: id, tool_name: "self_get_device_status" });
    expect(result.result).toBe("local path");
    expect(events[0]?.error).toMatchObject({ code: "timeout", status: 504, kind: "response" }); // the service's device call timeout
    relay.close();
  });

  it("falls back when the worker is slower than the client's timeout", async () => {
    const { id, relay } = await withDevice({ silent: true });
    const local = localExecutor();
    const events: FallbackEvent[] = [];
    const client = workerClient({ executeTimeoutMs: 200 });
    const gateway = new RolloutGateway(client, { ...everyone, fallback: local.executor }, { onFallback: (e) => events.push(e) });
    const started = Date.now();
    expect((await gateway.executeTool({ session_id: id, tool_name: "self_get_device_status" })).result).toBe("local path");
    expect(Date.now() - started).toBeLessThan(1200); // well before the service's own 1.5 s device timeout
    expect(events[0]?.error).toMatchObject({ code: "timeout", status: 0, kind: "timeout" });
    relay.close();
  });

  it("retries reads on the worker's 500 (a deployment with a broken config), then falls back", async () => {
    const broken = { ...env, MCP_CONFIG: JSON.stringify({ timezone: "Mars/Olympus_Mons" }) };
    const { fetch, requests } = recording((request) => Promise.resolve(app.fetch(request, broken)));
    const client = new GatewayClient({ baseUrl: BASE, token: TOKEN, fetch, sleep: async () => undefined });
    const error = await failure(client.getTools({ session_id: "s1" }));
    expect(error).toMatchObject({ code: "config_invalid", status: 500, isOutage: true });
    expect(requests).toHaveLength(3);

    const local = localExecutor();
    const gateway = new RolloutGateway(client, { ...everyone, fallback: local.executor });
    expect(await gateway.bindSession({ session_id: "s1", device_id: "d" })).toBeUndefined();
    expect(gateway.pathFor("s1")).toBe("local"); // the conversation stays on the path it started on
  });
});

describe("GatewayClient: agents as tenants", () => {
  it("sets, reads and deletes an agent's config, and mints, lists and revokes its tokens, typed", async () => {
    const client = workerClient();
    const agent = newSessionId("client-tenant");
    const stored = await client.putAgentConfig(agent, { tools: { deny: ["local_exit"] }, mcpServers: { calc: null } });
    expect(stored).toMatchObject({ agent_id: agent, config: { tools: { deny: ["local_exit"] } } });
    expect((await client.getAgentConfig(agent)).version).toBe(stored.version);
    const minted = await client.mintAgentToken(agent, { ttl_seconds: 600 });
    expect((await client.listAgentTokens(agent)).tokens.map((token) => token.id)).toEqual([minted.id]);

    // The token works as a gateway's credential, confined to its agent.
    const tenant = new GatewayClient({ baseUrl: BASE, token: minted.token, fetch: workerFetch });
    const session = newSessionId("client-tenant-session");
    expect((await tenant.bindSession({ session_id: session, device_id: "d", agent_id: agent })).agent_id).toBe(agent);
    expect((await tenant.getTools({ session_id: session })).tools.map((tool) => tool.name)).not.toContain("local_exit");
    const refused = await tenant.putAgentConfig(agent, {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect((refused as ServiceError).code).toBe("forbidden");

    expect(await client.revokeAgentToken(agent, minted.id)).toEqual({ agent_id: agent, id: minted.id, revoked: true });
    expect(await client.deleteAgentConfig(agent)).toEqual({ agent_id: agent, deleted: true });
    const missing = await client.getAgentConfig(agent).catch((error: unknown) => error);
    expect((missing as ServiceError).code).toBe("agent_not_found");
  });

  it("mints provider URLs and lists the agent's providers, typed; an agent token for its own agent only", async () => {
    const client = workerClient();
    const agent = newSessionId("client-endpoint");
    const endpoint = await client.mintProviderEndpoint(agent, { provider: "calc", ttl_seconds: 3600 });
    expect(endpoint).toMatchObject({ agent_id: agent, provider: "calc", url: expect.stringMatching(/^ws.*\/mcp\//), consumer_url: expect.stringMatching(/\/call\//) });
    expect(Date.parse(endpoint.expires_at) - Date.now()).toBeGreaterThan(3_500_000);
    expect(await client.listProviders(agent)).toEqual({ agent_id: agent, providers: [] });

    const minted = await client.mintAgentToken(agent, { ttl_seconds: 600 });
    const tenant = new GatewayClient({ baseUrl: BASE, token: minted.token, fetch: workerFetch });
    expect((await tenant.mintProviderEndpoint(agent)).provider).toBeNull();
    const elsewhere = await tenant.listProviders(newSessionId("client-endpoint-other")).catch((error: unknown) => error);
    expect(elsewhere).toBeInstanceOf(ServiceError);
    expect((elsewhere as ServiceError).code).toBe("forbidden");
  });
});
