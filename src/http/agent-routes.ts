/**
 * Dial-in tool providers (MCP 接入点): operators mint a provider URL for an agent; providers connect to it
 * over WebSocket and speak plain MCP (raw JSON-RPC). The provider's token is its credential, so the endpoint
 * itself needs no bearer header — a bad token still gets a WebSocket, closed at once with 1008 and a reason,
 * which is what WebSocket clients can actually show.
 */
import { Hono } from "hono";
import { z } from "zod";
import { agentRpc } from "../agents/agent-tools";
import { mintToken, verifyToken } from "../agents/endpoint-token";
import { AppException, appError } from "../core/errors";
import { AgentId } from "../core/schemas";
import type { AppEnv } from "./app-env";
import { parseInput, readJson, unwrapResult } from "./request";

export const ENDPOINT_PATH = "/api/v1/mcp/endpoint";

export const MintEndpointBody = z.strictObject({
  /** Names the provider's tools `<provider>__<tool>`; without it the provider's serverInfo name is used. */
  provider: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "provider may hold letters, digits, '_' and '-' (32 at most)").optional(),
  ttl_seconds: z.int().min(60).max(365 * 24 * 3600).default(30 * 24 * 3600),
});

export const agentRoutes = new Hono<AppEnv>()
  .post("/api/v1/mcp/agents/:agentId/endpoint", async (c) => {
    const agentId = parseInput(AgentId, c.req.param("agentId"), "agentId");
    const body = parseInput(MintEndpointBody, await readJson(c), "body");
    const secret = c.env.MCP_ENDPOINT_SECRET;
    if (!secret) throw new AppException(appError("config_invalid", "MCP_ENDPOINT_SECRET is not set: provider endpoints are disabled"));
    const now = Math.floor(Date.now() / 1000);
    const exp = now + body.ttl_seconds;
    const token = await mintToken(secret, { sub: agentId, iat: now, exp, ...(body.provider ? { prv: body.provider } : {}) });
    const url = new URL(ENDPOINT_PATH, c.req.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", token);
    return c.json({
      success: true,
      endpoint: { agent_id: agentId, provider: body.provider ?? null, url: url.toString(), token, expires_at: new Date(exp * 1000).toISOString() },
    });
  })
  .get("/api/v1/mcp/agents/:agentId/providers", async (c) => {
    const agentId = parseInput(AgentId, c.req.param("agentId"), "agentId");
    return c.json({ agent_id: agentId, providers: unwrapResult(await agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, agentId).providers()) });
  })
  .get(ENDPOINT_PATH, async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppException(appError("invalid_request", "Expected a WebSocket upgrade (Upgrade: websocket)"));
    }
    const claims = await verifyToken(c.env.MCP_ENDPOINT_SECRET, c.req.query("token"), Math.floor(Date.now() / 1000));
    if (!claims.ok) return refuseSocket(claims.error.message);
    const name = claims.value.prv ?? c.req.query("name");
    if (name !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(name)) return refuseSocket("Invalid provider name");
    const request = new Request(c.req.raw);
    request.headers.set("x-agent-id", claims.value.sub);
    request.headers.set("x-provider-name", name ?? "");
    return agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, claims.value.sub).fetch(request);
  });

/** 1008 = policy violation: the standard close code for a refused credential. */
function refuseSocket(reason: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(1008, reason.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
