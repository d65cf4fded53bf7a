/**
 * The tenant part of an agent object's RPC surface (durable-objects/agent-object.ts): the agent's own
 * configuration and its tokens. Replies are Results: errors lose their fields across Durable Object RPC.
 */
import type { Result } from "../core/errors";
import type { SentAgentConfig, StoredAgentConfig } from "./agent-config";
import type { MintedToken, TokenInfo, TokenRecord } from "./agent-tokens";

export interface TenantRpc {
  /** The stored config, or null when the agent has none (its sessions run the service's). */
  config(): Promise<Result<StoredAgentConfig | null>>;
  /** Stores a config already checked by the Worker (`checkAgentConfig`); subscribed sessions are told. */
  putConfig(config: SentAgentConfig): Promise<Result<StoredAgentConfig>>;
  deleteConfig(): Promise<Result<{ deleted: boolean }>>;
  mintToken(agentId: string, ttlSeconds: number): Promise<Result<MintedToken>>;
  listTokens(): Promise<Result<TokenInfo[]>>;
  revokeToken(id: string): Promise<Result<{ revoked: boolean }>>;
  /** The record a presented token is checked against, null when none is live under that id. */
  tokenRecord(id: string): Promise<Result<TokenRecord | null>>;
}
