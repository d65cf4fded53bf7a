/**
 * An agent as a tenant, as its object runs it: the agent's own configuration and its tokens, in the object's
 * storage. Plain module over a host's storage (durable-objects/agent-object.ts hands it the ports).
 */
import { fail, ok, type Result } from "../core/errors";
import type { KvStore } from "../core/host";
import type { ServiceConfig } from "../core/config";
import { AgentConfigStore, mergeAgentConfig, type SentAgentConfig, type StoredAgentConfig } from "./agent-config";
import { AgentTokens, TokenId, type MintedToken, type TokenInfo, type TokenRecord } from "./agent-tokens";
import type { TenantRpc } from "./tenant-rpc";

export class Tenant implements TenantRpc {
  readonly #config: AgentConfigStore;
  readonly #tokens: AgentTokens;
  #merged: { version: number; config: ServiceConfig } | undefined;

  /** @param configChanged told after every change of the config (the agent's sessions must rebuild). */
  constructor(
    kv: KvStore,
    private readonly configChanged: () => void,
  ) {
    this.#config = new AgentConfigStore(kv);
    this.#tokens = new AgentTokens(kv);
  }

  async config(): Promise<Result<StoredAgentConfig | null>> {
    return ok(this.#config.load() ?? null);
  }

  async putConfig(config: SentAgentConfig): Promise<Result<StoredAgentConfig>> {
    const stored = this.#config.save(config);
    this.configChanged();
    return ok(stored);
  }

  async deleteConfig(): Promise<Result<{ deleted: boolean }>> {
    const deleted = this.#config.remove();
    if (deleted) this.configChanged();
    return ok({ deleted });
  }

  /** The service config with this agent's merged over it (the same object while the version stays). */
  effective(service: ServiceConfig, vars: Readonly<Record<string, string>>): ServiceConfig {
    const stored = this.#config.load();
    const version = stored?.version ?? 0;
    if (this.#merged?.version !== version) {
      const merged = stored ? mergeAgentConfig(service, stored.config, vars) : ok(service);
      this.#merged = { version, config: merged.ok ? merged.value : service };
    }
    return this.#merged.config;
  }

  mintToken(agentId: string, ttlSeconds: number): Promise<Result<MintedToken>> {
    return this.#tokens.mint(agentId, ttlSeconds);
  }

  async listTokens(): Promise<Result<TokenInfo[]>> {
    return ok(this.#tokens.list());
  }

  async revokeToken(id: string): Promise<Result<{ revoked: boolean }>> {
    if (!TokenId.safeParse(id).success) return fail("invalid_request", "a token id is 16 lower-case hex digits");
    return ok({ revoked: this.#tokens.revoke(id) });
  }

  async tokenRecord(id: string): Promise<Result<TokenRecord | null>> {
    return ok(this.#tokens.record(id) ?? null);
  }
}
