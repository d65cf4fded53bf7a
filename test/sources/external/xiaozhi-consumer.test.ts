/**
 * The consumer route of the xiaozhi endpoint with `xiaozhi_endpoint.expose_external` on: the deployment's
 * external MCP servers are offered next to the agent's providers, and their results reach the consumer as the
 * upstream gave them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { newSessionId } from "../../support/api";
import { closePeers, consumer, mintEndpoint, rawProvider, waitForProviders } from "../dial-in/support";

afterEach(closePeers);

/** A consumer of a fresh URL of `agent`. */
async function consumerOf(agent: string) {
  return consumer((await mintEndpoint(agent)).url, 10_000);
}

describe("xiaozhi consumer with external servers exposed", () => {
  it("lists the external tools and calls them, results as the upstream gave them", async () => {
    const client = await consumerOf(newSessionId("agent"));
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
    const client = await consumer(url, 10_000);
    await client.handshake();
    const names = [...client.tools.keys()];
    expect(names[0]).toBe("home__lights");
    expect(names).toEqual(expect.arrayContaining(["home__lights", "mcp_alpha_search", "mcp_weather"]));
    expect(new Set(names).size).toBe(names.length);
    expect((await client.call("home__lights", { on: true })).text).toBe('lights {"on":true}');
    expect((await client.call("mcp_weather", { city: "Wuhan" })).result.structuredContent).toMatchObject({ city: "Wuhan" });
  });
});
