/**
 * The MCP endpoint (接入点) as an unmodified xiaozhi-esp32-server deployment uses it, under a real
 * `wrangler dev`: providers that behave like mcp_pipe (processes with a reconnect loop, a stdio server behind
 * each), and xiaozhi's consumer (test/fixtures/xiaozhi-consumer.ts) dialling what xiaozhi makes of the
 * configured URL, over a real WebSocket — with minted URLs, and with the manager console's tokens made by
 * node:crypto.
 */
import { createCipheriv, createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerUrlOf, XiaozhiConsumer } from "../fixtures/xiaozhi-consumer";
import { eventually, fresh, Peer, Service, stopPeers } from "./support";

const CONSOLE_KEY = "0123456789abcdef0123456789abcdef";
const service = new Service({ providers: { call_timeout_ms: 10_000, ping_after_ms: 1_000, ping_timeout_ms: 500 } }, { XIAOZHI_ENDPOINT_KEY: CONSOLE_KEY });

beforeAll(() => service.start());
afterAll(async () => {
  await stopPeers();
  await service.dispose();
});

/** What xiaozhi-esp32-server does with `mcp_endpoint`: validate, rewrite `/mcp/` → `/call/`, dial, handshake. */
async function xiaozhi(mcpEndpoint: string): Promise<XiaozhiConsumer> {
  const url = consumerUrlOf(mcpEndpoint);
  if (!url) throw new Error(`xiaozhi-esp32-server refuses ${mcpEndpoint}`);
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", () => reject(new Error(`cannot open ${url}`)));
  });
  const consumer = new XiaozhiConsumer(ws, 15_000);
  await consumer.handshake();
  return consumer;
}

async function providersReady(agent: string, count: number) {
  await eventually(
    async () => {
      const listed = (await service.api(`/api/v1/mcp/agents/${agent}/providers`)).body.providers as { phase: string }[];
      return listed.length === count && listed.every((provider) => provider.phase === "ready") ? true : undefined;
    },
    20_000,
    `${count} providers of ${agent}`,
  );
}

/** The manager console's per-agent provider URL, as its Java derives it (token made by node:crypto). */
function consoleUrl(agentId: string): { url: string; md5: string } {
  const md5 = createHash("md5").update(agentId).digest("hex");
  const cipher = createCipheriv("aes-256-ecb", Buffer.from(CONSOLE_KEY), null);
  const token = Buffer.concat([cipher.update(`{"agentId": "${md5}"}`), cipher.final()]).toString("base64");
  return { url: `${service.url.replace(/^http/, "ws")}/mcp_endpoint/mcp/?token=${encodeURIComponent(token)}`, md5 };
}

describe("xiaozhi-esp32-server's consumer with mcp_pipe-like providers", () => {
  it("aggregates two providers of one agent and routes each call to the tool it named", async () => {
    const agent = fresh("agent");
    const minted = (await service.api(`/api/v1/mcp/agents/${agent}/endpoint`, {})).body.endpoint;
    expect(minted.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mcp_endpoint\/mcp\/\?token=[0-9a-f]+\.[0-9a-f]{64}$/);
    // config mode of mcp_pipe: one connection per server, all to the same URL.
    new Peer("provider-pipe.ts", [minted.url], { SERVER_NAME: "Calculator", TOOLS: "calculator" });
    new Peer("provider-pipe.ts", [minted.url], { SERVER_NAME: "HomeAssistant", TOOLS: "打开灯,get.state" });
    await providersReady(agent, 2);

    const consumer = await xiaozhi(minted.url);
    expect([...consumer.tools.keys()].sort()).toEqual(["Calculator__calculator", "HomeAssistant__da_kai_deng", "HomeAssistant__get_state"]);
    expect((await consumer.call("Calculator__calculator", { python_expression: "1+2" })).text).toBe('calculator {"python_expression":"1+2"}');
    expect((await consumer.call("HomeAssistant__da_kai_deng", { room: "卧室" })).text).toBe('打开灯 {"room":"卧室"}');
    expect((await consumer.call("HomeAssistant__get_state", {})).text).toBe("get.state {}");
    consumer.close();
  });

  it("fails a call at once when its provider process is killed mid-call, and serves it again once mcp_pipe reconnects", async () => {
    const agent = fresh("agent");
    const minted = (await service.api(`/api/v1/mcp/agents/${agent}/endpoint`, { provider: "slowpoke" })).body.endpoint;
    const pipe = new Peer("provider-pipe.ts", [minted.url], { TOOLS: "slow,echo" });
    await providersReady(agent, 1);
    const consumer = await xiaozhi(minted.url);
    const started = Date.now();
    const pending = consumer.call("slowpoke__slow", { ms: 60_000 }).catch((error: Error & { rpc?: any }) => error);
    await new Promise((resolve) => setTimeout(resolve, 500));
    pipe.signal("SIGKILL");
    const failed = (await pending) as Error & { rpc?: any };
    expect(failed.rpc?.data?.app_code).toBe("device_unavailable");
    expect(Date.now() - started).toBeLessThan(10_000);

    // The provider comes back (its supervisor restarts mcp_pipe); the consumer's next call, on the same
    // connection, reaches it.
    new Peer("provider-pipe.ts", [minted.url], { TOOLS: "slow,echo" });
    await providersReady(agent, 1);
    expect((await consumer.call("slowpoke__echo", { back: true })).text).toBe('echo {"back":true}');
    consumer.close();
  });

  it("accepts the manager console's URLs: its tokens on /mcp/ and /call/, and its health URL", async () => {
    const health = await fetch(`${service.url}/mcp_endpoint/health?key=${CONSOLE_KEY}`);
    expect(health.status).toBe(200);
    expect(await health.text()).toContain("success");

    const { url, md5 } = consoleUrl("1001");
    new Peer("provider-pipe.ts", [url], { SERVER_NAME: "Calculator", TOOLS: "calculator" });
    await providersReady(md5, 1);
    // The console hands the voice server the /call/ form itself (ConfigServiceImpl): the same URL results.
    const consumer = await xiaozhi(url);
    expect([...consumer.tools.keys()]).toEqual(["Calculator__calculator"]);
    expect((await consumer.call("Calculator__calculator", { python_expression: "6*7" })).text).toBe('calculator {"python_expression":"6*7"}');
    consumer.close();

    // Another console's token (another key) is refused with 1008.
    const otherConsole = createCipheriv("aes-256-ecb", Buffer.from("ffffffffffffffffffffffffffffffff"), null);
    const foreign = Buffer.concat([otherConsole.update(`{"agentId": "${md5}"}`), otherConsole.final()]).toString("base64");
    const ws = new WebSocket(`${service.url.replace(/^http/, "ws")}/mcp_endpoint/call/?token=${encodeURIComponent(foreign)}`);
    const closed = await new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
    expect(closed.code).toBe(1008);
  });
});
