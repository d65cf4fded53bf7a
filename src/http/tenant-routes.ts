/**
 * Agents as tenants: an agent's own configuration (merged over the service's for its sessions) and its
 * tokens. Service tokens only: an agent token may use what it is given, never change it.
 */
import type { Context } from "hono";
import { z } from "zod";
import { varsOf } from "../core/env-config";
import { AppException, appError, unwrap } from "../core/errors";
import { AgentId } from "../core/schemas";
import { agentRpc } from "../sources/dial-in/agent-source";
import type { AgentRpc } from "../sources/dial-in/agent-rpc";
import { AgentConfig, checkAgentConfig, maskAgentConfig } from "../tenants/agent-config";
import { AgentConfigView, DeletedConfig, MintedToken, MintTokenBody, RevokedToken, TokenId, TokenListView } from "../tenants/tenant-schemas";
import type { AppEnv } from "./app-env";
import { route } from "./openapi/spec";
import { readJson } from "./request";

const AgentParams = z.object({ agentId: AgentId });
const TokenParams = AgentParams.extend({ tokenId: TokenId });

const EXAMPLE_CONFIG = {
  mcpServers: {
    weather: { url: "https://weather.example.com/mcp", headers: { Authorization: "Bearer ${WEATHER_TOKEN}" } },
    calc: null,
  },
  local_tools: { change_role: { roles: [{ name: "tutor", prompt: "You are a patient tutor." }] } },
  tools: { deny: ["local_play_music"] },
};

function agent(c: Context<AppEnv>, agentId: string): AgentRpc {
  return agentRpc(c.env.AGENTS as unknown as DurableObjectNamespace, agentId);
}

export const tenantRoutes = [
  route(
    {
      method: "put",
      path: "/api/v1/mcp/agents/{agentId}/config",
      operationId: "putAgentConfig",
      summary: "Set an agent's own configuration (its MCP servers, local tools, tool filter)",
      description:
        "Merged over the service config for the agent's sessions: the agent wins, `mcpServers` by name (`null` " +
        "removes an inherited server). Checked whole before anything is stored (every server entry as the external " +
        "source reads it, `${SECRET}` references resolved against the bindings now); on an error the stored config " +
        "stays. The agent's bound sessions run the new config within seconds (their MCP clients get " +
        "`notifications/tools/list_changed`), no redeploy.",
      tags: ["agents"],
      params: AgentParams,
      body: AgentConfig,
      // Read here: what is stored is the config as sent (checked whole), not the schema's output with defaults.
      parse: { body: false },
      oversizedBody: "invalid_request",
      response: { description: "The stored config (masked)", schema: AgentConfigView },
      errors: [],
      examples: {
        params: { agentId: "agent-42" },
        body: EXAMPLE_CONFIG,
        response: {
          agent_id: "agent-42",
          version: 3,
          updated_at: "2026-12-01T08:00:00.000Z",
          config: { ...EXAMPLE_CONFIG, mcpServers: { weather: { url: "https://weather.example.com/mcp", headers: { Authorization: "***" } }, calc: null } },
        },
      },
    },
    async (c, { params }) => {
      const checked = unwrap(checkAgentConfig(await readJson(c), varsOf(c.env)));
      const stored = unwrap(await agent(c, params.agentId).putConfig(checked));
      return { agent_id: params.agentId, version: stored.version, updated_at: stored.updated_at, config: maskAgentConfig(stored.config) };
    },
  ),
  route(
    {
      method: "get",
      path: "/api/v1/mcp/agents/{agentId}/config",
      operationId: "getAgentConfig",
      summary: "An agent's own configuration, secrets masked",
      tags: ["agents"],
      params: AgentParams,
      response: { description: "The stored config (masked)", schema: AgentConfigView },
      errors: ["agent_not_found"],
      examples: {
        params: { agentId: "agent-42" },
        response: { agent_id: "agent-42", version: 3, updated_at: "2026-12-01T08:00:00.000Z", config: { tools: { deny: ["local_play_music"] } } },
      },
    },
    async (c, { params }) => {
      const stored = unwrap(await agent(c, params.agentId).config());
      if (!stored) throw new AppException(appError("agent_not_found", `Agent '${params.agentId}' has no configuration of its own`));
      return { agent_id: params.agentId, version: stored.version, updated_at: stored.updated_at, config: maskAgentConfig(stored.config) };
    },
  ),
  route(
    {
      method: "delete",
      path: "/api/v1/mcp/agents/{agentId}/config",
      operationId: "deleteAgentConfig",
      summary: "Remove an agent's own configuration: its sessions fall back to the service config",
      description: "Idempotent: `deleted: false` when there was none. The agent's tokens stay valid.",
      tags: ["agents"],
      params: AgentParams,
      response: { description: "Removed", schema: DeletedConfig },
      errors: [],
      examples: { params: { agentId: "agent-42" }, response: { agent_id: "agent-42", deleted: true } },
    },
    async (c, { params }) => ({ agent_id: params.agentId, ...unwrap(await agent(c, params.agentId).deleteConfig()) }),
  ),
  route(
    {
      method: "post",
      path: "/api/v1/mcp/agents/{agentId}/tokens",
      operationId: "mintAgentToken",
      summary: "Mint a token confined to one agent",
      description:
        "The token is shown once: only its SHA-256 is stored. It may bind sessions for its agent, use them (tools, " +
        "relays, their MCP endpoints), open `/mcp?agent_id=<its agent>` and mint its agent's provider URLs; nothing " +
        "else (403). Revocation reaches every isolate within `agents.token_cache_ms` (5 s).",
      tags: ["agents"],
      params: AgentParams,
      body: MintTokenBody,
      response: { description: "The token", schema: MintedToken },
      errors: ["rate_limited"],
      examples: {
        params: { agentId: "agent-42" },
        body: { ttl_seconds: 7_776_000 },
        response: {
          id: "3f9c2a7b1d4e6f80",
          token: "xzt1.YWdlbnQtNDI.3f9c2a7b1d4e6f80.q9Xv2mJ6yTt1cZb8wKp4sRn0uE3hGd7aLf5oVi2NxYk",
          agent_id: "agent-42",
          expires_at: "2027-03-01T08:00:00.000Z",
        },
      },
    },
    async (c, { params, body }) => unwrap(await agent(c, params.agentId).mintToken(params.agentId, body.ttl_seconds)),
  ),
  route(
    {
      method: "get",
      path: "/api/v1/mcp/agents/{agentId}/tokens",
      operationId: "listAgentTokens",
      summary: "An agent's live tokens: ids and expiry, never the tokens",
      tags: ["agents"],
      params: AgentParams,
      response: { description: "The tokens", schema: TokenListView },
      errors: [],
      examples: {
        params: { agentId: "agent-42" },
        response: { agent_id: "agent-42", tokens: [{ id: "3f9c2a7b1d4e6f80", created_at: "2026-12-01T08:00:00.000Z", expires_at: "2027-03-01T08:00:00.000Z" }] },
      },
    },
    async (c, { params }) => ({ agent_id: params.agentId, tokens: unwrap(await agent(c, params.agentId).listTokens()) }),
  ),
  route(
    {
      method: "delete",
      path: "/api/v1/mcp/agents/{agentId}/tokens/{tokenId}",
      operationId: "revokeAgentToken",
      summary: "Revoke an agent token",
      description: "Effective everywhere within `agents.token_cache_ms` (5 s). Idempotent: `revoked: false` when no live token had this id.",
      tags: ["agents"],
      params: TokenParams,
      response: { description: "Revoked", schema: RevokedToken },
      errors: [],
      examples: { params: { agentId: "agent-42", tokenId: "3f9c2a7b1d4e6f80" }, response: { agent_id: "agent-42", id: "3f9c2a7b1d4e6f80", revoked: true } },
    },
    async (c, { params }) => ({ agent_id: params.agentId, id: params.tokenId, ...unwrap(await agent(c, params.agentId).revokeToken(params.tokenId)) }),
  ),
];
