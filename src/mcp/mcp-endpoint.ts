/**
 * The service as an MCP server, both protocol eras on one URL: 2026-07-28 (stateless, `server/discover`,
 * `subscriptions/listen`) and the 2025 revisions (initialize, Streamable HTTP). Every exchange is served by a
 * fresh server built for that request, so no MCP session lives anywhere: any isolate answers any request, and
 * there is no connection table to fill up. Modern requests go to the v2 SDK's `createMcpHandler`; 2025 ones,
 * told apart by the SDK's own `isLegacyRequest`, to its stateless Streamable HTTP transport answering JSON (the
 * SDK's built-in legacy fallback always answers with an SSE stream, which costs both ends more for a reply that
 * is one message: the documented way to serve 2025 clients your own way).
 *
 * What does need a home is a catalogue's change notifications: the object that learns of the change (a
 * session's object, an agent's shared endpoint object) holds the streams — 2026 `subscriptions/listen` through
 * the SDK's listen router, 2025 GET streams through {@link NotificationStreams} — and `toolsChanged()` reaches
 * both. Requests that open a stream are told apart by {@link opensStream}.
 *
 * A plain `tools/call` — the exchange of every voice turn — is answered without an SDK server
 * ({@link plainToolCall}): the SDK's handling per exchange costs more CPU in Workers than the rest of the call.
 *
 * This module and plain-tool-call.ts are the only server-side imports of the MCP SDK.
 */
import {
  createMcpHandler,
  InMemoryServerEventBus,
  isLegacyRequest,
  ProtocolError,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type CallToolResult,
  type McpHttpHandler,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { appError, isErrorCode, jsonRpcErrorOf, unwrap, type AppError, type ErrorCode, type Result } from "../core/errors";
import type { ToolList, ToolResult } from "../core/schemas";
import type { ToolArgs } from "../tools/tool-source";
import { NotificationStreams } from "./notification-streams";
import { answerPlainCall, plainToolCall } from "./plain-tool-call";

/** What the endpoint needs from a catalogue: its tools and a way to run one. */
export interface McpEndpointCore {
  tools(): Promise<Result<ToolList>>;
  execute(name: string, args: ToolArgs): Promise<Result<ToolResult>>;
}

export interface McpEndpointOptions {
  serverInfo: { name: string; version: string };
  /** How long a client may reuse a `tools/list` answer (2026-07-28 `ttlMs`; changes are also pushed). */
  toolsTtlMs: number;
  /** Keep-alive comments on notification streams, both eras. */
  keepAliveMs: number;
  /** Notification streams of each era one endpoint holds; more are refused with `rate_limited`. */
  maxStreams: number;
  /**
   * Answer plain `tools/call` exchanges directly (src/mcp/plain-tool-call.ts); default true. False sends every
   * exchange through the SDK: the reference the differential test compares against.
   */
  plainCalls?: boolean;
}

/**
 * `tools/call` params, checked here before the SDK sees them: its own check answers a wrong type with a
 * multi-line schema dump and no `app_code`; this answers one line (-32602, `invalid_request`).
 */
const CallParams = z.looseObject({
  name: z.string({ error: "params.name must be a string" }).min(1, "params.name must not be empty"),
  arguments: z.record(z.string(), z.json(), { error: "params.arguments must be an object" }).optional(),
});
const CallMessage = z.looseObject({ jsonrpc: z.literal("2.0"), id: z.union([z.string(), z.number()]), method: z.literal("tools/call"), params: z.unknown() });

/** HTTP statuses the SDK answers on its own (header ladder, media type, method), and the service code each means. */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: "invalid_request",
  404: "route_not_found",
  405: "route_not_found",
  406: "invalid_request",
  413: "payload_too_large",
  415: "invalid_request",
  429: "rate_limited",
};

/** Whether `request` opens a notification stream (a 2025 GET, or a 2026 `subscriptions/listen`). */
export function opensStream(request: Request): boolean {
  if (request.method === "GET") return true;
  // Modern requests name their method in a header, so the stream can be routed without reading the body.
  return request.method === "POST" && request.headers.get("mcp-method") === "subscriptions/listen";
}

export class McpEndpoint {
  readonly #handler: McpHttpHandler;
  /** The catalogue of each request in flight, found again by the SDK's per-request factory. */
  readonly #cores = new WeakMap<AuthInfo, McpEndpointCore>();
  readonly #streams: NotificationStreams;
  /** The SDK's in-isolate bus: `subscriptions/listen` streams subscribe to it. */
  readonly #bus = new InMemoryServerEventBus();

  constructor(private readonly options: McpEndpointOptions) {
    this.#streams = new NotificationStreams(options.keepAliveMs, options.maxStreams);
    this.#handler = createMcpHandler(({ authInfo }) => this.#server(authInfo === undefined ? undefined : this.#cores.get(authInfo)), {
      // 2025 requests never reach it (serve() routes them); a stray one is refused, not served twice over.
      legacy: "reject",
      bus: this.#bus,
      keepAliveMs: options.keepAliveMs,
      maxSubscriptions: options.maxStreams,
    });
  }

  /**
   * One MCP exchange over `core`. `parsedBody` is the JSON body the caller already parsed (and checked for
   * depth), so it is not parsed twice.
   */
  async serve(request: Request, core: McpEndpointCore, parsedBody?: unknown): Promise<Response> {
    if (request.method === "GET") {
      return this.#streams.open() ?? rpcError(429, appError("rate_limited", `This endpoint already holds ${this.options.maxStreams} notification streams`));
    }
    if (request.method !== "POST") return rpcError(405, appError("route_not_found", "Method not allowed: this endpoint keeps no MCP sessions to close"));
    const refused = refuseMalformedCall(parsedBody);
    if (refused) return refused;
    const plain = this.options.plainCalls === false ? undefined : plainToolCall(request, parsedBody);
    if (plain) return answerPlainCall(plain, () => call(core, plain.name, plain.args as ToolArgs), this.options.serverInfo);
    if (await isLegacyRequest(request, parsedBody)) return withAppCode(await this.#serveLegacy(request, core, parsedBody));
    const authInfo: AuthInfo = { token: "", clientId: "xiaozhi-mcp-service", scopes: [] };
    this.#cores.set(authInfo, core);
    return withAppCode(await this.#handler.fetch(request, parsedBody === undefined ? { authInfo } : { authInfo, parsedBody }));
  }

  /** One 2025-era exchange: a server and a stateless transport for this request, the answer as JSON. */
  async #serveLegacy(request: Request, core: McpEndpointCore, parsedBody: unknown): Promise<Response> {
    const server = this.#server(core);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request, parsedBody === undefined ? {} : { parsedBody });
    } finally {
      // The JSON answer is complete once returned: nothing of this exchange outlives it.
      void server.close().catch(() => undefined);
    }
  }

  /** Notification streams open now, both eras. */
  get streams(): number {
    return this.#streams.size + this.#bus.listenerCount;
  }

  /** Tells every listening client to list tools again (device handshake done, relay gone, providers changed). */
  toolsChanged(): void {
    this.#handler.notify.toolsChanged();
    this.#streams.broadcast({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
  }

  /** Ends every notification stream (the session ended); the endpoint is not used afterwards. */
  async close(): Promise<void> {
    this.#streams.closeAll();
    await this.#handler.close().catch(() => undefined);
  }

  #server(core: McpEndpointCore | undefined): Server {
    const server = new Server(this.options.serverInfo, {
      capabilities: { tools: { listChanged: true } },
      // Private: a catalogue varies with the session and the credentials that reach it.
      cacheHints: { "tools/list": { ttlMs: this.options.toolsTtlMs, cacheScope: "private" } },
    });
    server.setRequestHandler("tools/list", async () => {
      if (!core) throw rpcFailure(appError("internal", "No catalogue for this request"));
      const tools = unwrap(await core.tools(), rpcFailure).tools;
      return { tools: tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: { type: "object" as const, ...tool.input_schema } })) };
    });
    server.setRequestHandler("tools/call", async (request) => {
      if (!core) throw rpcFailure(appError("internal", "No catalogue for this request"));
      return call(core, request.params.name, (request.params.arguments ?? {}) as ToolArgs);
    });
    return server;
  }
}

/**
 * Tool errors the model can act on are tool results (`isError: true`, the reason as text), as MCP asks since
 * 2025-11-25: arguments the tool refuses, a tool that ran and failed. An unknown tool and the service's own
 * failures (no device, timeout) are JSON-RPC errors with `data.app_code`.
 */
async function call(core: McpEndpointCore, name: string, args: ToolArgs): Promise<CallToolResult> {
  const result = await core.execute(name, args);
  if (result.ok) return toCallToolResult(result.value);
  if (result.error.code === "invalid_request") {
    return { content: [{ type: "text", text: result.error.message }], structuredContent: { success: false, action: "error", result: result.error.message }, isError: true };
  }
  throw rpcFailure(result.error);
}

/**
 * The action contract goes into `structuredContent`; the text the LLM would get goes into `content`, with
 * the raw non-text MCP items after it.
 */
export function toCallToolResult(result: ToolResult): CallToolResult {
  const text = typeof result.result === "string" ? result.result : JSON.stringify(result.result);
  const extra = (result.content ?? []).filter((item) => item.type !== "text") as CallToolResult["content"];
  return {
    content: [{ type: "text", text }, ...extra],
    structuredContent: { ...result },
    isError: !result.success,
  };
}

/** What a request handler throws for the SDK to answer as a JSON-RPC error: code, message and data as they are. */
function rpcFailure(error: AppError): ProtocolError {
  const { code, message, data } = jsonRpcErrorOf(error);
  return new ProtocolError(code, message, data);
}

/** A `tools/call` whose params cannot be a call: one line, -32602, `app_code`; undefined for anything else. */
function refuseMalformedCall(body: unknown): Response | undefined {
  const message = CallMessage.safeParse(body);
  if (!message.success) return undefined;
  const { id, params } = message.data;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    // Not even a JSON-RPC request: what the transport answers to an invalid message.
    return rpcError(400, appError("invalid_request", "Invalid tools/call params: params must be an object"), id);
  }
  const parsed = CallParams.safeParse(params);
  if (parsed.success) return undefined;
  return rpcError(200, appError("invalid_request", `Invalid tools/call params: ${parsed.error.issues[0]?.message ?? "invalid"}`), id);
}

function rpcError(status: number, error: AppError, id: string | number | null = null): Response {
  return Response.json({ jsonrpc: "2.0", id, error: jsonRpcErrorOf(error) }, { status });
}

/** Adds `data.app_code` to the JSON-RPC errors the SDK answers on its own (406, 415, header ladder, …). */
async function withAppCode(response: Response): Promise<Response> {
  if (response.status < 400 || !response.headers.get("content-type")?.includes("application/json")) return response;
  const text = await response.text();
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  let body: { error?: { data?: { app_code?: unknown } } } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON after all: passed on as it is
  }
  if (body?.error && !isErrorCode(body.error.data?.app_code)) {
    body.error.data = { ...body.error.data, app_code: STATUS_CODES[response.status] ?? "invalid_request" };
    return new Response(JSON.stringify(body), { status: response.status, headers });
  }
  return new Response(text, { status: response.status, headers });
}
