/**
 * The OpenAPI 3.1 document of the service (`GET /api/v1/openapi.json`), generated from the same zod schemas
 * the routes validate with, so it cannot drift from them silently.
 *
 * ## Adding a route (test/ops/openapi.test.ts fails, naming the route, until you do)
 * Append one `defineRoute({...})` to {@link ROUTES}, next to its siblings:
 * ```ts
 * defineRoute({
 *   method: "post",
 *   path: "/api/v1/mcp/widgets/{widgetId}/poke", // OpenAPI form `{param}`, not Hono's `:param`
 *   operationId: "pokeWidget",                    // unique; a generated client's method name
 *   summary: "Poke a widget",
 *   tags: ["tools"],
 *   params: z.object({ widgetId: WidgetId }),     // optional; likewise `query` and `headers`
 *   body: PokeBody,                               // optional; the schema the handler parses with (io:"input")
 *   response: { description: "Poked", schema: PokeResult }, // the 200 body (io:"output")
 *   errors: ["session_not_found"],                // codes the handler itself can answer (see below)
 *   examples: { params: { widgetId: "w1" }, body: { force: 1 }, response: { ok: true } },
 * }),
 * ```
 * Then `npx vitest run test/ops src/http/openapi.test.ts`: examples must validate against the schemas (and
 * the REST ones are replayed against the worker in test/ops/examples.test.ts when listed there).
 * - Reuse the schemas of src/core/schemas.ts (or the ones the handler parses with); never restate a shape.
 * - `errors` lists codes of src/core/errors.ts; the document groups them by HTTP status. Added
 *   automatically: `unauthorized` + `config_invalid` (bearer/config middleware) unless `public`,
 *   `invalid_request` with params/query/headers/body, `payload_too_large` with a body, `internal` always.
 * - Not JSON? `response: { status: 101, description }` documents a WebSocket upgrade (no schema);
 *   `response: { contentType: "text/event-stream", schema: z.string(), description }` an SSE stream (likewise
 *   `text/plain; version=0.0.4` for Prometheus text).
 *   Other non-error statuses (e.g. `/readyz`'s 503 report, a 202) go in `otherResponses`.
 * - `public: true` only for routes outside /api, /trpc and /mcp; `protocol: "trpc"` for /trpc procedures (one
 *   entry per procedure: queries `get` with `query: TrpcQuery(Input)`, mutations `post` with the input as body);
 *   `tokenInQuery: true` where `?token=` is accepted too.
 * - Give a schema a stable component name by adding it to {@link NAMED_SCHEMAS}; otherwise bodies and
 *   responses are named after the operation (`<OperationId>Request` / `<OperationId>Response`).
 */
import { z } from "zod";
import type { ProviderStatus } from "../sources/dial-in/agent-rpc";
import { ERROR_CODES, HTTP_STATUS, type ErrorCode } from "../core/errors";
import {
  AgentId,
  BindSessionBody,
  BindSessionInput,
  DeviceFramesBody,
  ExecuteToolBody,
  ExecuteToolInput,
  FramesOutcome,
  HandleMessageInput,
  RelayStatus,
  SessionId,
  SessionRef,
  SessionView,
  ToolDescriptor,
  ToolList,
  ToolName,
  ToolResult,
} from "../core/schemas";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus";
import { VERSION } from "../version";
import { MintEndpointBody } from "./agent-routes";
import { ENDPOINT_PATH, XIAOZHI_PREFIX } from "./endpoint-routes";

// ---------------------------------------------------------------------------------------------------------
// Response schemas that exist only on the wire, composed from the core ones (rest.ts, app.ts, ops-routes.ts).

export const ErrorObject = z.object({
  code: z.enum(ERROR_CODES).describe("Stable machine-readable code; the HTTP status follows from it"),
  message: z.string().describe("Human-readable; may change between versions"),
  details: z.unknown().optional().describe("Optional structured details, e.g. zod issues"),
});

/** Every REST error: `{error:{code,message,details?}}`. */
export const ErrorBody = z.object({ error: ErrorObject });

export const BindSessionResponse = z.object({ success: z.literal(true), session: SessionView });

export const UnbindSessionResponse = z.object({
  success: z.literal(true),
  session_id: z.string(),
  deleted: z.literal(true),
});

/** `/healthz` (liveness, in app.ts). */
export const HealthReport = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  config_issues: z.array(ErrorObject),
});
export const UnhealthyReport = z.object({ status: z.literal("unhealthy"), version: z.string(), error: ErrorObject });

/** Mirrors `ExternalServerState` of src/tools/external; ops-routes.ts assigns one to the other, so tsc catches drift. */
export const ExternalServerStateView = z.object({
  name: z.string(),
  state: z.enum(["starting", "healthy", "unhealthy", "disabled", "misconfigured"]),
  transport: z.string(),
  tool_count: z.number().int().nonnegative(),
  last_error: z.string().nullable(),
  last_success: z.string().nullable().describe("ISO time of the last successful discovery or call"),
  url: z.string().optional().describe("The server URL with credentials and query values masked"),
  visible: z.boolean().optional().describe("Whether its tools are offered to the LLM now"),
  consecutive_failures: z.number().int().nonnegative().optional(),
  next_retry_at: z.string().nullable().optional().describe("ISO time of the next background retry of an unhealthy server"),
});

export const ServerList = z.object({ servers: z.array(ExternalServerStateView) });

/** `/readyz`: 200 with `ready`/`degraded`, 503 with `not_ready`. */
export const ReadinessReport = z.object({
  status: z.enum(["ready", "degraded", "not_ready"]),
  version: z.string(),
  checks: z.object({
    config: z.object({ ok: z.boolean(), error: ErrorObject.optional() }),
    external_servers: z.array(ExternalServerStateView),
    /** Set when the external servers' states could not be read within the readiness deadline. */
    external_servers_error: ErrorObject.optional(),
  }),
});
export type ReadinessReport = z.infer<typeof ReadinessReport>;

/** tRPC v11 envelopes (no transformer: plain JSON). */
const trpcResult = <T extends z.ZodType>(data: T) => z.object({ result: z.object({ data }) });
export const TrpcErrorBody = z.object({
  error: z.object({
    message: z.string(),
    code: z.number().int().describe("JSON-RPC style tRPC error code, e.g. -32004 for NOT_FOUND"),
    data: z.object({
      code: z.string().describe("tRPC code, e.g. NOT_FOUND"),
      httpStatus: z.number().int(),
      app_code: z.enum(ERROR_CODES).describe("The service's stable error code, as in REST"),
      details: z.unknown().optional(),
    }),
  }),
});

/** `POST /api/v1/mcp/agents/{agentId}/endpoint` (agent-routes.ts). */
export const MintEndpointResponse = z.object({
  success: z.literal(true),
  endpoint: z.object({
    agent_id: z.string(),
    provider: z.string().nullable(),
    url: z.string().describe("ws(s)://…/mcp_endpoint/mcp/?token=…: give it to the tool provider (mcp_pipe's MCP_ENDPOINT), or to xiaozhi-esp32-server as `mcp_endpoint`"),
    consumer_url: z.string().describe("The same URL with /mcp/ replaced by /call/: what xiaozhi-esp32-server dials to use the agent's tools"),
    token: z.string().describe("Lower-case hex: it can never spell `key` or `call`, which xiaozhi-esp32-server refuses"),
    expires_at: z.string(),
    warnings: z.array(z.string()).optional().describe("Present when xiaozhi-esp32-server would refuse the URL (its host contains key or call)"),
  }),
});

/** The query of the provider routes. */
const EndpointQuery = z.object({
  token: z.string().describe("The minted endpoint token, or a manager-console token"),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional().describe("Provider name, when the token names none"),
});

/** Mirrors `ProviderStatus` of src/agents/agent-object.ts (see the compile-time check below). */
export const ProviderStatusView = z.object({
  name: z.string(),
  attached: z.boolean(),
  phase: z.string(),
  tool_count: z.number().int(),
  /** False while the provider does not answer pings: its tools are hidden. */
  responsive: z.boolean(),
});
export const ProviderList = z.object({ agent_id: z.string(), providers: z.array(ProviderStatusView) });
type Assignable<T extends U, U> = T;
/** tsc fails here when the agent object's status drifts from what this document says. */
export type ProviderStatusDocumented = Assignable<ProviderStatus, z.infer<typeof ProviderStatusView>>;

/** A JSON-RPC 2.0 message of the MCP Streamable HTTP transport (request, notification or response). */
export const JsonRpcMessage = z.looseObject({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number().int()]).nullable().optional(),
  method: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number().int(), message: z.string() }).optional(),
});

/** The document itself is described loosely: it is validated by a real OpenAPI 3.1 validator in the tests. */
const OpenApiDocumentShape = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });

// ---------------------------------------------------------------------------------------------------------
// The route table.

type Method = "get" | "post" | "put" | "patch" | "delete";
type Tag = "sessions" | "tools" | "ops" | "trpc" | "servers" | "device" | "mcp" | "providers";

const TAGS: Record<Tag, string> = {
  sessions: "Bind a conversation's context to a session, read it, unbind it",
  tools: "The LLM-facing tool list of a session, and tool execution",
  device: "Relay of the device's MCP frames (type:\"mcp\") through the session",
  servers: "External MCP servers",
  mcp: "The service as an MCP server (Streamable HTTP) for generic MCP clients",
  providers: "Dial-in tool providers (MCP 接入点): an agent's providers connect over WebSocket",
  ops: "Health, readiness and this document",
  trpc: "The same operations over tRPC v11 (plain JSON, no transformer); queries are GET ?input=<JSON>",
};

export interface RouteSpec<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  R extends z.ZodType,
  H extends z.ZodObject = z.ZodObject,
> {
  method: Method;
  /** OpenAPI form: `/api/v1/mcp/sessions/{sessionId}`. */
  path: `/${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly Tag[];
  /** No bearer token (only /healthz and /readyz: everything under /api and /trpc is authenticated). */
  public?: boolean;
  /** `trpc`: errors use tRPC's envelope; query parameters are JSON text (`?input=<JSON>`). */
  protocol?: "rest" | "trpc";
  params?: P;
  query?: Q;
  /** Request headers the route reads (not Authorization: that is the security scheme). */
  headers?: H;
  body?: B;
  response: {
    status?: 200 | 101;
    description: string;
    schema?: R;
    /** Default `application/json` (the schema becomes a component); anything else is described inline. */
    contentType?: string;
  };
  /** Codes the handler can answer besides the implicit ones (see the header of this file). */
  errors: readonly ErrorCode[];
  /** Non-error responses with another status, e.g. `/readyz`'s 503 report. */
  otherResponses?: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
  /** MCP endpoints also accept the token as `?token=` (clients that cannot set headers). */
  tokenInQuery?: boolean;
  examples?: {
    params?: z.input<P>;
    query?: z.input<Q>;
    body?: z.input<B>;
    response?: z.output<R>;
  };
}

export type AnyRouteSpec = RouteSpec<z.ZodObject, z.ZodObject, z.ZodType, z.ZodType, z.ZodObject>;

/** Identity with inference: ties each route's examples to its own schemas at compile time. */
export function defineRoute<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType = z.ZodNever,
  R extends z.ZodType = z.ZodNever,
  H extends z.ZodObject = z.ZodObject,
>(spec: RouteSpec<P, Q, B, R, H>): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}

const SessionParams = z.object({ sessionId: SessionId.describe("Conversation id chosen by the gateway (the voice server's session_id)") });
const ToolParams = z.object({ toolName: ToolName.describe("The tool's LLM name, as listed by getTools") });
const ToolsQuery = z.object({ session_id: SessionId });
const TrpcQuery = <T extends z.ZodType>(input: T) => z.object({ input: input.describe("The procedure input as JSON text") });

/** Response schemas nested in several bodies; each must be in {@link NAMED_SCHEMAS}. */
const SHARED_RESPONSE_SCHEMAS: readonly z.ZodType[] = [ErrorBody, TrpcErrorBody, SessionView, RelayStatus, ToolDescriptor, ToolList, ToolResult, ExternalServerStateView];

/** Component names for schemas used in several places; the rest are named after their operation. */
const NAMED_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ["ErrorBody", ErrorBody],
  ["TrpcErrorBody", TrpcErrorBody],
  ["BindSessionBody", BindSessionBody],
  ["BindSessionInput", BindSessionInput],
  ["ExecuteToolBody", ExecuteToolBody],
  ["ExecuteToolInput", ExecuteToolInput],
  ["SessionRef", SessionRef],
  ["SessionView", SessionView],
  ["RelayStatus", RelayStatus],
  ["ToolDescriptor", ToolDescriptor],
  ["ToolList", ToolList],
  ["ToolResult", ToolResult],
  ["BindSessionResponse", BindSessionResponse],
  ["UnbindSessionResponse", UnbindSessionResponse],
  ["HealthReport", HealthReport],
  ["UnhealthyReport", UnhealthyReport],
  ["ReadinessReport", ReadinessReport],
  ["ExternalServerState", ExternalServerStateView],
  ["ServerList", ServerList],
  ["DeviceFramesBody", DeviceFramesBody],
  ["HandleMessageInput", HandleMessageInput],
  ["FramesOutcome", FramesOutcome],
  ["JsonRpcMessage", JsonRpcMessage],
  ["MintEndpointBody", MintEndpointBody],
  ["MintEndpointResponse", MintEndpointResponse],
  ["ProviderList", ProviderList],
];

// Examples: replayed against the real worker by test/ops/examples.test.ts (timestamps aside), so they are
// what the service really answers. docs/integration.md quotes them.
const EXAMPLE_SESSION = "conv-7f3a9c";
const EXAMPLE_DEVICE = "aa:bb:cc:dd:ee:ff";
const EXAMPLE_BIND = { device_id: EXAMPLE_DEVICE, client_id: "3f1c2b9e-0d4a-4e55-9a8b-1c2d3e4f5a6b", enabled_tools: [] };
const EXAMPLE_VIEW: z.output<typeof SessionView> = {
  session_id: EXAMPLE_SESSION,
  device_id: EXAMPLE_DEVICE,
  client_id: EXAMPLE_BIND.client_id,
  vision_url: "",
  has_token: false,
  enabled_tools: [],
  agent_id: "",
  created_at: "2026-11-25T08:00:00.000Z",
  updated_at: "2026-11-25T08:00:00.000Z",
  expires_at: "2026-11-25T08:30:00.000Z",
  tools: { device: 0, local: 6, external: 0, provider: 0 },
  relay: { attached: false, phase: "detached", server_info: null, tool_count: 0, pending_calls: 0 },
};
const EXAMPLE_TOOL: z.output<typeof ToolDescriptor> = {
  name: "local_play_music",
  description: 'Play a song. Use song_name "random" when the user does not name one.',
  input_schema: {
    type: "object",
    properties: { song_name: { type: "string", description: 'Song name, or "random" for any song' } },
    required: ["song_name"],
  },
  source: "local",
};
const EXAMPLE_EXECUTE = { session_id: EXAMPLE_SESSION, arguments: { song_name: "random" } };
const EXAMPLE_RESULT: z.output<typeof ToolResult> = {
  success: true,
  action: "call_handler",
  result: { handler: "mcp_handler_play_music", args: "random" },
};

export const ROUTES: readonly AnyRouteSpec[] = [
  // --- ops ------------------------------------------------------------------------------------------------
  defineRoute({
    method: "get",
    path: "/healthz",
    operationId: "getHealth",
    summary: "Liveness",
    description: "200 while the configuration parses; `degraded` lists external-server configuration issues.",
    tags: ["ops"],
    public: true,
    response: { description: "Alive", schema: HealthReport },
    otherResponses: { 503: { description: "The configuration is invalid", schema: UnhealthyReport } },
    errors: [],
    examples: { response: { status: "ok", version: VERSION, config_issues: [] } },
  }),
  defineRoute({
    method: "get",
    path: "/readyz",
    operationId: "getReadiness",
    summary: "Readiness",
    description:
      "`ready`: configuration valid and every enabled external server healthy. `degraded` (still 200): an external " +
      "server is unhealthy or misconfigured, or its state could not be read in time; local and device tools keep " +
      "working. 503 `not_ready`: the configuration is invalid.",
    tags: ["ops"],
    public: true,
    response: { description: "Ready or degraded", schema: ReadinessReport },
    otherResponses: { 503: { description: "Not ready: the configuration is invalid", schema: ReadinessReport } },
    errors: [],
    examples: { response: { status: "ready", version: VERSION, checks: { config: { ok: true }, external_servers: [] } } },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/openapi.json",
    operationId: "getOpenApi",
    summary: "This OpenAPI 3.1 document",
    tags: ["ops"],
    response: { description: "The document", schema: OpenApiDocumentShape },
    errors: [],
  }),
  defineRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics (text exposition format)",
    description:
      "Bearer token: a service token or the separate `METRICS_TOKEN`, so a scraper never holds a token that can " +
      "call tools. A scrape fails as a whole (5xx) rather than answer partial counters.",
    tags: ["ops"],
    response: { contentType: PROMETHEUS_CONTENT_TYPE, description: "The metrics", schema: z.string() },
    errors: ["timeout"],
    examples: {
      response:
        "# HELP mcp_upstream_up Whether an external MCP server is healthy (1) or not (0).\n" +
        "# TYPE mcp_upstream_up gauge\n" +
        'mcp_upstream_up{server="calculator"} 1\n',
    },
  }),
  // --- REST ----------------------------------------------------------------------------------------------
  defineRoute({
    method: "post",
    path: "/api/v1/mcp/sessions/{sessionId}/bind",
    operationId: "bindSession",
    summary: "Bind (or rebind) a conversation's context",
    description:
      "Call at device connect. Binding again updates the context and keeps `created_at` (devices reconnect " +
      "for every conversation), so the call is idempotent and safe to retry.",
    tags: ["sessions"],
    params: SessionParams,
    body: BindSessionBody,
    response: { description: "The bound session", schema: BindSessionResponse },
    errors: [],
    examples: { params: { sessionId: EXAMPLE_SESSION }, body: EXAMPLE_BIND, response: { success: true, session: EXAMPLE_VIEW } },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/mcp/sessions/{sessionId}",
    operationId: "getSession",
    summary: "Read a session (its token is never returned)",
    tags: ["sessions"],
    params: SessionParams,
    response: { description: "The session", schema: SessionView },
    errors: ["session_not_found"],
    examples: { params: { sessionId: EXAMPLE_SESSION }, response: EXAMPLE_VIEW },
  }),
  defineRoute({
    method: "delete",
    path: "/api/v1/mcp/sessions/{sessionId}",
    operationId: "unbindSession",
    summary: "Unbind a session at device disconnect",
    description: "Deletes the session's state and closes its device relay. A second call answers `session_not_found`.",
    tags: ["sessions"],
    params: SessionParams,
    response: { description: "Deleted", schema: UnbindSessionResponse },
    errors: ["session_not_found"],
    examples: { params: { sessionId: EXAMPLE_SESSION }, response: { success: true, session_id: EXAMPLE_SESSION, deleted: true } },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/mcp/tools",
    operationId: "getTools",
    summary: "The session's tools, as the LLM sees them",
    description: "Device tools (device order), then local, then external (config order): the same inputs give the same list.",
    tags: ["tools"],
    query: ToolsQuery,
    response: { description: "The tool list", schema: ToolList },
    errors: ["session_not_found"],
    examples: { query: { session_id: EXAMPLE_SESSION }, response: { tools: [EXAMPLE_TOOL] } },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/mcp/tools/{toolName}/execute",
    operationId: "executeTool",
    summary: "Run a tool; the result follows the ActionResponse contract",
    description:
      "A tool that ran and failed is a 200 with `success:false, action:\"error\"`; API errors are for calls that " +
      "could not run. Not idempotent: never retried by the client.",
    tags: ["tools"],
    params: ToolParams,
    body: ExecuteToolBody,
    response: { description: "The tool's result", schema: ToolResult },
    errors: ["session_not_found", "tool_not_found", "session_conflict", "upstream_error", "device_unavailable", "timeout"],
    examples: { params: { toolName: "local_play_music" }, body: EXAMPLE_EXECUTE, response: EXAMPLE_RESULT },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/mcp/servers",
    operationId: "listServers",
    summary: "External MCP servers and their live state (config order)",
    tags: ["servers"],
    response: { description: "The configured servers", schema: ServerList },
    errors: [],
    examples: {
      response: {
        servers: [
          {
            name: "calculator",
            state: "healthy",
            transport: "streamable-http",
            tool_count: 2,
            last_error: null,
            last_success: "2026-11-25T08:00:00.000Z",
            url: "https://tools.example.com/mcp",
            visible: true,
            consecutive_failures: 0,
            next_retry_at: null,
          },
        ],
      },
    },
  }),
  // --- dial-in tool providers ---------------------------------------------------------------------------
  defineRoute({
    method: "post",
    path: "/api/v1/mcp/agents/{agentId}/endpoint",
    operationId: "mintProviderEndpoint",
    summary: "Mint the WebSocket URL a tool provider dials in with, for one agent",
    description: "Sessions bound with this `agent_id` see the agent's provider tools. Needs `MCP_ENDPOINT_SECRET` (else `config_invalid`).",
    tags: ["providers"],
    params: z.object({ agentId: AgentId }),
    body: MintEndpointBody,
    response: { description: "The endpoint", schema: MintEndpointResponse },
    errors: [],
    examples: {
      params: { agentId: "agent-42" },
      body: { provider: "calendar", ttl_seconds: 86_400 },
      response: {
        success: true,
        endpoint: {
          agent_id: "agent-42",
          provider: "calendar",
          url: "wss://mcp.example.com/mcp_endpoint/mcp/?token=7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7",
          consumer_url: "wss://mcp.example.com/mcp_endpoint/call/?token=7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7",
          token: "7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7",
          expires_at: "2026-11-26T08:00:00.000Z",
        },
      },
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/mcp/agents/{agentId}/providers",
    operationId: "listProviders",
    summary: "The agent's dial-in providers and their state",
    tags: ["providers"],
    params: z.object({ agentId: AgentId }),
    response: { description: "The providers", schema: ProviderList },
    errors: [],
    examples: {
      params: { agentId: "agent-42" },
      response: { agent_id: "agent-42", providers: [{ name: "calendar", attached: true, phase: "ready", tool_count: 3, responsive: true }] },
    },
  }),
  ...(["/mcp/", "/mcp"] as const).map((suffix) =>
    defineRoute({
      method: "get",
      path: `${XIAOZHI_PREFIX}${suffix}`,
      operationId: suffix === "/mcp/" ? "dialProviderEndpoint" : "dialProviderEndpointNoSlash",
      summary: "Where a tool provider connects (Upgrade: websocket), speaking plain MCP JSON-RPC",
      description:
        "The URL minted by POST /api/v1/mcp/agents/{agentId}/endpoint (mcp_pipe's MCP_ENDPOINT). Authenticated by the " +
        "token alone: a minted one, or a manager-console token when XIAOZHI_ENDPOINT_KEY is set. A bad or expired " +
        "token still gets the WebSocket, closed at once with 1008 and the reason, which is what WebSocket clients can show.",
      tags: ["providers"],
      public: true,
      query: EndpointQuery,
      response: { status: 101, description: "Switching Protocols: the provider's MCP WebSocket" },
      errors: ["invalid_request"],
      examples: { query: { token: "7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7" } },
    }),
  ),
  ...(["/call/", "/call"] as const).map((suffix) =>
    defineRoute({
      method: "get",
      path: `${XIAOZHI_PREFIX}${suffix}`,
      operationId: suffix === "/call/" ? "dialConsumerEndpoint" : "dialConsumerEndpointNoSlash",
      summary: "Where a consumer (xiaozhi-esp32-server) uses an agent's tools (Upgrade: websocket), raw MCP JSON-RPC",
      description:
        "The provider URL with /mcp/ replaced by /call/, the same token. The service is the MCP server: initialize, " +
        "tools/list (every provider of the agent, paged with cursor), tools/call (routed to the owning provider, its " +
        "result as the tool gave it). Nothing but replies is sent. A refused token: the WebSocket closed with 1008.",
      tags: ["providers"],
      public: true,
      query: z.object({ token: z.string().describe("The minted endpoint token, or a manager-console token") }),
      response: { status: 101, description: "Switching Protocols: the consumer's MCP WebSocket" },
      errors: ["invalid_request"],
      examples: { query: { token: "7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7" } },
    }),
  ),
  defineRoute({
    method: "get",
    path: `${XIAOZHI_PREFIX}/health`,
    operationId: "consoleHealth",
    summary: "The health URL xiaozhi's manager console is configured with (system parameter server.mcp_endpoint)",
    description:
      "With `XIAOZHI_ENDPOINT_KEY` set: 200 and a body containing `success` for the right key (what the console checks), " +
      "401 otherwise; 404 when the console endpoint is off.",
    tags: ["providers"],
    public: true,
    query: z.object({ key: z.string().describe("XIAOZHI_ENDPOINT_KEY") }),
    response: {
      description: "The endpoint answers",
      schema: z.object({ jsonrpc: z.literal("2.0"), id: z.null(), error: z.null(), result: z.object({ status: z.literal("success"), service: z.string(), version: z.string() }) }),
    },
    errors: ["unauthorized", "route_not_found"],
    examples: {
      query: { key: "6a369b7f1bcf4d3e8d123ece38bb9627" },
      response: { jsonrpc: "2.0", id: null, error: null, result: { status: "success", service: "xiaozhi-mcp-service", version: "0.1.0" } },
    },
  }),
  defineRoute({
    method: "get",
    path: ENDPOINT_PATH as `/${string}`,
    operationId: "dialProviderEndpointLegacy",
    summary: "The provider URL of earlier versions (Upgrade: websocket): still served, same as /mcp_endpoint/mcp/",
    description: "Providers deployed with URLs minted before the /mcp_endpoint/ paths keep working.",
    tags: ["providers"],
    public: true,
    query: EndpointQuery,
    response: { status: 101, description: "Switching Protocols: the provider's MCP WebSocket" },
    errors: ["invalid_request"],
    examples: { query: { token: "7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7" } },
  }),
  // --- device relay --------------------------------------------------------------------------------------
  defineRoute({
    method: "get",
    path: "/api/v1/mcp/sessions/{sessionId}/device",
    operationId: "attachDeviceRelay",
    summary: "Attach the device relay as a WebSocket (Upgrade: websocket)",
    description:
      "The gateway opens this WebSocket after bind and relays, both ways and unchanged, the text frames " +
      "`{\"session_id\",\"type\":\"mcp\",\"payload\":{JSON-RPC}}` it exchanges with the device. The session then " +
      "runs the device handshake (initialize, tools/list) itself. A new relay replaces the previous one " +
      "(closed with 4001); unbind and expiry close it with 4000. Needs a bound session.",
    tags: ["device"],
    params: SessionParams,
    response: { status: 101, description: "Switching Protocols: the relay WebSocket" },
    errors: ["session_not_found"],
    examples: { params: { sessionId: EXAMPLE_SESSION } },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/mcp/sessions/{sessionId}/device/events",
    operationId: "attachDeviceEvents",
    summary: "Attach the device relay as server-sent events (for gateways without WebSockets)",
    description:
      "Frames for the device arrive as `event: mcp` with an integer `id` and the envelope JSON as `data`; " +
      "the device's replies go to POST …/messages. Reconnect with `Last-Event-ID` to resume without loss " +
      "(a bounded outbox is kept). Comment lines (`: ping`) keep the stream alive.",
    tags: ["device"],
    params: SessionParams,
    headers: z.object({ "Last-Event-ID": z.string().regex(/^\d+$/).optional().describe("Resume after this event id") }),
    response: { contentType: "text/event-stream", description: "The SSE stream", schema: z.string() },
    errors: ["session_not_found"],
    examples: {
      params: { sessionId: EXAMPLE_SESSION },
      response:
        ": relay open\n\nid: 1\nevent: mcp\ndata: " +
        JSON.stringify({
          session_id: EXAMPLE_SESSION,
          type: "mcp",
          payload: {
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: {
              protocolVersion: "2024-11-05",
              capabilities: { vision: { url: "", token: "" } },
              clientInfo: { name: "XiaozhiClient", version: "1.0.0" },
            },
          },
        }) +
        "\n\n",
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/mcp/sessions/{sessionId}/messages",
    operationId: "postDeviceFrames",
    summary: "Relay the device's frames over HTTP: one envelope, or {frames:[…]}",
    description: "Each frame is handled as if it came over the relay WebSocket; a bad frame is counted as dropped, never fatal.",
    tags: ["device"],
    params: SessionParams,
    body: DeviceFramesBody,
    response: { description: "How many frames were accepted and dropped", schema: FramesOutcome },
    errors: ["session_not_found"],
    examples: {
      params: { sessionId: EXAMPLE_SESSION },
      body: { session_id: EXAMPLE_SESSION, type: "mcp", payload: { jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "true" }], isError: false } } },
      response: { success: true, result: { accepted: 1, dropped: 0 } },
    },
  }),
  // --- MCP endpoints (Streamable HTTP) --------------------------------------------------------------------
  ...mcpEndpoint("/api/v1/mcp/sessions/{sessionId}/mcp", "sessionMcp", "one session's catalogue (device, local, external tools)"),
  ...mcpEndpoint("/mcp", "sharedMcp", "the shared catalogue (local and external tools, no device)"),
  // --- tRPC ----------------------------------------------------------------------------------------------
  defineRoute({
    method: "post",
    path: "/trpc/bindSession",
    operationId: "trpcBindSession",
    summary: "tRPC mutation bindSession",
    tags: ["trpc"],
    protocol: "trpc",
    body: BindSessionInput,
    response: { description: "`{result:{data: SessionView}}`", schema: trpcResult(SessionView) },
    errors: [],
    examples: { body: { ...EXAMPLE_BIND, session_id: EXAMPLE_SESSION }, response: { result: { data: EXAMPLE_VIEW } } },
  }),
  defineRoute({
    method: "get",
    path: "/trpc/getSession",
    operationId: "trpcGetSession",
    summary: "tRPC query getSession: GET /trpc/getSession?input=<JSON>",
    tags: ["trpc"],
    protocol: "trpc",
    query: TrpcQuery(SessionRef),
    response: { description: "`{result:{data: SessionView}}`", schema: trpcResult(SessionView) },
    errors: ["session_not_found"],
    examples: { query: { input: { session_id: EXAMPLE_SESSION } }, response: { result: { data: EXAMPLE_VIEW } } },
  }),
  defineRoute({
    method: "post",
    path: "/trpc/unbindSession",
    operationId: "trpcUnbindSession",
    summary: "tRPC mutation unbindSession",
    tags: ["trpc"],
    protocol: "trpc",
    body: SessionRef,
    response: {
      description: "`{result:{data:{session_id, deleted:true}}}`",
      schema: trpcResult(z.object({ session_id: z.string(), deleted: z.literal(true) })),
    },
    errors: ["session_not_found"],
    examples: { body: { session_id: EXAMPLE_SESSION }, response: { result: { data: { session_id: EXAMPLE_SESSION, deleted: true } } } },
  }),
  defineRoute({
    method: "get",
    path: "/trpc/getTools",
    operationId: "trpcGetTools",
    summary: "tRPC query getTools: GET /trpc/getTools?input=<JSON>",
    tags: ["trpc"],
    protocol: "trpc",
    query: TrpcQuery(SessionRef),
    response: { description: "`{result:{data: ToolList}}`", schema: trpcResult(ToolList) },
    errors: ["session_not_found"],
    examples: { query: { input: { session_id: EXAMPLE_SESSION } }, response: { result: { data: { tools: [EXAMPLE_TOOL] } } } },
  }),
  defineRoute({
    method: "post",
    path: "/trpc/executeTool",
    operationId: "trpcExecuteTool",
    summary: "tRPC mutation executeTool",
    tags: ["trpc"],
    protocol: "trpc",
    body: ExecuteToolInput,
    response: { description: "`{result:{data: ToolResult}}`", schema: trpcResult(ToolResult) },
    errors: ["session_not_found", "tool_not_found", "session_conflict", "upstream_error", "device_unavailable", "timeout"],
    examples: { body: { ...EXAMPLE_EXECUTE, tool_name: "local_play_music" }, response: { result: { data: EXAMPLE_RESULT } } },
  }),
  defineRoute({
    method: "post",
    path: "/trpc/handleXiaoZhiMessage",
    operationId: "trpcHandleXiaoZhiMessage",
    summary: "tRPC mutation handleXiaoZhiMessage: device frames, as POST …/messages",
    tags: ["trpc"],
    protocol: "trpc",
    body: HandleMessageInput,
    response: { description: "`{result:{data: FramesOutcome}}`", schema: trpcResult(FramesOutcome) },
    errors: ["session_not_found"],
    examples: {
      body: { session_id: EXAMPLE_SESSION, type: "mcp", payload: { jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "true" }], isError: false } } },
      response: { result: { data: { success: true, result: { accepted: 1, dropped: 0 } } } },
    },
  }),
];

/** POST/GET/DELETE of one MCP Streamable HTTP endpoint; the MCP SDK's transport serves them. */
function mcpEndpoint(path: `/${string}`, id: string, catalogue: string): AnyRouteSpec[] {
  const params = path.includes("{sessionId}") ? SessionParams : undefined;
  // The shared endpoint also serves the dial-in providers of `?agent_id=`.
  const query = params ? undefined : z.object({ agent_id: AgentId.optional().describe("Add this agent's dial-in providers' tools") });
  const errors: ErrorCode[] = params ? ["forbidden", "session_not_found"] : ["forbidden"];
  const common = {
    path,
    tags: ["mcp"] as const,
    tokenInQuery: true,
    ...(params ? { params } : {}),
    ...(query ? { query } : {}),
    errors,
  };
  const transportErrors =
    "The transport's own refusals (400 without `Mcp-Session-Id`, 404 for an unknown MCP session: re-initialize, " +
    "406 without `Accept: application/json, text/event-stream`) are JSON-RPC error objects.";
  const examples = params ? { params: { sessionId: EXAMPLE_SESSION } } : {};
  return [
    defineRoute({
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
    }),
    defineRoute({
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
    }),
    defineRoute({
      ...common,
      method: "delete",
      operationId: `${id}Close`,
      summary: "Close the MCP session named by Mcp-Session-Id",
      description: transportErrors,
      response: { description: "Closed" },
      examples,
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The generator.

type JsonSchema = z.core.JSONSchema.BaseSchema;
type JsonObject = { [key: string]: unknown };

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonObject> };
}

const COMPONENT_REF = "#/components/schemas/";

/** Builds the document from a route table (the default one unless a test passes another). */
export function buildOpenApiDocument(routes: readonly AnyRouteSpec[] = ROUTES): OpenApiDocument {
  const names = componentNames(routes);
  const requestSchemas = componentSchemas(names.requests, "input");
  const responseSchemas = componentSchemas(names.responses, "output");
  for (const [name, schema] of Object.entries(responseSchemas)) {
    if (name in requestSchemas && JSON.stringify(requestSchemas[name]) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI component ${name} differs between request and response use`);
    }
  }
  const schemas = { ...requestSchemas, ...responseSchemas };

  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`Duplicate OpenAPI route ${route.method.toUpperCase()} ${route.path}`);
    item[route.method] = operation(route, names);
  }
  const usedTags = new Set(routes.flatMap((route) => route.tags));
  return {
    openapi: "3.1.0",
    info: {
      title: "xiaozhi MCP service",
      version: VERSION,
      description:
        "The tool service of the xiaozhi voice-assistant stack. Every error is `{error:{code,message,details?}}` " +
        "with a stable `code`; the HTTP status follows from the code. See docs/integration.md.",
    },
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    tags: Object.entries(TAGS)
      .filter(([name]) => usedTags.has(name as Tag))
      .map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "One of the tokens in MCP_SERVICE_TOKEN" },
        tokenQuery: { type: "apiKey", in: "query", name: "token", description: "The same token as ?token=, on the MCP endpoints only" },
      },
    },
  };
}

let cached: OpenApiDocument | undefined;

/** The default document, built once per isolate (pure data: safe to keep in module scope). */
export function openApiDocument(): OpenApiDocument {
  cached ??= buildOpenApiDocument();
  return cached;
}

interface ComponentNames {
  requests: Map<z.ZodType, string>;
  responses: Map<z.ZodType, string>;
}

function componentNames(routes: readonly AnyRouteSpec[]): ComponentNames {
  const named = new Map(NAMED_SCHEMAS.map(([name, schema]) => [schema, name] as const));
  const requests = new Map<z.ZodType, string>();
  const responses = new Map<z.ZodType, string>();
  const nameOf = (schema: z.ZodType, fallback: string) => named.get(schema) ?? fallback;
  const title = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);
  for (const route of routes) {
    if (route.body) requests.set(route.body, nameOf(route.body, `${title(route.operationId)}Request`));
    if (route.response.schema && (route.response.contentType ?? "application/json") === "application/json") {
      responses.set(route.response.schema, nameOf(route.response.schema, `${title(route.operationId)}Response`));
    }
    for (const [status, other] of Object.entries(route.otherResponses ?? {})) {
      if (other.schema) responses.set(other.schema, nameOf(other.schema, `${title(route.operationId)}Response${status}`));
    }
  }
  // Nested in several bodies: a component of their own, so generated clients get one type for each.
  for (const schema of SHARED_RESPONSE_SCHEMAS) if (!responses.has(schema)) responses.set(schema, nameOf(schema, ""));
  return { requests, responses };
}

/** Converts a set of named schemas at once, so nested named schemas become `$ref`s between components. */
function componentSchemas(named: Map<z.ZodType, string>, io: "input" | "output"): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  const ids = new Set<string>();
  for (const [schema, id] of named) {
    if (ids.has(id)) throw new Error(`OpenAPI component name ${id} is used by two different schemas`);
    ids.add(id);
    registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `${COMPONENT_REF}${id}`, override: publishable });
  const shared = schemas.__shared?.$defs ?? {};
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    if (id === "__shared") continue;
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    out[id] = inlineShared(rest, shared, `${COMPONENT_REF}__shared#/$defs/`) as JsonSchema;
  }
  return out;
}

/** A schema converted on its own (path and query parameters), with zod's `$defs` inlined. */
function standalone(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { io, override: publishable });
  return inlineShared(rest, $defs ?? {}, "#/$defs/") as JsonSchema;
}

/**
 * Adjusts zod's output for publication:
 * - `z.json()` is recursive; zod emits it as a self-referencing `$def` whose registry URI
 *   (`…/__shared#/$defs/…`) is no valid OpenAPI reference. It means "any JSON value", which is `{}` in JSON
 *   Schema and `json.RawMessage`/`interface{}` to a Go generator.
 * - Non-strict objects drop `additionalProperties:false`: a client must accept fields added later.
 *   Strict request bodies keep it, because the service refuses unknown keys there.
 */
function publishable(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void {
  const def = ctx.zodSchema._zod.def;
  if (isJsonValue(ctx.zodSchema)) {
    for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonObject)[key];
    ctx.jsonSchema.description = "Any JSON value";
    return;
  }
  if (def.type === "object" && def.catchall === undefined) delete ctx.jsonSchema.additionalProperties;
  // zod bounds `.int()` by ±(2^53-1); that is JSON's safe range, not a rule of the API: leave it out.
  if (ctx.jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete ctx.jsonSchema.minimum;
  if (ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete ctx.jsonSchema.maximum;
}

const JSON_MEMBERS = ["array", "boolean", "null", "number", "record", "string"].join();

function isJsonValue(schema: z.core.$ZodTypes): boolean {
  const def = schema._zod.def;
  if (def.type !== "lazy") return false;
  const inner = (def.getter() as z.core.$ZodTypes)._zod.def;
  return inner.type === "union" && inner.options.map((option) => option._zod.def.type).sort().join() === JSON_MEMBERS;
}

function inlineShared(node: unknown, defs: Record<string, JsonSchema>, prefix: string): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineShared(item, defs, prefix));
  if (typeof node !== "object" || node === null) return node;
  const object = node as JsonObject;
  const ref = object.$ref;
  if (typeof ref === "string" && ref.startsWith(prefix)) {
    const target = defs[ref.slice(prefix.length)];
    if (!target) throw new Error(`Unresolvable zod reference ${ref}`);
    const { $ref: _ref, ...siblings } = object;
    return { ...(inlineShared(target, defs, prefix) as JsonObject), ...siblings };
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, inlineShared(value, defs, prefix)]));
}

function operation(route: AnyRouteSpec, names: ComponentNames): JsonObject {
  const trpc = route.protocol === "trpc";
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [...route.tags],
    ...(route.public ? { security: [] } : {}),
    ...(route.tokenInQuery ? { security: [{ bearerAuth: [] }, { tokenQuery: [] }] } : {}),
  };
  const parameters = [
    ...parametersOf(route.params, "path", false, route.examples?.params),
    ...parametersOf(route.query, "query", trpc, route.examples?.query),
    ...parametersOf(route.headers, "header", false, undefined),
  ];
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) {
    op.requestBody = {
      required: true,
      content: { "application/json": withExample({ schema: refTo(route.body, names.requests) }, route.examples?.body) },
    };
  }
  op.responses = responsesOf(route, names);
  return op;
}

function parametersOf(schema: z.ZodObject | undefined, where: "path" | "query" | "header", json: boolean, example: unknown): JsonObject[] {
  if (!schema) return [];
  const converted = standalone(schema, "input");
  const required = new Set(converted.required ?? []);
  const examples = (example ?? {}) as JsonObject;
  return Object.entries(converted.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property as JsonSchema;
    const value = examples[name];
    const base: JsonObject = { name, in: where, required: where === "path" || required.has(name) };
    if (description) base.description = description;
    // tRPC queries carry their input as JSON text: OpenAPI says so with `content` instead of `schema`.
    if (json) return { ...base, content: { "application/json": withExample({ schema: propertySchema }, value) } };
    return { ...base, schema: propertySchema, ...(value === undefined ? {} : { example: value }) };
  });
}

function responsesOf(route: AnyRouteSpec, names: ComponentNames): JsonObject {
  const success = route.response;
  const responses: JsonObject = {};
  const contentType = success.contentType ?? "application/json";
  const media = success.schema
    ? {
        [contentType]: withExample(
          { schema: contentType === "application/json" ? refTo(success.schema, names.responses) : standalone(success.schema, "output") },
          route.examples?.response,
        ),
      }
    : undefined;
  responses[String(success.status ?? 200)] = { description: success.description, ...(media ? { content: media } : {}) };
  for (const [status, other] of Object.entries(route.otherResponses ?? {})) {
    responses[status] = other.schema
      ? { description: other.description, content: { "application/json": { schema: refTo(other.schema, names.responses) } } }
      : { description: other.description };
  }
  const errorSchema = { $ref: `${COMPONENT_REF}${route.protocol === "trpc" ? "TrpcErrorBody" : "ErrorBody"}` };
  for (const [status, codes] of errorStatuses(route)) {
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\``).join(", "),
      "x-error-codes": codes,
      content: { "application/json": { schema: errorSchema } },
    };
  }
  return responses;
}

/** Every code a route can answer, grouped by HTTP status, in status order. */
export function errorStatuses(route: AnyRouteSpec): [number, ErrorCode[]][] {
  const codes = new Set<ErrorCode>(route.errors);
  if (!route.public) codes.add("unauthorized").add("config_invalid");
  if (route.params || route.query || route.headers || route.body) codes.add("invalid_request");
  if (route.body) codes.add("payload_too_large");
  codes.add("internal");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of ERROR_CODES) {
    if (!codes.has(code)) continue;
    const status = HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return [...byStatus.entries()].sort(([a], [b]) => a - b);
}

function refTo(schema: z.ZodType, names: Map<z.ZodType, string>): JsonObject {
  const name = names.get(schema);
  if (!name) throw new Error("OpenAPI schema without a component name");
  return { $ref: `${COMPONENT_REF}${name}` };
}

function withExample(media: JsonObject, example: unknown): JsonObject {
  return example === undefined ? media : { ...media, example };
}
