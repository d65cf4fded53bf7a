/**
 * Wire schemas of the tenant routes (an agent's config and tokens), on their own: the gateway client reads its
 * answers with them without pulling in what checks a config (the external source's parser).
 */
import { z } from "zod";
import { AgentId } from "../core/schemas";

export const TokenId = z.string().regex(/^[0-9a-f]{16}$/, "a token id is 16 lower-case hex digits");

export const TokenRecord = z.object({
  id: TokenId,
  /** Lower-case hex SHA-256 of the whole token. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: z.string(),
  expires_at: z.string(),
});
export type TokenRecord = z.infer<typeof TokenRecord>;

/** What listing shows: never the token, never its hash. */
export const TokenInfo = TokenRecord.omit({ hash: true });
export type TokenInfo = z.infer<typeof TokenInfo>;

export const MintTokenBody = z.strictObject({
  ttl_seconds: z.int().min(60).max(2 * 365 * 24 * 3600).default(90 * 24 * 3600).describe("Lifetime; 90 days by default"),
});

export const MintedToken = z.object({ id: TokenId, token: z.string(), agent_id: AgentId, expires_at: z.string() });
export type MintedToken = z.infer<typeof MintedToken>;

/** A config as stored and shown: as the operator sent it (checked whole when it was stored), loosely typed. */
export const SentAgentConfig = z.looseObject({
  mcpServers: z.record(z.string(), z.record(z.string(), z.json()).nullable()).optional(),
  local_tools: z.record(z.string(), z.json()).optional(),
  tools: z.looseObject({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }).optional(),
});
export type SentAgentConfig = z.infer<typeof SentAgentConfig>;

export const AgentConfigView = z.object({
  agent_id: AgentId,
  version: z.int().describe("Grows with every change (deletes included): a session runs the version it last heard of"),
  updated_at: z.string(),
  config: SentAgentConfig.describe("As sent, header values and URL credentials and query values masked (`${…}` references shown)"),
});
export type AgentConfigView = z.infer<typeof AgentConfigView>;

export const DeletedConfig = z.object({ agent_id: AgentId, deleted: z.boolean().describe("false: the agent had no config") });
export const TokenListView = z.object({ agent_id: AgentId, tokens: z.array(TokenInfo) });
export type TokenListView = z.infer<typeof TokenListView>;
export const RevokedToken = z.object({ agent_id: AgentId, id: TokenId, revoked: z.boolean().describe("false: no live token had this id") });
