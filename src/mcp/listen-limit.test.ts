/**
 * `subscriptions/listen` over `maxStreams` on one endpoint: refused by the service itself (`rate_limited`, 429),
 * never by the SDK's own limit (an internal error, -32603, HTTP 200, no `app_code`) — even when listens arrive
 * together and their bodies come in late, so that none has its stream yet when the next is counted.
 */
import { describe, expect, it } from "vitest";
import { ok } from "../core/errors";
import { McpEndpoint, type McpEndpointCore } from "./mcp-endpoint";

const MAX = 2;
const core: McpEndpointCore = { tools: async () => ok({ tools: [] }), execute: async () => ok({ success: true, action: "none", result: "" }) };
const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "c", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };

/** A listen whose body is held back until `release()`. */
function slowListen(id: number): { request: Request; release: () => void } {
  const body = new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", id, method: "subscriptions/listen", params: { notifications: { toolsListChanged: true }, _meta: envelope } }));
  let release = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      release = () => {
        controller.enqueue(body);
        controller.close();
      };
    },
  });
  const request = new Request("http://service.test/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "subscriptions/listen" },
    body: stream,
    duplex: "half",
  } as RequestInit);
  return { request, release: () => release() };
}

describe("subscriptions/listen over maxStreams", () => {
  it("refuses the listens beyond the limit with rate_limited, however late their bodies come", async () => {
    const endpoint = new McpEndpoint({ serverInfo: { name: "s", version: "1" }, toolsTtlMs: 1_000, keepAliveMs: 60_000, maxStreams: MAX });
    const listens = Array.from({ length: 5 }, (_, i) => slowListen(i + 1));
    const answers = listens.map(({ request }) => endpoint.serve(request, core));
    for (const { release } of listens) release();
    const responses = await Promise.all(answers);

    const streams = responses.filter((response) => response.headers.get("content-type")?.includes("text/event-stream"));
    expect(streams).toHaveLength(MAX);
    const refused = await Promise.all(responses.filter((response) => !streams.includes(response)).map(async (response) => ({ status: response.status, body: await response.json() })));
    for (const { status, body } of refused) {
      expect(status).toBe(429);
      expect(body).toMatchObject({ jsonrpc: "2.0", error: { data: { app_code: "rate_limited" } } });
    }

    // A client letting go frees its place.
    await streams[0]?.body?.cancel();
    const next = slowListen(9);
    const answer = endpoint.serve(next.request, core);
    next.release();
    expect((await answer).headers.get("content-type")).toContain("text/event-stream");
    await endpoint.close();
  });
});
