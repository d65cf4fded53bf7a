/**
 * Real peers and real faults under a real `wrangler dev`: tool providers that behave like xiaozhi's mcp_pipe
 * (a WebSocket to the minted URL, a stdio MCP server behind it, a reconnect loop), a gateway with its device in
 * a process of its own, both killed (SIGKILL) and frozen (SIGSTOP) mid-call, and the runtime itself stopped
 * and started again on the same persisted state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, fresh, Peer, Service, stopPeers, TOKEN } from "./support";

const service = new Service({
  device: { call_timeout_ms: 10_000, list_timeout_ms: 5_000 },
  providers: { call_timeout_ms: 10_000, ping_after_ms: 1_000, ping_timeout_ms: 500 },
});

beforeAll(() => service.start());
afterAll(async () => {
  await stopPeers();
  await service.dispose();
});

async function mint(agent: string, provider?: string): Promise<string> {
  const minted = await service.api(`/api/v1/mcp/agents/${agent}/endpoint`, provider ? { provider } : {});
  expect(minted.status, JSON.stringify(minted.body)).toBe(200);
  return minted.body.endpoint.url;
}

/** A provider (mcp_pipe-like) serving `tools` as `serverName`; `once`: it does not reconnect. */
function provider(url: string, tools: string[], options: { serverName?: string; once?: boolean } = {}): Peer {
  return new Peer("provider-pipe.ts", options.once ? [url, "--once"] : [url], { TOOLS: tools.join(","), SERVER_NAME: options.serverName ?? "home" });
}

async function bind(sessionId: string, body: Record<string, unknown> = {}) {
  const bound = await service.api(`/api/v1/mcp/sessions/${sessionId}/bind`, { device_id: "aa:bb:cc:dd:ee:ff", ...body });
  expect(bound.status, JSON.stringify(bound.body) + service.output()).toBe(200);
}

const waitForTools = (sessionId: string, names: string[], timeoutMs = 15_000) =>
  eventually(
    async () => {
      const listed = await service.toolNames(sessionId);
      return names.every((name) => listed.includes(name)) ? listed : undefined;
    },
    timeoutMs,
    `${names.join(", ")} listed`,
  );

const execute = (sessionId: string, tool: string, args: Record<string, unknown> = {}) =>
  service.api(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { session_id: sessionId, arguments: args });

describe("dial-in providers (mcp_pipe-like processes)", () => {
  it("gives tools whose names collide once sanitized one name each, and each name runs its own tool", async () => {
    const agent = fresh("agent");
    const tools = ["打开灯", "关闭灯", "echo", "get.time", "get_time", "status"];
    provider(await mint(agent), tools, { once: true });
    const session = fresh("names");
    await bind(session, { agent_id: agent });
    const listed = await waitForTools(session, ["home__da_kai_deng", "home__get_time", "home__status"]);
    const offered = listed.filter((name) => name.startsWith("home__"));
    expect(offered).toHaveLength(tools.length);
    for (const name of offered) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);

    const ran = async (name: string) => (await execute(session, name, { n: 1 })).body.result;
    expect(await ran("home__echo")).toBe('echo {"n":1}');
    expect(await ran("home__get_time")).toBe('get_time {"n":1}');
    expect(await ran("home__da_kai_deng")).toBe('打开灯 {"n":1}');
    expect(await ran("home__guan_bi_deng")).toBe('关闭灯 {"n":1}');
    expect(await ran("home__status")).toBe('status {"n":1}');
    const dotted = offered.find((name) => /^home__get_time_[0-9a-f]{8}$/.test(name));
    expect(dotted).toBeDefined();
    expect(await ran(dotted!)).toBe('get.time {"n":1}');
    // The description keeps the original name of a transliterated one.
    const described = (await service.api(`/api/v1/mcp/tools?session_id=${session}`)).body.tools.find((tool: { name: string }) => tool.name === "home__da_kai_deng");
    expect(described.description).toMatch(/^\[打开灯\]/);
  });

  it("fails a call in flight at once when its provider process is killed (SIGKILL)", async () => {
    const agent = fresh("agent");
    const pipe = provider(await mint(agent, "killme"), ["slow", "echo"], { once: true });
    const session = fresh("kill");
    await bind(session, { agent_id: agent });
    await waitForTools(session, ["killme__slow"]);
    const pending = execute(session, "killme__slow", { ms: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    pipe.signal("SIGKILL");
    const result = await pending;
    expect(result.status, JSON.stringify(result.body)).toBe(503);
    expect(result.body.error.code).toBe("device_unavailable");
    expect(result.elapsed).toBeLessThan(10_000); // the provider call timeout: not waited for
    await eventually(async () => ((await service.toolNames(session)).includes("killme__echo") ? undefined : true), 5_000, "tools gone");
  });

  it("hides a frozen provider's tools (SIGSTOP: it stops answering ping) and brings them back when it thaws", async () => {
    const agent = fresh("agent");
    const pipe = provider(await mint(agent, "frozen"), ["echo"]);
    const session = fresh("freeze");
    await bind(session, { agent_id: agent });
    await waitForTools(session, ["frozen__echo"]);
    pipe.signal("SIGSTOP");
    try {
      // Silent for longer than ping_after_ms: the next listing pings it, and it does not answer.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      await eventually(async () => ((await service.toolNames(session)).includes("frozen__echo") ? undefined : true), 10_000, "frozen tools hidden");
      const providers = (await service.api(`/api/v1/mcp/agents/${agent}/providers`)).body.providers;
      expect(providers).toEqual([expect.objectContaining({ name: "frozen", attached: true, responsive: false })]);
      const refused = await execute(session, "frozen__echo");
      expect(refused.status).toBe(404); // not offered: the LLM was not given the name
    } finally {
      pipe.signal("SIGCONT");
    }
    await waitForTools(session, ["frozen__echo"]);
    expect((await execute(session, "frozen__echo", { back: true })).body.result).toBe('echo {"back":true}');
  });

  it("keeps every tool's name when another provider with the same serverInfo name leaves", async () => {
    const agent = fresh("agent");
    const url = await mint(agent); // no provider name: named after serverInfo
    const first = provider(url, ["calculator"], { serverName: "Calculator", once: true });
    const session = fresh("shift");
    await bind(session, { agent_id: agent });
    await waitForTools(session, ["Calculator__calculator"]);
    provider(url, ["calculator"], { serverName: "Calculator", once: true });
    await waitForTools(session, ["Calculator__calculator", "Calculator_2__calculator"]);
    first.signal("SIGKILL");
    await eventually(async () => ((await service.toolNames(session)).includes("Calculator__calculator") ? undefined : true), 5_000, "first gone");
    expect(await service.toolNames(session)).toContain("Calculator_2__calculator");
    expect((await execute(session, "Calculator_2__calculator", { expr: "1+1" })).body.result).toBe('calculator {"expr":"1+1"}');
    expect((await execute(session, "Calculator__calculator", {})).status).toBe(404);
  });

  it("lets a provider reconnect under its name while its old socket is still open (old one closed with 4001)", async () => {
    const agent = fresh("agent");
    const url = await mint(agent, "home");
    const session = fresh("reconnect");
    await bind(session, { agent_id: agent });
    const old = provider(url, ["echo"], { once: true });
    await waitForTools(session, ["home__echo"]);
    for (let round = 0; round < 3; round += 1) {
      const next = provider(url, ["echo"], { once: true });
      await next.waitForOutput(/connected/);
      await old.waitForOutput(/closed 4001/).catch(() => undefined);
      await waitForTools(session, ["home__echo"]);
      expect((await execute(session, "home__echo", { round })).body.result).toBe(`echo {"round":${round}}`);
    }
    expect(old.output).toMatch(/closed 4001/);
    const providers = (await service.api(`/api/v1/mcp/agents/${agent}/providers`)).body.providers;
    expect(providers).toEqual([expect.objectContaining({ name: "home", attached: true, responsive: true })]);
  });
});

describe("device relays", () => {
  it("fails a device call in flight at once when the gateway process is killed (SIGKILL)", async () => {
    const session = fresh("device-kill");
    await bind(session);
    const gateway = new Peer("device-relay.ts", [service.url, TOKEN, session], { CALL_DELAY_MS: "8000" });
    await gateway.waitForOutput(/relay open/);
    await waitForTools(session, ["self_get_device_status"]);
    const pending = execute(session, "self_get_device_status");
    await new Promise((resolve) => setTimeout(resolve, 500));
    gateway.signal("SIGKILL");
    const result = await pending;
    expect(result.status, JSON.stringify(result.body)).toBe(503);
    expect(result.body.error.code).toBe("device_unavailable");
    expect(result.elapsed).toBeLessThan(8_000);
  });

  it("names device tools that collide once sanitized apart, each running its own tool", async () => {
    const session = fresh("device-names");
    await bind(session);
    const gateway = new Peer("device-relay.ts", [service.url, TOKEN, session]);
    await gateway.waitForOutput(/relay open/);
    const listed = await waitForTools(session, ["self_a_b"]);
    const suffixed = listed.find((name) => /^self_a_b_[0-9a-f]{8}$/.test(name));
    expect(suffixed).toBeDefined();
    expect((await execute(session, "self_a_b")).body.result).toBe("ran self.a_b");
    expect((await execute(session, suffixed!)).body.result).toBe("ran self.a.b");
  });

  it("notices an SSE relay whose gateway went away in about a second, not half a minute", async () => {
    const session = fresh("sse");
    await bind(session);
    const gone = new AbortController();
    const stream = await fetch(`${service.url}/api/v1/mcp/sessions/${session}/device/events`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: gone.signal });
    await stream.body!.getReader().read();
    expect((await service.api(`/api/v1/mcp/sessions/${session}`)).body.relay.attached).toBe(true);
    const started = Date.now();
    gone.abort();
    await eventually(async () => ((await service.api(`/api/v1/mcp/sessions/${session}`)).body.relay.attached ? undefined : true), 10_000, "relay detached");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("the runtime restarted on the same persisted state", () => {
  it("shows and offers nothing that died with it, and a provider that reconnects gets its names back", async () => {
    const agent = fresh("agent");
    const session = fresh("restart");
    await bind(session, { agent_id: agent });
    const survivor = provider(await mint(agent, "calc"), ["add", "打开灯"]); // reconnects, like mcp_pipe
    const casualty = provider(await mint(agent, "gone"), ["echo"], { once: true }); // does not come back
    const gateway = new Peer("device-relay.ts", [service.url, TOKEN, session]); // exits when its relay closes
    await gateway.waitForOutput(/relay open/);
    const before = await waitForTools(session, ["calc__add", "calc__da_kai_deng", "gone__echo", "self_get_device_status"]);

    await service.stop();
    await Promise.all([casualty.exited, gateway.exited]);
    await service.start();

    // Straight after the restart: the device relay and the provider that did not come back are gone.
    const view = await service.api(`/api/v1/mcp/sessions/${session}`);
    expect(view.status, service.output()).toBe(200);
    expect(view.body.relay).toMatchObject({ attached: false, phase: "detached" });
    const after = await service.toolNames(session);
    expect(after.filter((name) => name.startsWith("self_") || name.startsWith("gone__"))).toEqual([]);
    expect((await execute(session, "self_get_device_status")).status).toBe(503); // known tool, no relay: not a ghost call
    expect((await execute(session, "gone__echo")).status).toBe(404);
    const providers = (await service.api(`/api/v1/mcp/agents/${agent}/providers`)).body.providers;
    expect(providers.map((entry: { name: string }) => entry.name)).not.toContain("gone");

    // The provider that reconnects gets the very names it had.
    const back = await waitForTools(session, ["calc__add", "calc__da_kai_deng"], 20_000).catch(async (error: Error) => {
      const state = await service.api(`/api/v1/mcp/agents/${agent}/providers`);
      throw new Error(`${error.message}\nprovider: ${survivor.output}\nproviders: ${JSON.stringify(state.body)}\n${service.output()}`);
    });
    expect(back.filter((name) => name.startsWith("calc__"))).toEqual(before.filter((name) => name.startsWith("calc__")));
    expect((await execute(session, "calc__add", { a: 1 })).body.result).toBe('add {"a":1}');
    survivor.signal("SIGKILL");
  });
});
