/**
 * The OpenAPI examples are what the real worker answers: each is replayed in order against it (timestamps
 * aside; the tool list example is a subset of the real list). docs/integration.md quotes these examples.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AnyRouteSpec } from "../../src/http/openapi/spec";
import { ROUTES } from "../../src/http/routes";
import { BASE, TOKEN } from "../support/api";

const route = (operationId: string): AnyRouteSpec => {
  const found = ROUTES.find((candidate) => candidate.operationId === operationId);
  if (!found) throw new Error(`no route ${operationId}`);
  return found;
};

/** The request an example describes: path params substituted, tRPC query input as JSON text. */
function requestOf(spec: AnyRouteSpec): Request {
  const examples = spec.examples ?? {};
  const params = (examples.params ?? {}) as Record<string, string>;
  const path = spec.path.replace(/\{(\w+)\}/g, (_all, name: string) => encodeURIComponent(params[name] ?? ""));
  const url = new URL(path, BASE);
  for (const [name, value] of Object.entries((examples.query ?? {}) as Record<string, unknown>)) {
    url.searchParams.set(name, spec.protocol === "trpc" ? JSON.stringify(value) : String(value));
  }
  const headers: Record<string, string> = spec.public ? {} : { authorization: `Bearer ${TOKEN}` };
  if (examples.body !== undefined) headers["content-type"] = "application/json";
  const body = examples.body === undefined ? undefined : JSON.stringify(examples.body);
  return new Request(url, { method: spec.method.toUpperCase(), headers, body });
}

const TIMESTAMPS = new Set(["created_at", "updated_at", "expires_at"]);
function withoutTimestamps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimestamps);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !TIMESTAMPS.has(key)).map(([key, v]) => [key, withoutTimestamps(v)]));
}

async function replay(operationId: string): Promise<{ status: number; body: unknown; expected: unknown }> {
  const spec = route(operationId);
  const response = await exports.default.fetch(requestOf(spec));
  return { status: response.status, body: await response.json(), expected: spec.examples?.response };
}

describe("OpenAPI examples replayed against the worker", () => {
  // Order matters: bind first, unbind last, as a gateway does.
  it.each(["getHealth", "getReadiness", "bindSession", "getSession", "executeTool", "postDeviceFrames", "trpcBindSession", "trpcGetSession", "trpcExecuteTool", "trpcHandleXiaoZhiMessage"])(
    "%s answers its example",
    async (operationId) => {
      const { status, body, expected } = await replay(operationId);
      expect(status).toBe(200);
      expect(withoutTimestamps(body)).toEqual(withoutTimestamps(expected));
    },
  );

  it.each(["getTools", "trpcGetTools"])("%s lists the example's tools exactly as documented", async (operationId) => {
    const { status, body, expected } = await replay(operationId);
    expect(status).toBe(200);
    const tools = (value: unknown) => ((value as { result?: { data: unknown } }).result?.data ?? value) as { tools: { name: string }[] };
    for (const tool of tools(expected).tools) expect(tools(body).tools.find((live) => live.name === tool.name)).toEqual(tool);
  });

  it.each(["mintProviderEndpoint", "listProviders"])("%s answers in its example's shape (tokens and times differ)", async (operationId) => {
    const { status, body } = await replay(operationId);
    expect(status).toBe(200);
    expect(route(operationId).response.schema?.safeParse(body).success).toBe(true);
  });

  it("getMetrics answers Prometheus text of the documented content type", async () => {
    const response = await exports.default.fetch(requestOf(route("getMetrics")));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(route("getMetrics").response.contentType);
    expect(await response.text()).toMatch(/^# (HELP|TYPE) /m);
  });

  it("listServers answers in the example's shape (no servers are configured in the tests)", async () => {
    const { status, body } = await replay("listServers");
    expect(status).toBe(200);
    expect(route("listServers").response.schema?.parse(body)).toEqual({ servers: [] });
  });

  it.each(["sharedMcpPost", "sessionMcpPost"])("%s initializes as its example shows", async (operationId) => {
    if (operationId === "sessionMcpPost") await replay("bindSession");
    const request = requestOf(route(operationId));
    request.headers.set("accept", "application/json, text/event-stream");
    const response = await exports.default.fetch(request);
    expect(response.status).toBe(200);
    // Stateless: no MCP session is opened, so no id is issued.
    expect(response.headers.get("mcp-session-id")).toBeNull();
    const text = await response.text();
    // The SDK answers as SSE when the client accepts it: one `data:` line carries the JSON-RPC response.
    const data = /^data: (.*)$/m.exec(text)?.[1] ?? text;
    expect(JSON.parse(data)).toEqual(route(operationId).examples?.response);
  });

  it("attachDeviceEvents streams the example's first frames", async () => {
    const response = await exports.default.fetch(requestOf(route("attachDeviceEvents")));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const expected = route("attachDeviceEvents").examples?.response as string;
    const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (text.length < expected.length) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    expect(text.slice(0, expected.length)).toBe(expected);
  });

  it.each(["unbindSession", "trpcUnbindSession"])("%s answers its example", async (operationId) => {
    await replay("bindSession");
    const { status, body, expected } = await replay(operationId);
    expect(status).toBe(200);
    expect(body).toEqual(expected);
  });
});
