/**
 * Dial-in tool providers (MCP 接入点): operators mint a provider URL for an agent and read its providers'
 * state. Providers and consumers connect to the minted URL (endpoint-routes.ts).
 */
import { z } from "zod";
import { AppException, appError, unwrap } from "../core/errors";
import { AgentId } from "../core/schemas";
import { agentRpc } from "../sources/dial-in/agent-source";
import { MintEndpointBody, MintEndpointResponse, ProviderList } from "../sources/dial-in/endpoint-schemas";
import { mintToken } from "../sources/dial-in/endpoint-token";
import { consumerUrl, xiaozhiAcceptsEndpoint } from "../sources/dial-in/xiaozhi-url";
import { EXAMPLE_ENDPOINT_TOKEN } from "./examples";
import { XIAOZHI_PREFIX } from "./endpoint-routes";
import { route } from "./openapi/spec";
import { requireOwnAgent } from "./tenancy";

const AgentParams = z.object({ agentId: AgentId });

export const agentRoutes = [
  route(
    {
      method: "post",
      path: "/api/v1/mcp/agents/{agentId}/endpoint",
      operationId: "mintProviderEndpoint",
      summary: "Mint the WebSocket URL a tool provider dials in with, for one agent",
      description: "Sessions bound with this `agent_id` see the agent's provider tools. Needs `MCP_ENDPOINT_SECRET` (else `config_invalid`).",
      tags: ["providers"],
      agents: true,
      params: AgentParams,
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
            url: `wss://mcp.example.com/mcp_endpoint/mcp/?token=${EXAMPLE_ENDPOINT_TOKEN}`,
            consumer_url: `wss://mcp.example.com/mcp_endpoint/call/?token=${EXAMPLE_ENDPOINT_TOKEN}`,
            token: EXAMPLE_ENDPOINT_TOKEN,
            expires_at: "2026-11-26T08:00:00.000Z",
          },
        },
      },
    },
    async (c, { params, body }) => {
      requireOwnAgent(c, params.agentId);
      const secret = c.env.MCP_ENDPOINT_SECRET;
      if (!secret) throw new AppException(appError("config_invalid", "MCP_ENDPOINT_SECRET is not set: provider endpoints are disabled"));
      const now = Math.floor(Date.now() / 1000);
      const exp = now + body.ttl_seconds;
      const token = await mintToken(secret, { sub: params.agentId, iat: now, exp, ...(body.provider ? { prv: body.provider } : {}) });
      const origin = new URL(c.req.url);
      const url = `${origin.protocol === "https:" ? "wss:" : "ws:"}//${origin.host}${XIAOZHI_PREFIX}/mcp/?token=${token}`;
      const endpoint = { agent_id: params.agentId, provider: body.provider ?? null, url, consumer_url: consumerUrl(url), token, expires_at: new Date(exp * 1000).toISOString() };
      // The token cannot spell `key` or `call`; the host can, and xiaozhi-esp32-server would then refuse the URL.
      const warnings = xiaozhiAcceptsEndpoint(url) ? [] : [`xiaozhi-esp32-server refuses this URL: its host contains "key" or "call"`];
      return { success: true as const, endpoint: warnings.length > 0 ? { ...endpoint, warnings } : endpoint };
    },
  ),
  route(
    {
      method: "get",
      path: "/api/v1/mcp/agents/{agentId}/providers",
      operationId: "listProviders",
      summary: "The agent's dial-in providers and their state",
      tags: ["providers"],
      agents: true,
      params: AgentParams,
      response: { description: "The providers", schema: ProviderList },
      errors: [],
      examples: {
        params: { agentId: "agent-42" },
        response: { agent_id: "agent-42", providers: [{ name: "calendar", attached: true, phase: "ready", tool_count: 3, responsive: true }] },
      },
    },
    async (c, { params }) => {
      requireOwnAgent(c, params.agentId);
      return { agent_id: params.agentId, providers: unwrap(await agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, params.agentId).providers()) };
    },
  ),
];
