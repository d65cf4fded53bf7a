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
import { appError, isErrorCode, JSONRPC_CODE, jsonRpcErrorOf, toAppError, unwrap, type AppError, type ErrorCode, type Result } from "../core/errors";
import type { ToolList, ToolResult } from "../core/schemas";
import type { ToolArgs } from "../tools/tool-source";
import { log } from "../observability/log";
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
 * `tools/call` and `tools/list` params, checked here before the SDK sees them: its own check answers a wrong
 * type with a multi-line schema dump as an internal error (-32603) and no `app_code`; this answers one line
 * (-32602, `invalid_request`).
 */
const PARAMS_BY_METHOD = {
  "tools/call": z.looseObject({
    name: z.string({ error: "params.name must be a string" }).min(1, "params.name must not be empty"),
    arguments: z.record(z.string(), z.json(), { error: "params.arguments must be an object" }).optional(),
  }),
  "tools/list": z.looseObject({ cursor: z.string({ error: "params.cursor must be a string" }).optional() }),
};
const CheckedMessage = z.looseObject({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number()]),
  method: z.enum(["tools/call", "tools/list"]),
  params: z.unknown().optional(),
});

/** The issues of a zod error, as the SDK puts them in a message. */
const SchemaIssues = z.array(z.looseObject({ path: z.array(z.union([z.string(), z.number()])).default([]), message: z.string() })).min(1);

/** The service code of a JSON-RPC error the SDK answers with HTTP 200 (its handlers' refusals), by JSON-RPC code. */
const RPC_CODES: Record<number, ErrorCode> = {
  [-32700]: "invalid_request",
  [-32600]: "invalid_request",
  [-32601]: "route_not_found",
  [-32602]: "invalid_request",
  [-32603]: "internal",
};

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
  return request.method === "GET" || isListen(request);
}

/**
 * A 2026-07-28 `subscriptions/listen`. Modern requests name their method in a header (which the SDK holds to the
 * body's), so it is known without reading the body.
 */
function isListen(request: Request): boolean {
  return request.method === "POST" && request.headers.get("mcp-method") === "subscriptions/listen";
}

export class McpEndpoint {
  readonly #handler: McpHttpHandler;
  /** The catalogue of each request in flight, found again by the SDK's per-request factory. */
  readonly #cores = new WeakMap<AuthInfo, McpEndpointCore>();
  readonly #streams: NotificationStreams;
  /** The SDK's in-isolate bus: each open `subscriptions/listen` stream is one listener on it. */
  readonly #bus = new InMemoryServerEventBus();
  /** `subscriptions/listen` requests handed to the SDK whose stream is not open yet. */
  #listensStarting = 0;

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
    if (request.method === "GET") return this.#streams.open() ?? this.#tooManyStreams();
    if (request.method !== "POST") return rpcError(405, appError("route_not_found", "Method not allowed: this endpoint keeps no MCP sessions to close"));
    if (isListen(request)) return this.#listen(request, core, parsedBody);
    const refused = refuseMalformedParams(parsedBody);
    if (refused) return refused;
    const plain = this.options.plainCalls === false ? undefined : plainToolCall(request, parsedBody);
    if (plain) return answerPlainCall(plain, () => call(core, plain.name, plain.args as ToolArgs), this.options.serverInfo);
    if (await isLegacyRequest(request, parsedBody)) return withAppCode(await this.#serveLegacy(request, core, parsedBody));
    return this.#serveModern(request, core, parsedBody);
  }

  /** One 2026-07-28 exchange, through the SDK's handler. */
  async #serveModern(request: Request, core: McpEndpointCore, parsedBody: unknown): Promise<Response> {
    const authInfo: AuthInfo = { token: "", clientId: "xiaozhi-mcp-service", scopes: [] };
    this.#cores.set(authInfo, core);
    return withAppCode(await this.#handler.fetch(request, parsedBody === undefined ? { authInfo } : { authInfo, parsedBody }));
  }

  /**
   * A `subscriptions/listen` under `maxStreams`, counted here: the SDK's own limit answers an internal error
   * (-32603) with HTTP 200 and no `app_code`, where a client needs to hear "too many" (`rate_limited`, 429), as a
   * GET stream over the limit does. Requests still on their way to their stream count too, so concurrent ones
   * cannot overshoot into the SDK's limit.
   */
  async #listen(request: Request, core: McpEndpointCore, parsedBody: unknown): Promise<Response> {
    if (this.#bus.listenerCount + this.#listensStarting >= this.options.maxStreams) return this.#tooManyStreams();
    this.#listensStarting += 1;
    try {
      return await this.#serveModern(request, core, parsedBody);
    } finally {
      this.#listensStarting -= 1;
    }
  }

  #tooManyStreams(): Response {
    return rpcError(429, appError("rate_limited", `This endpoint already holds ${this.options.maxStreams} notification streams; close one first`));
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
  let result: Result<ToolResult>;
  try {
    result = await core.execute(name, args);
  } catch (thrown) {
    // A bug behind the core: the client hears `internal`, not what was thrown (it may carry internals); the log does.
    log("error", "mcp.tool_failed", { tool: name, message: String(thrown) });
    throw rpcFailure(toAppError(thrown));
  }
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

/**
 * A `tools/call` or `tools/list` whose params cannot be one: one line, -32602, `app_code`; undefined for anything
 * else (a list may come without params).
 */
function refuseMalformedParams(body: unknown): Response | undefined {
  const message = CheckedMessage.safeParse(body);
  if (!message.success) return undefined;
  const { id, method, params } = message.data;
  if (params === undefined) {
    // JSON-RPC lets params be left out; a list needs none, a call does.
    return method === "tools/list" ? undefined : rpcError(200, appError("invalid_request", "Invalid tools/call params: params (name, arguments) are required"), id);
  }
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    // Not even a JSON-RPC request: what the transport answers to an invalid message.
    return rpcError(400, appError("invalid_request", `Invalid ${method} params: params must be an object`), id);
  }
  const parsed = PARAMS_BY_METHOD[method].safeParse(params);
  if (parsed.success) return undefined;
  return rpcError(200, appError("invalid_request", `Invalid ${method} params: ${parsed.error.issues[0]?.message ?? "invalid"}`), id);
}

function rpcError(status: number, error: AppError, id: string | number | null = null): Response {
  return Response.json({ jsonrpc: "2.0", id, error: jsonRpcErrorOf(error) }, { status });
}

/**
 * Adds `data.app_code` to the JSON-RPC errors the SDK answers on its own: the transport's (406, 415, header
 * ladder, …, by HTTP status) and its handlers' (an unknown method in a 2025 exchange, a listen's filter: HTTP 200,
 * by JSON-RPC code). A request its schemas refused comes as an internal error whose message is the multi-line
 * schema dump: it becomes what it is, invalid params (-32602, `invalid_request`), in one line. Answers that are
 * not errors pass unchanged.
 */
async function withAppCode(response: Response): Promise<Response> {
  if (!response.headers.get("content-type")?.includes("application/json")) return response;
  const text = await response.text();
  // Most answers are results (a tools/list can be large): parsed only when one could be an error.
  let body: unknown;
  try {
    if (text.includes('"error"')) body = JSON.parse(text);
  } catch {
    // not JSON after all: passed on as it is
  }
  // A 2025-03-26 batch is answered with an array: each of its errors gets its code.
  const messages = (Array.isArray(body) ? body : [body]) as ({ error?: RpcErrorMember } | null)[];
  let changed = false;
  for (const message of messages) if (message?.error) changed = withCode(message.error, response.status) || changed;
  if (!changed) return new Response(text, response);
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status: response.status, headers });
}

type RpcErrorMember = { code?: number; message?: unknown; data?: { app_code?: unknown } };

/** Gives one JSON-RPC error its `app_code` (and a schema dump its one line); whether it changed anything. */
function withCode(error: RpcErrorMember, status: number): boolean {
  if (isErrorCode(error.data?.app_code)) return false;
  const refusal = typeof error.message === "string" ? schemaRefusal(error.message) : undefined;
  if (refusal) {
    error.code = JSONRPC_CODE.invalid_request;
    error.message = refusal;
  }
  const byStatus = status >= 400 ? STATUS_CODES[status] : undefined;
  error.data = { ...error.data, app_code: refusal ? "invalid_request" : (byStatus ?? RPC_CODES[error.code ?? 0] ?? "invalid_request") };
  return true;
}

/** The SDK's message for a request its schemas refused (`[prefix: ]<issues as JSON>`), as one line; else undefined. */
function schemaRefusal(message: string): string | undefined {
  const start = message.indexOf("[");
  if (start < 0 || !message.includes("\n")) return undefined;
  let issues: unknown;
  try {
    issues = JSON.parse(message.slice(start));
  } catch {
    return undefined;
  }
  const first = SchemaIssues.safeParse(issues).data?.[0];
  if (!first) return undefined;
  const field = first.path.length > 0 ? `${first.path.join(".")}: ` : "";
  return `${message.slice(0, start).replace(/:\s*$/, "") || "Invalid request"}: ${field}${first.message}`;
}
