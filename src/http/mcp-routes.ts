/**
 * The MCP endpoints (Streamable HTTP): `/api/v1/mcp/sessions/{sessionId}/mcp` for one session's catalogue,
 * `/mcp` for the shared one (local + external tools, plus the providers of `?agent_id=`). The session's Durable Object serves both; this layer
 * only authenticates (in app.ts) and guards against DNS rebinding.
 */
import { Hono, type Context } from "hono";
import { AppException, appError } from "../core/errors";
import { AgentId, SessionId } from "../core/schemas";
import { relayToSession } from "../session/session-directory";
import { sharedSessionName } from "../session/session";
import type { AppEnv } from "./app-env";
import { checkDepth, parseInput } from "./request";

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

export const mcpRoutes = new Hono<AppEnv>()
  .all("/api/v1/mcp/sessions/:sessionId/mcp", async (c) => {
    checkOrigin(c);
    const sessionId = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    return relayToSession(c.env.SESSIONS, sessionId, await checkedRequest(c), { kind: "mcp" });
  })
  .all("/mcp", async (c) => {
    checkOrigin(c);
    const agentId = c.req.query("agent_id");
    const agent = agentId === undefined ? "" : parseInput(AgentId, agentId, "agent_id");
    return relayToSession(c.env.SESSIONS, sharedSessionName(agent), await checkedRequest(c), { kind: "mcp", shared_agent: agent });
  });

/** The request to pass on, its JSON-RPC body (if any) checked for nesting depth first. */
async function checkedRequest(c: Context<AppEnv>): Promise<Request> {
  if (c.req.method !== "POST") return new Request(c.req.raw);
  const body = await c.req.text();
  checkDepth(c, body);
  return new Request(c.req.raw, { body });
}
