/**
 * Dial-in tool providers (MCP 接入点): operators mint a provider URL for an agent; providers connect to it
 * over WebSocket and speak plain MCP (raw JSON-RPC). The provider's token is its credential, so the endpoint
 * itself needs no bearer header — a bad token still gets a WebSocket, closed at once with 1008 and a reason,
 * which is what WebSocket clients can actually show.
 */
import { Hono } from "hono";
import { z } from "zod";
import { agentRpc } from "../sources/dial-in/agent-source";
import { mintToken } from "../sources/dial-in/endpoint-token";
import { consumerUrl, xiaozhiAcceptsEndpoint } from "../sources/dial-in/xiaozhi-url";
import { AppException, appError } from "../core/errors";
import { AgentId } from "../core/schemas";
import type { AppEnv } from "./app-env";
import { XIAOZHI_PREFIX } from "./endpoint-routes";
import { parseInput, readJson } from "./request";
import { unwrap } from "../core/errors";

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
    const origin = new URL(c.req.url);
    const url = `${origin.protocol === "https:" ? "wss:" : "ws:"}//${origin.host}${XIAOZHI_PREFIX}/mcp/?token=${token}`;
    const endpoint = { agent_id: agentId, provider: body.provider ?? null, url, consumer_url: consumerUrl(url), token, expires_at: new Date(exp * 1000).toISOString() };
    // The token cannot spell `key` or `call`; the host can, and xiaozhi-esp32-server would then refuse the URL.
    const warnings = xiaozhiAcceptsEndpoint(url) ? [] : [`xiaozhi-esp32-server refuses this URL: its host contains "key" or "call"`];
    return c.json({ success: true, endpoint: warnings.length > 0 ? { ...endpoint, warnings } : endpoint });
  })
  .get("/api/v1/mcp/agents/:agentId/providers", async (c) => {
    const agentId = parseInput(AgentId, c.req.param("agentId"), "agentId");
    return c.json({ agent_id: agentId, providers: unwrap(await agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, agentId).providers()) });
  });
