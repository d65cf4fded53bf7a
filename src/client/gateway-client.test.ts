/**
 * The client's failure handling against a real HTTP server on loopback that misbehaves on purpose (hangs,
 * answers 5xx, malformed bodies): timeouts, which calls retry, backoff, typed errors, and fallback on 5xx.
 * The happy path, 4xx and outage paths against the real worker are in test/client/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ToolList, ToolResult } from "../core/schemas";
import { ServiceError } from "./errors";
import { GatewayClient, type GatewayClientOptions } from "./gateway-client";
import { RolloutGateway, type FallbackEvent, type LocalExecutor } from "./rollout-gateway";

type Handler = (request: IncomingMessage, response: ServerResponse, hit: number) => void;

const TOOLS: ToolList = { tools: [{ name: "local_get_time", description: "time", input_schema: { type: "object" }, source: "local" }] };
const RESULT: ToolResult = { success: true, action: "req_llm", result: "现在是 …" };

let server: Server;
let baseUrl: string;
let handler: Handler;
let hits: { method: string; url: string; headers: IncomingMessage["headers"] }[];

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
};
const serviceError = (response: ServerResponse, status: number, code: string) => json(response, status, { error: { code, message: `${code}!` } });

beforeAll(async () => {
  server = createServer((request, response) => {
    hits.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers });
    request.resume();
    request.on("end", () => handler(request, response, hits.length));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  hits = [];
  handler = (_request, response) => json(response, 200, TOOLS);
});

const delays: number[] = [];
function client(options: Partial<GatewayClientOptions> = {}): GatewayClient {
  delays.length = 0;
  return new GatewayClient({
    baseUrl,
    token: "t0k",
    random: () => 0.5,
    sleep: async (ms) => void delays.push(ms),
    ...options,
  });
}

async function failure(work: Promise<unknown>): Promise<ServiceError> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe("GatewayClient against a misbehaving server", () => {
  it("sends the bearer token and the request id, and parses the answer", async () => {
    const tools = await client().getTools({ session_id: "s 1" }, { requestId: "turn-42" });
    expect(tools).toEqual(TOOLS);
    expect(hits[0]).toMatchObject({ method: "GET", url: "/api/v1/mcp/tools?session_id=s%201" });
    expect(hits[0]?.headers.authorization).toBe("Bearer t0k");
    expect(hits[0]?.headers["x-request-id"]).toBe("turn-42");
  });

  it("times out a hanging server, retrying an idempotent call with backoff", async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 150 }).getTools({ session_id: "s1" }));
    expect(error).toMatchObject({ kind: "timeout", code: "timeout", status: 0, isOutage: true });
    expect(hits).toHaveLength(3);
    expect(delays).toEqual([75, 150]); // equal jitter at random 0.5: base 100 → 50..100, then 100..200
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("never retries executeTool, and gives it its own timeout", async () => {
    handler = () => undefined;
    const error = await failure(client({ timeoutMs: 5000, executeTimeoutMs: 150 }).executeTool({ session_id: "s1", tool_name: "self_x" }));
    expect(error.kind).toBe("timeout");
    expect(hits).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("retries 5xx on reads until the service recovers", async () => {
    handler = (_request, response, hit) => (hit < 3 ? serviceError(response, 503, "device_unavailable") : json(response, 200, TOOLS));
    expect(await client().getTools({ session_id: "s1" })).toEqual(TOOLS);
    expect(hits).toHaveLength(3);
  });

  it("surfaces the service's code for a 5xx once retries are used up", async () => {
    handler = (_request, response) => serviceError(response, 502, "upstream_error");
    const error = await failure(client({ retry: { attempts: 2 } }).getSession({ session_id: "s1" }));
    expect(error).toMatchObject({ kind: "response", code: "upstream_error", status: 502, message: "upstream_error!", isOutage: true });
    expect(hits).toHaveLength(2);
  });

  it("does not retry a 4xx, and types its code", async () => {
    handler = (_request, response) => serviceError(response, 404, "session_not_found");
    const error = await failure(client().bindSession({ session_id: "s1", device_id: "d" }));
    expect(error).toMatchObject({ code: "session_not_found", status: 404, isOutage: false });
    expect(hits).toHaveLength(1);
  });

  it("names a bodiless error by its status (a proxy's HTML 502)", async () => {
    handler = (_request, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<html>Bad gateway</html>");
    };
    const error = await failure(client({ retry: { attempts: 1 } }).getTools({ session_id: "s1" }));
    expect(error).toMatchObject({ code: "upstream_error", status: 502, kind: "response" });
  });

  it("refuses a 200 whose body is not the documented shape, without retrying", async () => {
    handler = (_request, response) => json(response, 200, { tools: "nope" });
    const error = await failure(client().getTools({ session_id: "s1" }));
    expect(error).toMatchObject({ code: "internal", status: 200, isOutage: false });
    expect(hits).toHaveLength(1);
  });

  it("throws the caller's abort reason as is, without retrying", async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const reason = new Error("caller hung up");
    setTimeout(() => controller.abort(reason), 50);
    const thrown = await client({ timeoutMs: 5000 }).getTools({ session_id: "s1" }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(thrown).toBe(reason);
    expect(hits).toHaveLength(1);
  });
});

describe("RolloutGateway fallback on a real 5xx", () => {
  const local: LocalExecutor & { calls: string[] } = {
    calls: [],
    async getTools() {
      this.calls.push("getTools");
      return TOOLS;
    },
    async executeTool() {
      this.calls.push("executeTool");
      return RESULT;
    },
  };
  beforeEach(() => void (local.calls.length = 0));

  it("falls back on 5xx, reporting the service's error", async () => {
    handler = (_request, response) => serviceError(response, 503, "device_unavailable");
    const events: FallbackEvent[] = [];
    const gateway = new RolloutGateway(client(), { use_service: true, traffic_split: 100, fallback: local }, { onFallback: (e) => events.push(e) });
    expect(await gateway.executeTool({ session_id: "s1", tool_name: "self_audio_speaker_set_volume", arguments: { volume: 50 } })).toEqual(RESULT);
    expect(hits).toHaveLength(1);
    expect(local.calls).toEqual(["executeTool"]);
    expect(events).toMatchObject([{ operation: "executeTool", session_id: "s1", error: { code: "device_unavailable", status: 503 } }]);
  });

  it("does not fall back on 4xx", async () => {
    handler = (_request, response) => serviceError(response, 409, "session_conflict");
    const gateway = new RolloutGateway(client(), { use_service: true, traffic_split: 100, fallback: local });
    const error = await failure(gateway.executeTool({ session_id: "s1", tool_name: "local_exit", device_id: "other" }));
    expect(error.code).toBe("session_conflict");
    expect(local.calls).toEqual([]);
  });

  it("keeps a conversation local for good once its bind fell back", async () => {
    handler = (_request, response) => serviceError(response, 500, "internal");
    const gateway = new RolloutGateway(client({ retry: { attempts: 1 } }), { use_service: true, traffic_split: 100, fallback: local });
    expect(await gateway.bindSession({ session_id: "s1", device_id: "d" })).toBeUndefined();
    handler = (_request, response) => json(response, 200, TOOLS); // the service is back…
    expect(gateway.pathFor("s1")).toBe("local"); // …but this conversation started locally and stays there
    await gateway.getTools({ session_id: "s1" });
    expect(local.calls).toEqual(["getTools"]);
    expect(hits).toHaveLength(1);
    await gateway.unbindSession({ session_id: "s1" });
    expect(gateway.pathFor("s1")).toBe("service");
  });

  it("needs a fallback unless every session goes to the service", () => {
    expect(() => new RolloutGateway(client(), { use_service: true, traffic_split: 50 })).toThrow(/fallback/);
    expect(() => new RolloutGateway(client(), { use_service: false, traffic_split: 100 })).toThrow(/fallback/);
    expect(() => new RolloutGateway(client(), { use_service: true, traffic_split: 100 })).not.toThrow();
    expect(() => new RolloutGateway(client(), { use_service: true, traffic_split: 150, fallback: local })).toThrow();
  });
});
