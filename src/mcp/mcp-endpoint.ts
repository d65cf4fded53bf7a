/**
 * The service as an MCP server (Streamable HTTP): `tools/list` is the session's merged catalogue and
 * `tools/call` runs through the same core as REST and tRPC. One SDK `Server` + transport per MCP session,
 * held by the Durable Object that serves the endpoint; a client whose MCP session is gone (the object was
 * evicted or restarted) gets 404 and re-initializes, as the MCP spec prescribes.
 *
 * This module is the only server-side import of the MCP SDK.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Protocol } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { z } from "zod";
import { appError, isErrorCode, jsonRpcErrorOf, unwrap, type AppError, type ErrorCode, type Result } from "../core/errors";
import type { ToolList, ToolResult } from "../core/schemas";
import type { ToolArgs } from "../tools/tool-source";

/** What the endpoint needs from a session: its catalogue and a way to run a tool. */
export interface McpEndpointCore {
  tools(): Promise<Result<ToolList>>;
  execute(name: string, args: ToolArgs): Promise<Result<ToolResult>>;
}

interface Connection {
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
}

/** MCP sessions one object keeps; the oldest is closed beyond this. */
const MAX_CONNECTIONS = 32;

/**
 * `tools/call` as it arrives: checked here, by this schema, so a malformed call gets one line and an
 * `app_code` (-32602) rather than the SDK's multi-line schema dump as an internal error (-32603).
 */
const CallRequest = z.object({ method: z.literal("tools/call"), params: z.unknown() });
const CallParams = z.looseObject({
  name: z.string({ error: "params.name must be a string" }).min(1, "params.name must not be empty"),
  arguments: z.record(z.string(), z.json(), { error: "params.arguments must be an object" }).optional(),
});

/** HTTP statuses the SDK transport answers on its own, and the service code each means. */
const STATUS_CODES: Record<number, ErrorCode> = { 400: "invalid_request", 404: "session_not_found", 405: "route_not_found", 406: "invalid_request", 413: "payload_too_large", 415: "invalid_request" };

export class McpEndpoint {
  readonly #connections = new Map<string, Connection>();

  constructor(
    private readonly core: McpEndpointCore,
    private readonly serverInfo: { name: string; version: string },
  ) {}

  get connections(): number {
    return this.#connections.size;
  }

  async handle(request: Request): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const connection = this.#connections.get(sessionId);
      if (!connection) return rpcError(404, appError("session_not_found", "MCP session not found: initialize a new MCP session"));
      return withAppCode(await connection.transport.handleRequest(request));
    }
    if (request.method !== "POST") return rpcError(400, appError("invalid_request", "Mcp-Session-Id header is required"));
    const connection = this.#open();
    const response = await connection.transport.handleRequest(request);
    // A POST that did not initialize a session leaves nothing worth keeping.
    if (!connection.transport.sessionId) await connection.server.close();
    return withAppCode(response);
  }

  /** Tells every connected client to list tools again (device handshake done, relay gone, …). */
  async toolsChanged(): Promise<void> {
    await Promise.all([...this.#connections.values()].map((c) => c.server.sendToolListChanged().catch(() => undefined)));
  }

  async closeAll(): Promise<void> {
    const all = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(all.map((c) => c.server.close().catch(() => undefined)));
  }

  #open(): Connection {
    const server = new Server(this.serverInfo, {
      capabilities: { tools: { listChanged: true } },
      // The default Ajv validator generates code, which the Workers runtime forbids.
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        this.#connections.set(id, connection);
        this.#trim();
      },
      onsessionclosed: (id) => {
        this.#connections.delete(id);
      },
    });
    const connection = { server, transport };
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      const tools = unwrap(await this.core.tools(), rpcFailure).tools;
      return { tools: tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: { type: "object" as const, ...tool.input_schema } })) };
    });
    // Registered below the SDK Server's own tools/call wrapper, whose schema check answers a wrong type with a
    // multi-line dump: the params are checked here instead, one line, with app_code.
    Protocol.prototype.setRequestHandler.call(server, CallRequest, async (request: z.infer<typeof CallRequest>) => {
      const params = CallParams.safeParse(request.params);
      if (!params.success) throw rpcFailure(appError("invalid_request", `Invalid tools/call params: ${params.error.issues[0]?.message ?? "invalid"}`));
      return this.#call(params.data.name, params.data.arguments ?? {});
    });
    void server.connect(transport);
    return connection;
  }

  /**
   * Tool errors the model can act on are tool results (`isError: true`, the reason as text), as MCP asks since
   * 2025-11-25: arguments the tool refuses, a tool that ran and failed. An unknown tool and the service's own
   * failures (no device, timeout) are JSON-RPC errors with `data.app_code`.
   */
  async #call(name: string, args: ToolArgs): Promise<CallToolResult> {
    const result = await this.core.execute(name, args);
    if (result.ok) return toCallToolResult(result.value);
    if (result.error.code === "invalid_request") {
      return { content: [{ type: "text", text: result.error.message }], structuredContent: { success: false, action: "error", result: result.error.message }, isError: true };
    }
    throw rpcFailure(result.error);
  }

  #trim(): void {
    while (this.#connections.size > MAX_CONNECTIONS) {
      const [oldest] = this.#connections.keys();
      if (oldest === undefined) return;
      void this.#connections.get(oldest)?.server.close().catch(() => undefined);
      this.#connections.delete(oldest);
    }
  }
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

/**
 * What a request handler throws for the SDK to answer as a JSON-RPC error: its `code`, `message` and `data`
 * are sent as they are (an SDK `McpError` would put "MCP error <code>: " before the message, and the client's
 * own McpError would then add it a second time).
 */
function rpcFailure(error: AppError): Error {
  const { code, message, data } = jsonRpcErrorOf(error);
  return Object.assign(new Error(message), { code, data });
}

function rpcError(status: number, error: AppError): Response {
  return Response.json({ jsonrpc: "2.0", id: null, error: jsonRpcErrorOf(error) }, { status });
}

/** Adds `data.app_code` to the JSON-RPC errors the SDK transport answers on its own (406, 415, parse errors…). */
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
