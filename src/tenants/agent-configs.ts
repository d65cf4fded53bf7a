/**
 * What a caller (a session object, a Worker isolate serving `/mcp?agent_id=`) keeps of agents' configurations:
 * the merged config per agent, asked of the agent's object again after `ttlMs` (a session object is also told
 * of every change at once, so its TTL is only a safety net). The merged object stays the same while the agent's
 * version does, so whatever is built per configuration (sources, names) is built once.
 */
import type { ServiceConfig } from "../core/config";
import { withDeadline } from "../core/deadline";
import type { Result } from "../core/errors";
import { log } from "../observability/log";
import { mergeAgentConfig, type StoredAgentConfig } from "./agent-config";

/** An agent object that does not answer this fast is served with what was known. */
const FETCH_TIMEOUT_MS = 2_000;
/** Agents whose config one caller keeps: a bound on memory in an isolate serving many agents. */
const MAX_AGENTS = 512;

export type FetchAgentConfig = (agentId: string) => Promise<Result<StoredAgentConfig | null>>;

interface Known {
  version: number;
  effective: ServiceConfig;
  fetched_at: number;
}

export class AgentConfigs {
  readonly #known = new Map<string, Known>();

  constructor(
    private readonly service: ServiceConfig,
    private readonly vars: Readonly<Record<string, string>>,
    private readonly fetch: FetchAgentConfig,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The configuration an agent's sessions run with ("" = no agent: the service's). */
  async effective(agentId: string): Promise<ServiceConfig> {
    if (agentId === "") return this.service;
    const known = this.#known.get(agentId);
    if (known && this.now() - known.fetched_at < this.ttlMs) return known.effective;
    let reply: Result<StoredAgentConfig | null>;
    try {
      reply = await withDeadline(this.fetch(agentId), FETCH_TIMEOUT_MS, "the agent's object");
    } catch (error) {
      reply = { ok: false, error: { code: "internal", message: error instanceof Error ? error.message : String(error) } };
    }
    if (!reply.ok) {
      // Keep serving what was known (or the service's config): a slow agent object must not fail every call.
      log("warn", "agent.config_unavailable", { agent_id: agentId, message: reply.error.message });
      return known?.effective ?? this.service;
    }
    const stored = reply.value;
    const version = stored?.version ?? 0;
    let effective = known?.version === version ? known.effective : this.service;
    if (stored && known?.version !== version) {
      const merged = mergeAgentConfig(this.service, stored.config, this.vars);
      if (merged.ok) effective = merged.value;
      else log("error", "agent.config_invalid", { agent_id: agentId, version, message: merged.error.message });
    }
    if (this.#known.size >= MAX_AGENTS && !known) this.#known.clear();
    this.#known.set(agentId, { version, effective, fetched_at: this.now() });
    return effective;
  }

  /** The agent's config changed (it told this caller): ask again on next use. */
  forget(agentId: string): void {
    this.#known.delete(agentId);
  }
}
