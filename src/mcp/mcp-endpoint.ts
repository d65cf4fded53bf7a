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
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { JSONRPC_CODE, type Result } from "../core/errors";
import type { ToolList, ToolResult } from "../core/schemas";
import type { ToolArgs } from "../tools/tool-provider";

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
      if (!connection) return rpcError(404, -32001, "Session not found: initialize a new MCP session");
      return connection.transport.handleRequest(request);
    }
    if (request.method !== "POST") return rpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    const connection = this.#open();
    const response = await connection.transport.handleRequest(request);
    // A POST that did not initialize a session leaves nothing worth keeping.
    if (!connection.transport.sessionId) await connection.server.close();
    return response;
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
      const tools = unwrapMcp(await this.core.tools()).tools;
      return { tools: tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: { type: "object" as const, ...tool.input_schema } })) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request) =>
      toCallToolResult(unwrapMcp(await this.core.execute(request.params.name, (request.params.arguments ?? {}) as ToolArgs))),
    );
    void server.connect(transport);
    return connection;
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

function unwrapMcp<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new McpError(JSONRPC_CODE[result.error.code], result.error.message, { app_code: result.error.code });
}

function rpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}
