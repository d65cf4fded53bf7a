/**
 * The MCP endpoints (Streamable HTTP): `/api/v1/mcp/sessions/{sessionId}/mcp` for one session's catalogue,
 * `/mcp` for the shared one (local + external tools, plus the providers of `?agent_id=`). The session's Durable Object serves both; this layer
 * only authenticates (in app.ts) and guards against DNS rebinding.
 */
import type { Context } from "hono";
import { z } from "zod";
import { AppException, appError, type ErrorCode } from "../core/errors";
import { AgentId } from "../core/schemas";
import { sharedSessionName } from "../session/session";
import { relayToSession } from "../session/session-directory";
import { VERSION } from "../version";
import type { AppEnv } from "./app-env";
import { EXAMPLE_SESSION } from "./examples";
import { route, type RouteDefinition } from "./openapi/spec";
import { checkDepth, SessionParams } from "./request";

/** A JSON-RPC 2.0 message of the MCP Streamable HTTP transport (request, notification or response). */
export const JsonRpcMessage = z.looseObject({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number().int()]).nullable().optional(),
  method: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number().int(), message: z.string() }).optional(),
});

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * A browser page on another origin must not reach a local or internal endpoint through DNS rebinding:
 * requests that carry a foreign `Origin` are refused.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
function checkOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("origin");
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).hostname;
  } catch {
    throw new AppException(appError("forbidden", "Malformed Origin header"));
  }
  if (LOOPBACK.has(host) || c.get("config").mcp.allowed_origins.includes(origin)) return;
  throw new AppException(appError("forbidden", `Origin ${origin} is not allowed`));
}

const SharedQuery = z.object({ agent_id: AgentId.optional().describe("Add this agent's dial-in providers' tools") });

/** The session's own MCP endpoint, served by its object. */
async function serveSession(c: Context<AppEnv>): Promise<Response> {
  checkOrigin(c);
  const sessionId = c.req.param("sessionId") ?? "";
  return relayToSession(c.env.SESSIONS, sessionId, await checkedRequest(c), { kind: "mcp" });
}

/** The shared endpoint (of an agent, with `?agent_id=`), served by an object of its own. */
async function serveShared(c: Context<AppEnv>): Promise<Response> {
  checkOrigin(c);
  const agent = c.req.query("agent_id") ?? "";
  return relayToSession(c.env.SESSIONS, sharedSessionName(agent), await checkedRequest(c), { kind: "mcp", shared_agent: agent });
}

export const mcpRoutes = [
  ...mcpEndpoint("/api/v1/mcp/sessions/{sessionId}/mcp", "sessionMcp", "one session's catalogue (device, local, external tools)", serveSession),
  ...mcpEndpoint("/mcp", "sharedMcp", "the shared catalogue (local and external tools, no device)", serveShared),
];

/** POST/GET/DELETE of one MCP Streamable HTTP endpoint; the MCP SDK's transport serves them. */
function mcpEndpoint(path: `/${string}`, id: string, catalogue: string, serve: (c: Context<AppEnv>) => Promise<Response>): RouteDefinition[] {
  const params = path.includes("{sessionId}") ? SessionParams : undefined;
  // The shared endpoint also serves the dial-in providers of `?agent_id=`.
  const query = params ? undefined : SharedQuery;
  const errors: ErrorCode[] = params ? ["forbidden", "session_not_found"] : ["forbidden"];
  const common = {
    path,
    tags: ["mcp"] as const,
    tokenInQuery: true,
    // The MCP SDK reads the JSON-RPC body (documented as JsonRpcMessage) and answers other methods with 405.
    parse: { body: false },
    allMethods: true,
    ...(params ? { params } : {}),
    ...(query ? { query } : {}),
    errors,
  };
  const transportErrors =
    "The transport's own refusals (400 without `Mcp-Session-Id`, 404 for an unknown MCP session: re-initialize, " +
    "406 without `Accept: application/json, text/event-stream`) are JSON-RPC error objects.";
  const examples = params ? { params: { sessionId: EXAMPLE_SESSION } } : {};
  return [
    route({
      ...common,
      method: "post",
      operationId: `${id}Post`,
      summary: `MCP message to ${catalogue}`,
      description:
        "`initialize` (no `Mcp-Session-Id`) opens an MCP session whose id comes back in the `Mcp-Session-Id` " +
        "header; later messages carry it. `tools/call` results put the ActionResponse in `structuredContent`. " +
        `Answers JSON or an SSE stream, as the client's Accept allows. ${transportErrors}`,
      body: JsonRpcMessage,
      response: { description: "The JSON-RPC response", schema: JsonRpcMessage },
      otherResponses: { 202: { description: "A notification or response was accepted" } },
      examples: {
        ...examples,
        body: {
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "example-client", version: "1.0.0" } },
        },
        response: {
          jsonrpc: "2.0",
          id: 1,
          result: {
            protocolVersion: "2025-06-18",
            capabilities: { tools: { listChanged: true } },
            serverInfo: { name: "xiaozhi-mcp-service", version: VERSION },
          },
        },
      },
    }, serve),
    route({
      ...common,
      method: "get",
      operationId: `${id}Stream`,
      summary: `Server-to-client stream of ${catalogue} (e.g. notifications/tools/list_changed)`,
      description: `Needs \`Mcp-Session-Id\`. ${transportErrors}`,
      response: { contentType: "text/event-stream", description: "The SSE stream", schema: z.string() },
      examples: {
        ...examples,
        response: `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" })}\n\n`,
      },
    }, serve),
    route({
      ...common,
      method: "delete",
      operationId: `${id}Close`,
      summary: "Close the MCP session named by Mcp-Session-Id",
      description: transportErrors,
      response: { description: "Closed" },
      examples,
    }, serve),
  ];
}

/** The request to pass on, its JSON-RPC body (if any) checked for nesting depth first. */
async function checkedRequest(c: Context<AppEnv>): Promise<Request> {
  if (c.req.method !== "POST") return new Request(c.req.raw);
  const body = await c.req.text();
  checkDepth(c, body);
  return new Request(c.req.raw, { body });
}
