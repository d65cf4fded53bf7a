/**
 * `/mcp` (no agent) has no device and no providers: its catalogue changes when an external server's tool list
 * does. Its notification streams' objects follow every configured server, so MCP clients of both eras listening
 * there hear `notifications/tools/list_changed` when an upstream adds a tool, and then list it.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, TOKEN } from "../../support/api";
import { control, eventually, modernStats, session, tools } from "./support";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((close) => close().catch(() => undefined)));
});

describe("the shared endpoint's list_changed", () => {
  it("reaches clients of every era on /mcp when an upstream's tool list changes", async () => {
    // The upstream object learns of the change on its listen stream: make sure it exists first.
    await tools(await session());
    await eventually(async () => ((await modernStats("vega")).listeners > 0 ? true : undefined), 10_000, "vega's listen stream");

    const clients = await Promise.all(
      (["legacy", "auto", { pin: "2026-07-28" }] as const).map(async (mode) => {
        const changes = { count: 0 };
        const client = new ClientV2(
          { name: "shared-changes", version: "1" },
          { versionNegotiation: { mode }, listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: () => void (changes.count += 1) } } },
        );
        await client.connect(
          new TransportV2(new URL(`${BASE}/mcp`), { fetch: (url, init) => exports.default.fetch(new Request(url, init)), requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }),
        );
        cleanup.push(() => client.close());
        return { client, changes };
      }),
    );
    // Each client's stream object has asked the servers to tell it (right after it opened).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const tool = `vega_shared_${Date.now()}`;
    expect((await control(`/vega/add-tool?name=${tool}`)).status).toBe(200);
    for (const { changes } of clients) await eventually(async () => (changes.count >= 1 ? true : undefined), 10_000, "list_changed on /mcp");
    // The new list is there for listing within the server's revalidation window (1 s for vega).
    for (const { client } of clients) {
      await eventually(
        async () => ((await client.listTools(undefined, { cacheMode: "bypass" })).tools.some((listed) => listed.name === `mcp_${tool}`) ? true : undefined),
        10_000,
        "the new tool on /mcp",
      );
    }
  });
});
