/**
 * Where tool providers and their consumers connect (MCP 接入点), authenticated by the token in the URL alone:
 *
 * - `/mcp_endpoint/mcp/?token=` — a provider (mcp_pipe) dials in and serves its tools;
 * - `/mcp_endpoint/call/?token=` — a consumer (xiaozhi-esp32-server, after its `/mcp/` → `/call/` rewrite) uses
 *   the tools of every provider of that token's agent;
 * - `/mcp_endpoint/health?key=` — the URL xiaozhi's manager console is configured with (`server.mcp_endpoint`);
 * - `/api/v1/mcp/endpoint?token=` — the provider URL of earlier versions, still served.
 *
 * The paths are the reference endpoint server's (`/mcp_endpoint/…`), so its URLs move here with only the host
 * changed. Tokens are the service's own minted ones or, with `XIAOZHI_ENDPOINT_KEY` set, the manager console's.
 * A refused token still gets its WebSocket, closed at once with 1008 and the reason, which is what WebSocket
 * clients can show; a request that is no upgrade at all gets 400.
 */
import type { Context } from "hono";
import { z } from "zod";
import { agentRpc } from "../sources/dial-in/agent-source";
import { decryptConsoleToken } from "../sources/dial-in/console-token";
import { verifyToken } from "../sources/dial-in/endpoint-token";
import { AppException, appError, ok, type Result } from "../core/errors";
import { forObject } from "../core/object-request";
import { VERSION } from "../version";
import type { AppEnv } from "./app-env";
import { isAcceptedToken } from "./auth";
import { EXAMPLE_ENDPOINT_TOKEN } from "./examples";
import { route } from "./openapi/spec";

export const ENDPOINT_PATH = "/api/v1/mcp/endpoint";
export const XIAOZHI_PREFIX = "/mcp_endpoint";

const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,32}$/;

interface Credential {
  agent_id: string;
  /** The provider name a minted token carries. */
  provider?: string;
}

/** A minted token (hex or legacy JWT), or a manager-console token when the console key is configured. */
async function resolveToken(env: Env, token: string | undefined): Promise<Result<Credential>> {
  if (token === undefined || token === "") return { ok: false, error: appError("unauthorized", "Missing token") };
  if (token.includes(".")) {
    const claims = await verifyToken(env.MCP_ENDPOINT_SECRET, token, Math.floor(Date.now() / 1000));
    return claims.ok ? ok({ agent_id: claims.value.sub, ...(claims.value.prv ? { provider: claims.value.prv } : {}) }) : claims;
  }
  if (!env.XIAOZHI_ENDPOINT_KEY) return { ok: false, error: appError("unauthorized", "Malformed endpoint token") };
  return decryptConsoleToken(env.XIAOZHI_ENDPOINT_KEY, token);
}

async function dialIn(c: Context<AppEnv>, role: "provider" | "consumer"): Promise<Response> {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new AppException(appError("invalid_request", "Expected a WebSocket upgrade (Upgrade: websocket)"));
  }
  const credential = await resolveToken(c.env, c.req.query("token"));
  if (!credential.ok) return refuseSocket(credential.error.message);
  const agent_id = credential.value.agent_id;
  if (role === "consumer") return agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, agent_id).fetch(forObject(c.req.raw, { kind: "consumer", agent_id }));
  const name = credential.value.provider ?? c.req.query("name");
  if (name !== undefined && !PROVIDER_NAME.test(name)) return refuseSocket("Invalid provider name");
  const call = { kind: "provider" as const, agent_id, provider: name ?? null };
  return agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, agent_id).fetch(forObject(c.req.raw, call));
}

/** The query of the provider routes. */
const EndpointQuery = z.object({
  token: z.string().describe("The minted endpoint token, or a manager-console token"),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional().describe("Provider name, when the token names none"),
});

/** The provider URL's routes; a WebSocket route checks its token itself (a refusal is a 1008 close, not a 400). */
const providerRoute = (path: `/${string}`, operationId: string, summary: string, description: string, aliases: string[] = []) =>
  route(
    {
      method: "get",
      path,
      aliases,
      operationId,
      summary,
      description,
      tags: ["providers"],
      public: true,
      query: EndpointQuery,
      parse: { query: false },
      response: { status: 101, description: "Switching Protocols: the provider's MCP WebSocket" },
      errors: ["invalid_request"],
      examples: { query: { token: EXAMPLE_ENDPOINT_TOKEN } },
    },
    (c) => dialIn(c, "provider"),
  );

const consumerRoute = (path: `/${string}`, operationId: string, aliases: string[] = []) =>
  route(
    {
      method: "get",
      path,
      aliases,
      operationId,
      summary: "Where a consumer (xiaozhi-esp32-server) uses an agent's tools (Upgrade: websocket), raw MCP JSON-RPC",
      description:
        "The provider URL with /mcp/ replaced by /call/, the same token. The service is the MCP server: initialize, " +
        "tools/list (every provider of the agent, paged with cursor), tools/call (routed to the owning provider, its " +
        "result as the tool gave it). Nothing but replies is sent. A refused token: the WebSocket closed with 1008. " +
        "Also at /mcp_endpoint/call/ (the form xiaozhi-esp32-server dials).",
      tags: ["providers"],
      public: true,
      query: z.object({ token: z.string().describe("The minted endpoint token, or a manager-console token") }),
      parse: { query: false },
      response: { status: 101, description: "Switching Protocols: the consumer's MCP WebSocket" },
      errors: ["invalid_request"],
      examples: { query: { token: EXAMPLE_ENDPOINT_TOKEN } },
    },
    (c) => dialIn(c, "consumer"),
  );

const PROVIDER_DESCRIPTION =
  "The URL minted by POST /api/v1/mcp/agents/{agentId}/endpoint (mcp_pipe's MCP_ENDPOINT). Authenticated by the " +
  "token alone: a minted one, or a manager-console token when XIAOZHI_ENDPOINT_KEY is set. A bad or expired " +
  "token still gets the WebSocket, closed at once with 1008 and the reason, which is what WebSocket clients can show.";
const PROVIDER_SUMMARY = "Where a tool provider connects (Upgrade: websocket), speaking plain MCP JSON-RPC";

export const endpointRoutes = [
  // Served with and without the trailing slash (xiaozhi's URLs have it: `/mcp/?token=`, `/call/?token=`).
  providerRoute(`${XIAOZHI_PREFIX}/mcp`, "dialProviderEndpoint", PROVIDER_SUMMARY, `${PROVIDER_DESCRIPTION} Also at ${XIAOZHI_PREFIX}/mcp/.`, [`${XIAOZHI_PREFIX}/mcp/`]),
  consumerRoute(`${XIAOZHI_PREFIX}/call`, "dialConsumerEndpoint", [`${XIAOZHI_PREFIX}/call/`]),
  route(
    {
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
      parse: { query: false },
      response: {
        description: "The endpoint answers",
        schema: z.object({ jsonrpc: z.literal("2.0"), id: z.null(), error: z.null(), result: z.object({ status: z.literal("success"), service: z.string(), version: z.string() }) }),
      },
      errors: ["unauthorized", "route_not_found"],
      examples: {
        query: { key: "6a369b7f1bcf4d3e8d123ece38bb9627" },
        response: { jsonrpc: "2.0", id: null, error: null, result: { status: "success", service: "xiaozhi-mcp-service", version: "0.1.0" } },
      },
    },
    async (c) => {
      // The console checks for HTTP 200 and a body containing `success`; anything else is a failed check.
      const key = c.env.XIAOZHI_ENDPOINT_KEY;
      if (!key) throw new AppException(appError("route_not_found", "The manager-console endpoint is off: XIAOZHI_ENDPOINT_KEY is not set"));
      if (!(await isAcceptedToken(c.req.query("key"), [key]))) throw new AppException(appError("unauthorized", "Missing or wrong key"));
      return { jsonrpc: "2.0" as const, id: null, error: null, result: { status: "success" as const, service: "xiaozhi-mcp-service", version: VERSION } };
    },
  ),
  providerRoute(
    ENDPOINT_PATH as `/${string}`,
    "dialProviderEndpointLegacy",
    "The provider URL of earlier versions (Upgrade: websocket): still served, same as /mcp_endpoint/mcp/",
    "Providers deployed with URLs minted before the /mcp_endpoint/ paths keep working.",
  ),
];

/** 1008 = policy violation: the standard close code for a refused credential. */
function refuseSocket(reason: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(1008, reason.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
