/**
 * The MCP endpoint (接入点) for unmodified xiaozhi-esp32-server deployments, in workerd: a consumer that follows
 * xiaozhi's message sequence (test/fixtures/xiaozhi-consumer.ts) against the real Worker and agent object, with
 * providers on real WebSockets (SDK servers and raw JSON-RPC ones). Providers that behave like mcp_pipe in
 * processes of their own, under wrangler dev, are in test/e2e/xiaozhi-endpoint.test.ts.
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { mintToken } from "../../../src/sources/dial-in/endpoint-token";
import { consumerUrlOf, sanitizeToolName, XiaozhiConsumer } from "../../fixtures/xiaozhi-consumer";
import { call, newSessionId, TOKEN } from "../../support/api";
import { waitFor } from "../../support/wait";
import { closePeers, consumer, mintEndpoint, openSocket, rawProvider, sdkProvider, waitForProviders } from "./support";

const bindings = env as unknown as { CONSOLE_TOKEN: string; CONSOLE_AGENT_MD5: string; FOREIGN_CONSOLE_TOKEN: string };
afterEach(closePeers);

const mint = (agentId: string, provider?: string) => mintEndpoint(agentId, provider ? { provider } : {});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the consumer route (/mcp_endpoint/call/)", () => {
  it("answers xiaozhi's pipelined handshake with the union of two providers, and routes calls with exact arguments", async () => {
    const agent = newSessionId("agent");
    const calc = await mint(agent, "calc");
    const home = await mint(agent, "home");
    await sdkProvider(calc.url, "Calculator", (server) =>
      server.registerTool("calculator", { description: "Evaluates a python expression", inputSchema: { python_expression: z.string() } }, async ({ python_expression }) => ({
        content: [{ type: "text", text: JSON.stringify({ success: true, result: python_expression.length }) }],
      })),
    );
    await rawProvider(home.url, [{ name: "打开灯" }, { name: "lights.off" }], (name, args) => ({ content: [{ type: "text", text: `${name} ${JSON.stringify(args)}` }], structuredContent: { ran: name } }));
    await waitForProviders(agent, 2);

    // xiaozhi-esp32-server is configured with the provider URL (either one: both name the agent).
    const client = await consumer(calc.url);
    await client.handshake();
    expect(client.serverInfo).toMatchObject({ name: "xiaozhi-mcp-service" });
    // The version xiaozhi asks for (2024-11-05) is the one answered.
    expect(client.received.find((frame) => frame.id === 1)?.result.protocolVersion).toBe("2024-11-05");
    expect([...client.tools.keys()].sort()).toEqual(["calc__calculator", "home__da_kai_deng", "home__lights_off"]);
    // Names as they came over the wire (before the consumer's own sanitizing) pass xiaozhi's sanitizer unchanged:
    // its name_mapping then maps each name to itself.
    const wireNames = client.received.filter((frame) => frame.id === 2).flatMap((frame) => (frame.result.tools as { name: string }[]).map((tool) => tool.name));
    expect(wireNames.sort()).toEqual(["calc__calculator", "home__da_kai_deng", "home__lights_off"]);
    for (const name of wireNames) expect(sanitizeToolName(name)).toBe(name);
    for (const [sanitized, original] of client.nameMapping) expect(original).toBe(sanitized);

    const args = { python_expression: "1+1", nested: { list: [1, "two", null, true], deep: { x: 1.5 } } };
    const calculated = await client.call("calc__calculator", args);
    expect(calculated.text).toBe('{"success":true,"result":3}'); // plain tool text, never an ActionResponse
    expect(calculated.result).toEqual({ content: [{ type: "text", text: '{"success":true,"result":3}' }] });
    const lights = await client.call("home__da_kai_deng", { room: "客厅" });
    expect(lights.result).toEqual({ content: [{ type: "text", text: '打开灯 {"room":"客厅"}' }], structuredContent: { ran: "打开灯" } });
    // Arguments reach the provider exactly as sent, nested values and key order included (the raw provider
    // echoes what it received; the SDK server above would strip keys its schema does not declare).
    const nested = { b: { list: [1, "two", null, true, { deep: [[[]]] }], "键": "值" }, a: -0.5, z: "" };
    expect((await client.call("home__lights_off", nested)).text).toBe(`lights.off ${JSON.stringify(nested)}`);

    // Nothing but replies: every frame the consumer got answers one of its requests.
    for (const frame of client.received) expect("result" in frame || "error" in frame).toBe(true);
  });

  it("pages tools/list with cursor, as the consumer follows nextCursor with id 2", async () => {
    const agent = newSessionId("agent");
    const { url } = await mint(agent, "many");
    await rawProvider(url, Array.from({ length: 120 }, (_, i) => ({ name: `tool_${String(i).padStart(3, "0")}` })));
    await waitForProviders(agent, 1);
    const client = await consumer(url);
    await client.handshake();
    expect(client.tools.size).toBe(120);
    const pages = client.received.filter((frame) => frame.id === 2);
    expect(pages.map((frame) => frame.result.tools.length)).toEqual([50, 50, 20]); // xiaozhi_endpoint.page_size of the test config
    expect(pages.map((frame) => frame.result.nextCursor)).toEqual(["50", "100", undefined]);
  });

  it("accepts reused and overlapping ids: every reply goes back with the id it answers", async () => {
    const agent = newSessionId("agent");
    const { url } = await mint(agent, "timing");
    await rawProvider(url, [{ name: "slow" }, { name: "fast" }], async (name) => {
      if (name === "slow") await sleep(300);
      return { content: [{ type: "text", text: name }] };
    });
    await waitForProviders(agent, 1);
    const client = await consumer(url);
    await client.handshake();
    // Calls restart at id 1 (reusing the handshake's ids); here two calls even share one id at once.
    client.sendRaw(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "timing__slow", arguments: {} } }));
    client.sendRaw(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "timing__fast", arguments: {} } }));
    client.sendRaw(JSON.stringify({ jsonrpc: "2.0", id: "two", method: "tools/call", params: { name: "timing__fast", arguments: {} } }));
    await waitFor(() => (client.received.filter((frame) => frame.result?.content).length >= 3 ? true : undefined), 5000, "three replies");
    const replies = client.received.filter((frame) => frame.result?.content).map((frame) => [frame.id, frame.result.content[0].text]);
    expect(replies).toEqual([
      [1, "fast"],
      ["two", "fast"],
      [1, "slow"],
    ]);
  });

  it("fails a call at once when its provider leaves mid-call; a consumer leaving cancels nothing for others", async () => {
    const agent = newSessionId("agent");
    const { url } = await mint(agent, "flaky");
    let release: (() => void) | undefined;
    const provider = await rawProvider(url, [{ name: "hold" }, { name: "echo" }], async (name, args) => {
      if (name === "hold") await new Promise<void>((resolve) => (release = resolve));
      return { content: [{ type: "text", text: `${name} ${JSON.stringify(args)}` }] };
    });
    await waitForProviders(agent, 1);
    const first = await consumer(url);
    const second = await consumer(url);
    await Promise.all([first.handshake(), second.handshake()]);

    // A consumer leaving while both have a call in flight: its own is dropped, the other consumer's is answered.
    const abandoned = first.call("flaky__hold", { who: "first" }).catch((error: Error) => error);
    await waitFor(() => (release ? true : undefined), 5000, "the provider holds the first call");
    const releaseFirst = release!;
    release = undefined;
    const kept = second.call("flaky__hold", { who: "second" });
    await waitFor(() => (release ? true : undefined), 5000, "the provider holds the second call");
    const releaseSecond = release!;
    release = undefined;
    first.close();
    await first.closed;
    releaseFirst();
    releaseSecond();
    expect((await kept).text).toBe('hold {"who":"second"}');
    expect(String(await abandoned)).toMatch(/closed/);

    // The provider leaving mid-call: the call fails at once, not at the 1.5 s provider timeout.
    const started = Date.now();
    const pending = second.call("flaky__hold", { who: "again" }).catch((error: Error & { rpc?: unknown }) => error);
    await waitFor(() => (release ? true : undefined), 5000, "third call held");
    provider.close(1001, "going away");
    const failed = (await pending) as Error & { rpc?: { code: number; data: { app_code: string } } };
    expect(failed.rpc?.data.app_code).toBe("device_unavailable");
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("ends a call the provider never answers at providers.call_timeout_ms with a timeout error; the connection stays usable", async () => {
    const agent = newSessionId("agent");
    const { url } = await mint(agent, "mute");
    await rawProvider(url, [{ name: "never" }, { name: "echo" }], (name, args) => (name === "never" ? undefined : { content: [{ type: "text", text: JSON.stringify(args) }] }));
    await waitForProviders(agent, 1);
    const client = await consumer(url, 10_000);
    await client.handshake();
    const started = Date.now();
    const failed = (await client.call("mute__never", {}).catch((error: Error & { rpc?: unknown }) => error)) as Error & { rpc?: any };
    expect(failed.rpc).toMatchObject({ code: expect.any(Number), data: { app_code: "timeout" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400); // 1.5 s in the test config, not the consumer's 10 s
    expect((await client.call("mute__echo", { still: "here" })).text).toBe('{"still":"here"}');
  });

  it("answers initialize in the version asked for when it knows it (2024-11-05 and later), else in its latest", async () => {
    const agent = newSessionId("agent");
    const { url } = await mint(agent);
    const client = await consumer(url);
    for (const [asked, answered] of [
      ["2024-11-05", "2024-11-05"],
      ["2025-03-26", "2025-03-26"],
      ["2025-06-18", "2025-06-18"],
      ["2025-11-25", "2025-11-25"],
      ["2099-01-01", "2025-11-25"],
    ]) {
      const reply = await client.request("initialize", { protocolVersion: asked, capabilities: {}, clientInfo: { name: "x", version: "1" } });
      expect(reply.result.protocolVersion, asked).toBe(answered);
    }
  });

  it("keeps agents apart: a consumer sees and calls only its own agent's tools", async () => {
    const [a, b] = [newSessionId("agent-a"), newSessionId("agent-b")];
    const mintedA = await mint(a, "secret");
    const mintedB = await mint(b, "public");
    await rawProvider(mintedA.url, [{ name: "vault" }]);
    await rawProvider(mintedB.url, [{ name: "weather" }]);
    await waitForProviders(a, 1);
    await waitForProviders(b, 1);
    const client = await consumer(mintedB.url);
    await client.handshake();
    expect([...client.tools.keys()]).toEqual(["public__weather"]);
    const refused = (await client.call("secret__vault", {}).catch((error: Error & { rpc?: unknown }) => error)) as Error & { rpc?: any };
    expect(refused.rpc).toMatchObject({ code: -32602, data: { app_code: "tool_not_found" } });
  });

  it("narrows a consumer's tools by the agent's allow/deny, as its sessions are narrowed, from the next list on", async () => {
    const agent = newSessionId("agent-filtered");
    const minted = await mint(agent, "home");
    const called: string[] = [];
    await rawProvider(minted.url, [{ name: "lights" }, { name: "door_unlock" }], (name) => {
      called.push(name);
      return { content: [{ type: "text", text: name }] };
    });
    await waitForProviders(agent, 1);
    const config = `/api/v1/mcp/agents/${encodeURIComponent(agent)}/config`;
    expect((await call(config, { method: "PUT", body: { tools: { deny: ["home__door_unlock"] } } })).status).toBe(200);

    const client = await consumer(minted.url);
    await client.handshake();
    expect([...client.tools.keys()]).toEqual(["home__lights"]);
    // A consumer that calls the name anyway (it listed before the change, or guesses) is refused; the provider never hears it.
    const refused = (await client.call("home__door_unlock", {}).catch((error: Error & { rpc?: unknown }) => error)) as Error & { rpc?: any };
    expect(refused.rpc).toMatchObject({ code: -32602, data: { app_code: "tool_not_found" } });
    expect((await client.call("home__lights", {})).text).toBe("lights");
    expect(called).toEqual(["lights"]);

    // An allow-list narrows the same way; without a config, the agent has its whole catalogue again.
    expect((await call(config, { method: "PUT", body: { tools: { allow: ["home__door_unlock"] } } })).status).toBe(200);
    const listed = async () => ((await client.request("tools/list", {})).result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(await listed()).toEqual(["home__door_unlock"]);
    expect((await call(config, { method: "DELETE" })).status).toBe(200);
    expect(await listed()).toEqual(["home__lights", "home__door_unlock"]);
  });

  it("answers frames that are not JSON-RPC with JSON-RPC errors, stays usable, and bounds calls in flight", async () => {
    const agent = newSessionId("agent");
    const { url } = await mint(agent, "bounded");
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await rawProvider(url, [{ name: "wait" }], async () => {
      await gate;
      return { content: [{ type: "text", text: "done" }] };
    });
    await waitForProviders(agent, 1);
    const client = await consumer(url);
    await client.handshake();
    const errors = () => client.received.filter((frame) => frame.error && frame.id === null);
    for (const bad of ["not json", "[1,2]", '{"jsonrpc":"2.0","id":7}', `{"x":${"[".repeat(200)}${"]".repeat(200)}}`, "42"]) client.sendRaw(bad);
    await waitFor(() => (errors().length >= 4 ? true : undefined), 5000, "error replies");
    expect(client.received.some((frame) => frame.id === 7 && frame.error?.code === -32600)).toBe(true);
    expect(errors().map((frame) => frame.error!.code)).toEqual(expect.arrayContaining([-32700, -32600]));
    for (const frame of client.received.filter((frame) => frame.error)) expect(frame.error!.data.app_code).toBeDefined();
    expect((await client.request("ping", {})).result).toEqual({});
    expect((await client.request("resources/list", {})).error).toMatchObject({ code: -32601 });

    // max_calls_in_flight is 4 in the test config: the fifth is answered at once with rate_limited.
    const held = Array.from({ length: 4 }, () => client.call("bounded__wait", {}));
    await sleep(100);
    const fifth = (await client.call("bounded__wait", {}).catch((error: Error & { rpc?: unknown }) => error)) as Error & { rpc?: any };
    expect(fifth.rpc).toMatchObject({ code: -32008, data: { app_code: "rate_limited" } });
    release!();
    expect((await Promise.all(held)).map((result) => result.text)).toEqual(["done", "done", "done", "done"]);
  });

  it("refuses forged, expired and malformed tokens with 1008, and a request that is no upgrade with 400", async () => {
    const expired = await mintToken("test-endpoint-secret", { sub: "a", iat: 1, exp: 2 });
    const forged = await mintToken("some-other-secret", { sub: "a", iat: 1, exp: 4_000_000_000 });
    for (const [token, reason] of [
      ["", /Missing token/],
      [expired, /expired/],
      [forged, /signature/],
      ["zzzz", /console token/i],
      [bindings.FOREIGN_CONSOLE_TOKEN, /console token/i],
    ] as const) {
      for (const role of ["mcp", "call"]) {
        const ws = await openSocket(`ws://service.test/mcp_endpoint/${role}/?token=${encodeURIComponent(token)}`);
        const event = await new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
        expect(event.code, `${role} ${token}`).toBe(1008);
        expect(event.reason).toMatch(reason);
      }
    }
    expect((await call("/mcp_endpoint/call/?token=x", { token: null })).status).toBe(400);
  });
});

describe("minted URLs", () => {
  it("cannot be minted for ids a URL path cannot carry (`.`, `..`): such ids are refused wherever they enter", async () => {
    const bound = await call(`/api/v1/mcp/sessions/${newSessionId()}/bind`, { body: { device_id: "d", agent_id: ".." } });
    expect(bound.status).toBe(400);
    expect(bound.body.error.message).toMatch(/only dots/);
    expect((await call("/mcp?agent_id=.", { rawBody: "{}", headers: { "content-type": "application/json" } })).status).toBe(400);
  });

  it("carry a warning when the host itself would make xiaozhi-esp32-server refuse them (it contains key or call)", async () => {
    const mintOn = async (host: string) => {
      const response = await exports.default.fetch(
        new Request(`https://${host}/api/v1/mcp/agents/agent-host/endpoint`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: "{}" }),
      );
      expect(response.status).toBe(200);
      return ((await response.json()) as { endpoint: { url: string; warnings?: string[] } }).endpoint;
    };
    const plain = await mintOn("mcp.example.com");
    expect(plain.url).toMatch(/^wss:\/\/mcp\.example\.com\/mcp_endpoint\/mcp\/\?token=[0-9a-f]+\.[0-9a-f]+$/);
    expect(plain.warnings).toBeUndefined();
    for (const host of ["monkey.example.com", "callisto.example.com", "MyKEY.example.com"]) {
      const refused = await mintOn(host);
      expect(consumerUrlOf(refused.url), host).toBeUndefined(); // xiaozhi's own check refuses it
      expect(refused.warnings, host).toEqual([expect.stringMatching(/host contains "key" or "call"/)]);
    }
  });

  it("always pass xiaozhi-esp32-server's check, and their /call/ form is the consumer route (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[\w.:-]{1,40}$/).filter((agent) => !/^\.+$/.test(agent)),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), { nil: undefined }),
        async (agent, provider) => {
          const minted = await mint(agent, provider);
          const dialled = consumerUrlOf(minted.url);
          expect(dialled, minted.url).toBe(minted.consumer_url);
          const client = new XiaozhiConsumer(await openSocket(dialled!), 5_000);
          await client.handshake();
          client.close();
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("manager-console deployments (XIAOZHI_ENDPOINT_KEY)", () => {
  it("accept the console's tokens (made by node:crypto) on /mcp/ and /call/, for the agent they name", async () => {
    // What the console derives: ws://host/<prefix>/mcp/?token=<URL-encoded Base64>, the voice server the /call/ form.
    const token = encodeURIComponent(bindings.CONSOLE_TOKEN);
    await rawProvider(`ws://service.test/mcp_endpoint/mcp/?token=${token}`, [{ name: "calculator" }]);
    await waitForProviders(bindings.CONSOLE_AGENT_MD5, 1);
    const client = new XiaozhiConsumer(await openSocket(`ws://service.test/mcp_endpoint/call/?token=${token}`), 5_000);
    await client.handshake();
    const [name] = client.tools.keys();
    expect(name).toBe("raw__calculator"); // unnamed provider: its serverInfo name
    expect((await client.call(name!, { python_expression: "2*3" })).text).toBe('calculator {"python_expression":"2*3"}');
    client.close();
  });

  it("answer the console's own tool listing (xz-mcp-broker: initialize, then initialized and tools/list with params null)", async () => {
    const token = encodeURIComponent(bindings.CONSOLE_TOKEN);
    const ws = await openSocket(`ws://service.test/mcp_endpoint/call/?token=${token}`);
    const frames: any[] = [];
    ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    // AgentMcpAccessPointServiceImpl.getAgentMcpToolsList, as Jackson writes it (field order jsonrpc, method, params, id).
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "initialize", params: { protocolVersion: "2024-11-05", capabilities: { roots: { listChanged: false }, sampling: {} }, clientInfo: { name: "xz-mcp-broker", version: "0.0.1" } }, id: 1 }));
    await waitFor(() => (frames.some((frame) => frame.id === 1 && frame.result && !("error" in frame)) ? true : undefined), 5000, "initialize answered without an error key");
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "tools/list", params: null, id: 2 }));
    const listed = await waitFor(() => frames.find((frame) => frame.id === 2), 5000, "tools/list answered");
    expect(Number.isInteger(listed.id)).toBe(true);
    expect(Array.isArray(listed.result.tools)).toBe(true);
    ws.close();
  });

  it("answer the health URL the console checks: 200 with `success` for the key, 401 without", async () => {
    const healthy = await call("/mcp_endpoint/health?key=6a369b7f1bcf4d3e8d123ece38bb9627", { token: null });
    expect(healthy.status).toBe(200);
    expect(JSON.stringify(healthy.body)).toContain("success");
    const wrong = await call("/mcp_endpoint/health?key=nope", { token: null });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain("success");
  });
});
