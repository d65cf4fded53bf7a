/**
 * The MCP endpoints (both protocol eras, src/mcp/mcp-endpoint.ts): `/api/v1/mcp/sessions/{sessionId}/mcp` for
 * one session's catalogue, `/mcp` for the shared one (local + external tools, plus the providers of
 * `?agent_id=`). Exchanges are served here, in whichever isolate the request reaches: a session's through its
 * object's RPC (as REST), the shared one without any object. Only notification streams go to an object: the
 * session's own, or one of `mcp.stream_shards` objects per agent for the shared endpoint.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { ServiceConfig } from "../core/config";
import { AppException, appError, type ErrorCode } from "../core/errors";
import { AgentId } from "../core/schemas";
import { McpEndpoint, opensStream, type McpEndpointCore } from "../mcp/mcp-endpoint";
import { mcpEndpointOptions, sharedSessionName } from "../session/session";
import { relayToSession } from "../session/session-directory";
import { sharedCatalogue } from "../session/shared-catalogue";
import { VERSION } from "../version";
import type { AppEnv } from "./app-env";
import { EXAMPLE_SESSION } from "./examples";
import { route, type RouteDefinition } from "./openapi/spec";
import { checkDepth, SessionParams } from "./request";
import { requireOwnAgent, scopeOf } from "./tenancy";

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

/** The Worker's endpoint, one per isolate and configuration: it keeps nothing of a request after it. */
const endpoints = new WeakMap<ServiceConfig, McpEndpoint>();

function endpointOf(config: ServiceConfig): McpEndpoint {
  let endpoint = endpoints.get(config);
  if (!endpoint) {
    endpoint = new McpEndpoint(mcpEndpointOptions(config));
    endpoints.set(config, endpoint);
  }
  return endpoint;
}

/** Methods that open an exchange with an endpoint: refused for a session nobody bound, as REST refuses it. */
const HANDSHAKES = new Set(["initialize", "server/discover"]);

/** A session's endpoint: its catalogue and calls through the session object's RPC, as REST. */
async function serveSession(c: Context<AppEnv>): Promise<Response> {
  checkOrigin(c);
  const session_id = c.req.param("sessionId") ?? "";
  const { request, body, forward } = await checkedRequest(c);
  if (opensStream(request)) return relayToSession(c.env.SESSIONS, session_id, forward(), { kind: "mcp", agent_scope: scopeOf(c) });
  const service = c.get("service");
  // A handshake (or a DELETE, answered 405 anyway) learns first whether the session is there for this caller.
  if (HANDSHAKES.has(methodOf(body)) || request.method === "DELETE") {
    const view = await service.getSession({ session_id });
    if (!view.ok) throw new AppException(view.error);
  }
  const core: McpEndpointCore = {
    tools: () => service.getTools({ session_id }),
    execute: (tool_name, args) => service.executeTool({ session_id, tool_name, arguments: args }),
  };
  return endpointOf(c.get("config")).serve(request, core, body);
}

/** The shared endpoint (of an agent, with `?agent_id=`): computed here; its streams spread over a few objects. */
async function serveShared(c: Context<AppEnv>): Promise<Response> {
  checkOrigin(c);
  const agentId = c.req.query("agent_id") ?? "";
  // An agent token opens its own agent's endpoint only (`?agent_id=` its agent: the plain /mcp is the service's).
  requireOwnAgent(c, agentId);
  const config = c.get("config");
  const { request, body, forward } = await checkedRequest(c);
  if (opensStream(request)) {
    // Any shard will do: a change reaches every shard (each follows the agent), and a stream needs no other.
    const name = sharedSessionName(agentId, Math.floor(Math.random() * config.mcp.stream_shards));
    return relayToSession(c.env.SESSIONS, name, forward(), { kind: "mcp", shared: { agent_id: agentId, name } });
  }
  const core = sharedCatalogue({ config, env: c.env, agentId, requestId: c.get("requestId"), waitUntil: (work) => c.executionCtx.waitUntil(work) });
  return endpointOf(config).serve(request, core, body);
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
  const errors: ErrorCode[] = params ? ["forbidden", "session_not_found", "rate_limited"] : ["forbidden", "rate_limited"];
  const common = {
    path,
    tags: ["mcp"] as const,
    tokenInQuery: true,
    agents: true,
    // The MCP SDK reads the JSON-RPC body (documented as JsonRpcMessage) and answers other methods with 405.
    parse: { body: false },
    allMethods: true,
    ...(params ? { params } : {}),
    ...(query ? { query } : {}),
    errors,
  };
  const transportErrors =
    "The transport's own refusals (405 for a DELETE: there are no MCP sessions to close; 406 without " +
    "`Accept: application/json, text/event-stream`; 400 when 2026-07-28 headers and body disagree) are JSON-RPC " +
    "error objects with `data.app_code`.";
  const examples = params ? { params: { sessionId: EXAMPLE_SESSION } } : {};
  return [
    route({
      ...common,
      method: "post",
      operationId: `${id}Post`,
      summary: `MCP message to ${catalogue}`,
      description:
        "Both protocol eras on one URL, statelessly: 2026-07-28 requests (`MCP-Protocol-Version`, `Mcp-Method`, " +
        "`Mcp-Name` headers, `_meta` envelope; `server/discover`) and 2025 ones (`initialize`, no `Mcp-Session-Id` " +
        "needed or issued). `tools/list` carries `ttlMs`/`cacheScope` (2026-07-28); `tools/call` results put the " +
        "ActionResponse in `structuredContent`. `subscriptions/listen` opens the 2026-07-28 notification stream " +
        `(\`notifications/tools/list_changed\`). Answers JSON or an SSE stream. ${transportErrors}`,
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
      summary: `The 2025-era notification stream of ${catalogue} (notifications/tools/list_changed)`,
      description: `Server-sent events with a keep-alive comment every \`mcp.keep_alive_ms\`. ${transportErrors}`,
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
      summary: "Close an MCP session: answered 405, the endpoint keeps none",
      description: transportErrors,
      response: { description: "Never: 405 (a client that closes a session it never got is told so)" },
      examples,
    }, serve),
  ];
}

/**
 * The request to pass on and its JSON body (undefined when none or not JSON), checked for nesting depth first.
 * A parsed body travels beside the request, which the MCP handler then never reads again; only a body that did
 * not parse (the handler answers the parse error) or one bound for an object is attached anew.
 */
async function checkedRequest(c: Context<AppEnv>): Promise<{ request: Request; body: unknown; forward: () => Request }> {
  if (c.req.method !== "POST") return { request: c.req.raw, body: undefined, forward: () => new Request(c.req.raw) };
  const text = await c.req.text();
  checkDepth(c, text);
  const forward = () => new Request(c.req.raw, { body: text });
  try {
    return { request: c.req.raw, body: JSON.parse(text), forward };
  } catch {
    return { request: forward(), body: undefined, forward };
  }
}

function methodOf(body: unknown): string {
  const method = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as { method?: unknown }).method : undefined;
  return typeof method === "string" ? method : "";
}
