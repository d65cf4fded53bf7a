/**
 * The one-POST call against a real HTTP server that answers as upstreams do (JSON, SSE with notifications and
 * priming events first, errors, streams cut short): what the wire says is what the caller learns.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needsSdkCall, postToolCall } from "./direct-post";
import type { UpstreamRoute, UpstreamTarget, UpstreamTool } from "./upstream-model";

type Script = (request: { headers: IncomingMessage["headers"]; body: { id: number; params: Record<string, unknown> } }, res: ServerResponse) => void;
let script: Script = () => undefined;
let seen: { headers: IncomingMessage["headers"]; body: { id: number; params: Record<string, unknown> } } | undefined;
const server = createServer((req, res) => {
  let text = "";
  req.on("data", (chunk) => (text += chunk));
  req.on("end", () => {
    seen = { headers: req.headers, body: JSON.parse(text) };
    script(seen, res);
  });
});
let url = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const target = (): UpstreamTarget => ({ name: "up", url, transport: "streamable-http", headers: { authorization: "Bearer t" }, timeout_ms: 2_000, connect_timeout_ms: 2_000 });
const modern: UpstreamRoute = { era: "modern", protocol_version: "2026-07-28", discover: {} };
const legacy: UpstreamRoute = { era: "legacy", protocol_version: "2025-06-18", session_id: "s-1" };
const tool = (name = "echo", inputSchema: UpstreamTool["inputSchema"] = { type: "object" }): UpstreamTool => ({ name, description: "", inputSchema });
const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
const sse = (res: ServerResponse, events: string[], end = true) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const event of events) res.write(event);
  if (end) res.end();
};
const result = (id: number, text = "hi") => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } });

describe("postToolCall", () => {
  it("sends a 2026-07-28 request: headers, envelope, the tool's name base64-encoded when not plain ASCII", async () => {
    script = ({ body }, res) => json(res, 200, result(body.id));
    const called = await postToolCall(target(), modern, tool("天气"), { city: "北京" }, 1_000);
    expect(called).toEqual({ ok: true, value: { content: [{ type: "text", text: "hi" }] } });
    expect(seen?.headers).toMatchObject({ "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", authorization: "Bearer t" });
    expect(seen?.headers["mcp-name"]).toBe(`=?base64?${Buffer.from("天气").toString("base64")}?=`);
    expect(seen?.body.params).toMatchObject({ name: "天气", arguments: { city: "北京" }, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } });
    expect(seen?.headers["mcp-session-id"]).toBeUndefined();
  });

  it("sends a 2025 request on the shared session, and reads the answer after notifications and a priming event", async () => {
    script = ({ body }, res) =>
      sse(res, [
        "id: 0\ndata: \n\n",
        `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } })}\n\n`,
        `event: message\ndata: ${JSON.stringify(result(body.id, "from sse"))}\n\n`,
      ]);
    const called = await postToolCall(target(), legacy, tool(), {}, 1_000);
    expect(called).toEqual({ ok: true, value: { content: [{ type: "text", text: "from sse" }] } });
    expect(seen?.headers).toMatchObject({ "mcp-session-id": "s-1", "mcp-protocol-version": "2025-06-18" });
    expect(seen?.headers["mcp-method"]).toBeUndefined();
  });

  it("reads an answer that arrives a few bytes at a time, characters split across chunks, from a stream left open", async () => {
    let open: ServerResponse | undefined;
    script = ({ body }, res) => {
      open = res;
      const bytes = Buffer.from(`event: message\ndata: ${JSON.stringify(result(body.id, "天气晴 ☀"))}\n\n`);
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      // Three bytes a write, so every multi-byte character is cut; the stream stays open after the answer.
      let at = 0;
      const next = () => {
        if (at >= bytes.length) return;
        res.write(bytes.subarray(at, (at += 3)));
        setTimeout(next, 1);
      };
      next();
    };
    const called = await postToolCall(target(), legacy, tool(), {}, 2_000);
    expect(called).toEqual({ ok: true, value: { content: [{ type: "text", text: "天气晴 ☀" }] } });
    expect(open?.writableEnded).toBe(false);
    open?.end();
  });

  it("tells a forgotten session (404, or 400 about the session) and an unsupported version from other refusals", async () => {
    script = (_, res) => json(res, 404, { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } });
    expect(await postToolCall(target(), legacy, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "session_expired" } });
    script = (_, res) => json(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32000, message: "Bad Request: No valid session ID provided" } });
    expect(await postToolCall(target(), legacy, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "session_expired" } });
    script = (_, res) => json(res, 400, { jsonrpc: "2.0", id: 1, error: { code: -32022, message: "Unsupported protocol version" } });
    expect(await postToolCall(target(), modern, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "session_expired" } });
    script = (_, res) => json(res, 400, { jsonrpc: "2.0", id: 1, error: { code: -32020, message: "headers and body disagree" } });
    expect(await postToolCall(target(), modern, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "protocol", mcp_code: -32020 } });
    script = (_, res) => res.writeHead(502).end("bad gateway");
    expect(await postToolCall(target(), modern, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "http", status: 502 } });
  });

  it("passes a tool's JSON-RPC error on as a protocol failure, and refuses a call that asks for input", async () => {
    script = ({ body }, res) => json(res, 200, { jsonrpc: "2.0", id: body.id, error: { code: -32602, message: "Unknown tool" } });
    expect(await postToolCall(target(), modern, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "protocol", mcp_code: -32602, message: expect.stringMatching(/Unknown tool/) } });
    script = ({ body }, res) => json(res, 200, { jsonrpc: "2.0", id: body.id, result: { resultType: "input_required", inputRequests: {} } });
    expect(await postToolCall(target(), modern, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "protocol", message: expect.stringMatching(/asked for input/) } });
  });

  it("fails a call whose answer stream breaks off as lost (it may have run), and one that never answers as a timeout", async () => {
    script = (_, res) => {
      sse(res, [": started\n\n"], false);
      setTimeout(() => res.destroy(), 20);
    };
    expect(await postToolCall(target(), legacy, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "lost" } });
    script = () => undefined; // accepts, never answers
    const started = Date.now();
    expect(await postToolCall(target(), legacy, tool(), {}, 300)).toMatchObject({ ok: false, failure: { kind: "timeout" } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("reads no more than limits.max_answer_bytes of an answer: declared, chunked JSON, or an SSE stream that never ends", async () => {
    const limits = { maxDepth: 64, maxBytes: 64 * 1024 };
    const big = "x".repeat(100 * 1024);
    const oversized = { ok: false, failure: { kind: "protocol", message: expect.stringMatching(/limits\.max_answer_bytes/) } };
    script = ({ body }, res) => json(res, 200, result(body.id, big)); // with a content-length
    expect(await postToolCall(target(), modern, tool(), {}, 1_000, limits)).toMatchObject(oversized);
    script = ({ body }, res) => {
      res.writeHead(200, { "content-type": "application/json" }); // chunked: no length declared
      const text = JSON.stringify(result(body.id, big));
      res.write(text.slice(0, 1000));
      res.end(text.slice(1000));
    };
    expect(await postToolCall(target(), modern, tool(), {}, 1_000, limits)).toMatchObject(oversized);
    let flood: ReturnType<typeof setInterval> | undefined;
    script = (_, res) => {
      sse(res, [], false);
      // Notifications without end, never the answer: the read stops at the limit, not at the deadline.
      const note = `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { data: "y".repeat(4096) } })}\n\n`;
      flood = setInterval(() => res.write(note.repeat(4)), 1);
      res.on("close", () => clearInterval(flood));
    };
    const started = Date.now();
    expect(await postToolCall(target(), legacy, tool(), {}, 10_000, limits)).toMatchObject(oversized);
    expect(Date.now() - started, "not the 10 s deadline").toBeLessThan(5_000);
    clearInterval(flood);
    // Within the limit, the same answers pass.
    script = ({ body }, res) => json(res, 200, result(body.id, "x".repeat(1024)));
    expect(await postToolCall(target(), modern, tool(), {}, 1_000, limits)).toMatchObject({ ok: true });
  });

  it("fails at once against a port nobody listens on", async () => {
    const closed = { ...target(), url: "http://127.0.0.1:9/mcp" };
    expect(await postToolCall(closed, modern, tool(), {}, 1_000)).toMatchObject({ ok: false, failure: { kind: "unreachable" } });
  });
});

describe("needsSdkCall", () => {
  it("sends tools that mirror arguments into headers through the SDK client", () => {
    expect(needsSdkCall(tool("plain", { type: "object", properties: { q: { type: "string" } } }))).toBe(false);
    expect(needsSdkCall(tool("region", { type: "object", properties: { region: { type: "string", "x-mcp-header": "Region" } } }))).toBe(true);
  });
});
