/**
 * The consumer route of the xiaozhi endpoint with `xiaozhi_endpoint.expose_external` on: the deployment's
 * external MCP servers are offered next to the agent's providers, and their results reach the consumer as the
 * upstream gave them.
 */
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { consumerUrlOf, XiaozhiConsumer } from "../../fixtures/xiaozhi-consumer";
import { call, newSessionId } from "../../support/api";
import { closePeers, consumer as dialConsumer, mintEndpoint, rawProvider, waitForProviders } from "../dial-in/support";

afterEach(closePeers);

async function consumer(agent: string): Promise<XiaozhiConsumer> {
  const minted = await call(`/api/v1/mcp/agents/${agent}/endpoint`, { body: {} });
  expect(minted.status).toBe(200);
  const response = await exports.default.fetch(new Request(consumerUrlOf(minted.body.endpoint.url)!.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } }));
  response.webSocket!.accept();
  return new XiaozhiConsumer(response.webSocket!, 10_000);
}

describe("xiaozhi consumer with external servers exposed", () => {
  it("lists the external tools and calls them, results as the upstream gave them", async () => {
    const client = await consumer(newSessionId("agent"));
    await client.handshake();
    expect([...client.tools.keys()]).toEqual(expect.arrayContaining(["mcp_alpha_search", "mcp_b_search", "mcp_weather"]));
    const weather = await client.call("mcp_weather", { city: "Hangzhou" });
    expect(weather.result.structuredContent).toEqual({ city: "Hangzhou", celsius: 21.5, tags: ["sunny", "calm"] });
    const failed = (await client.call("mcp_fail", {}).catch((error: Error & { result?: unknown }) => error)) as Error & { result?: any };
    expect(failed.result).toMatchObject({ isError: true, error: "the tool failed on purpose" });
    client.close();
  });

  it("lists the agent's providers and the external servers in one list, providers first, and routes each call to its owner", async () => {
    const agent = newSessionId("agent-both");
    const { url } = await mintEndpoint(agent, { provider: "home" });
    await rawProvider(url, [{ name: "lights" }], (name, args) => ({ content: [{ type: "text", text: `${name} ${JSON.stringify(args)}` }] }));
    await waitForProviders(agent, 1);
    const client = await dialConsumer(url, 10_000);
    await client.handshake();
    const names = [...client.tools.keys()];
    expect(names[0]).toBe("home__lights");
    expect(names).toEqual(expect.arrayContaining(["home__lights", "mcp_alpha_search", "mcp_weather"]));
    expect(new Set(names).size).toBe(names.length);
    expect((await client.call("home__lights", { on: true })).text).toBe('lights {"on":true}');
    expect((await client.call("mcp_weather", { city: "Wuhan" })).result.structuredContent).toMatchObject({ city: "Wuhan" });
  });
});
