/**
 * A flood of notification streams on one MCP endpoint: `mcp.max_streams` (3 in this project's config) of each
 * era are held, the next is refused with the service's own error (`rate_limited`, as a JSON-RPC error with
 * `data.app_code`), and a stream its client lets go frees its place.
 */
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, bind, newSessionId, TOKEN } from "../support/api";
import { waitFor } from "../support/wait";

const MAX_STREAMS = 3;
const open: ReadableStreamDefaultReader<Uint8Array>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((reader) => reader.cancel().catch(() => undefined)));
});

const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "flood", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} };
let ids = 0;

/** A 2026-07-28 `subscriptions/listen` on `path`. */
function listen(path: string): Promise<Response> {
  return exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "subscriptions/listen",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: (ids += 1), method: "subscriptions/listen", params: { notifications: { toolsListChanged: true }, _meta: envelope } }),
    }),
  );
}

/** A 2025-era notification stream (GET) on `path`. */
function legacyStream(path: string): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" } }));
}

/** Holds the stream open (its reader is cancelled after the test). */
function hold(response: Response): ReadableStreamDefaultReader<Uint8Array> {
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  open.push(reader);
  return reader;
}

async function refusal(response: Response) {
  return { status: response.status, body: (await response.json()) as { error?: { code: number; message: string; data?: { app_code?: string } } } };
}

describe.each([
  { era: "2026-07-28 subscriptions/listen", openStream: listen },
  { era: "2025 GET stream", openStream: legacyStream },
])("$era on a session's endpoint", ({ openStream }) => {
  it(`holds ${MAX_STREAMS}, refuses the next with rate_limited, and takes one again once a client lets go`, async () => {
    const id = newSessionId("flood");
    await bind(id);
    const path = `/api/v1/mcp/sessions/${id}/mcp`;
    const readers = [];
    for (let i = 0; i < MAX_STREAMS; i += 1) readers.push(hold(await openStream(path)));

    const refused = await refusal(await openStream(path));
    expect(refused.body.error?.data?.app_code, JSON.stringify(refused.body)).toBe("rate_limited");
    expect(refused.body.error?.message).toMatch(/stream|subscription/i);

    // Another session's endpoint is not affected.
    const other = newSessionId("flood-other");
    await bind(other);
    hold(await openStream(`/api/v1/mcp/sessions/${other}/mcp`));

    await readers[0]?.cancel();
    const again = await waitFor(async () => {
      const response = await openStream(path);
      if (response.headers.get("content-type")?.includes("text/event-stream")) return response;
      await response.body?.cancel();
      return undefined;
    }, 5_000, "a freed stream slot");
    hold(again);
  });
});

describe("a burst of 2026-07-28 listens at once", () => {
  it(`opens exactly ${MAX_STREAMS} and refuses every other one with rate_limited, none with the SDK's internal error`, async () => {
    const id = newSessionId("burst");
    await bind(id);
    const responses = await Promise.all(Array.from({ length: 10 }, () => listen(`/api/v1/mcp/sessions/${id}/mcp`)));
    const streams = responses.filter((response) => response.headers.get("content-type")?.includes("text/event-stream"));
    for (const stream of streams) hold(stream);
    const refused = await Promise.all(responses.filter((response) => !streams.includes(response)).map(refusal));
    expect(streams).toHaveLength(MAX_STREAMS);
    expect(refused.map(({ status, body }) => `${status} ${body.error?.data?.app_code}`)).toEqual(Array(10 - MAX_STREAMS).fill("429 rate_limited"));
  });
});
