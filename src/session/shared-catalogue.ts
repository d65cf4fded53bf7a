/**
 * The catalogue of the shared `/mcp` endpoint (of an agent, with `?agent_id=`): local and external tools, and
 * the agent's dial-in providers'. It is computed in whichever isolate serves the request, never in one object
 * for the deployment, so any number of MCP clients use it at once (docs/scaling.md): local tools run in the
 * isolate, external ones go straight to their upstream, provider tools to the agent's object (which holds the
 * provider's socket).
 *
 * Per isolate and configuration the sources are built once; per agent, the catalogue a call resolves its name
 * against is kept {@link CALL_CATALOGUE_TTL_MS} and replaced by every `tools/list`. Nothing here holds an I/O
 * object across requests.
 */
import type { ServiceConfig } from "../core/config";
import { ok } from "../core/errors";
import type { McpEndpointCore } from "../mcp/mcp-endpoint";
import { recordToolCall } from "../observability/metrics";
import { loggedResult } from "../observability/tool-call-log";
import { varsOf } from "../core/env-config";
import { agentRpc } from "../sources/dial-in/agent-source";
import { sharedSources, type Sources } from "../sources/registry";
import { AgentConfigs } from "../tenants/agent-configs";
import { rateLimitsOf } from "../tenants/rate-limits";
import { Catalogue } from "../tools/catalogue";
import { CALL_CATALOGUE_TTL_MS, runTool } from "./session-service";

interface IsolateCatalogues {
  sources: Sources;
  /** Agents' own configurations, asked of their objects at most every AGENT_CONFIG_TTL_MS. */
  agents: AgentConfigs;
  /** Per agent ("" = none): the last catalogue built, for calls. */
  forCalls: Map<string, { catalogue: Catalogue; built_at: number }>;
}

/** Agents whose call catalogue one isolate keeps; beyond, the map starts over (rebuilding is cheap). */
const MAX_AGENTS = 256;
/**
 * An isolate cannot be told of an agent's config change (the agent's object tells its sessions): it asks
 * again after this, so a change reaches `/mcp?agent_id=` within it.
 */
const AGENT_CONFIG_TTL_MS = 5_000;

const isolate = new WeakMap<ServiceConfig, IsolateCatalogues>();

export interface SharedRequest {
  config: ServiceConfig;
  env: Env;
  agentId: string;
  requestId: string;
  waitUntil: (work: Promise<unknown>) => void;
}

function isolateCatalogues(config: ServiceConfig, env: Env): IsolateCatalogues {
  let parts = isolate.get(config);
  if (!parts) {
    const namespace = env.AGENTS as unknown as DurableObjectNamespace;
    parts = {
      sources: sharedSources(env),
      agents: new AgentConfigs(config, varsOf(env), (agentId) => agentRpc(namespace, agentId).config(), AGENT_CONFIG_TTL_MS),
      forCalls: new Map(),
    };
    isolate.set(config, parts);
  }
  return parts;
}

/** The shared endpoint's catalogue for one request, as the MCP endpoint uses it. */
export function sharedCatalogue(request: SharedRequest): McpEndpointCore {
  const { config, env, agentId } = request;
  const { sources, agents, forCalls } = isolateCatalogues(config, env);
  const build = async (): Promise<Catalogue> => {
    const effective = await agents.effective(agentId);
    const catalogue = await Catalogue.build(sources({ agent_id: agentId }, effective), [], effective.tools);
    if (forCalls.size >= MAX_AGENTS) forCalls.clear();
    forCalls.set(agentId, { catalogue, built_at: Date.now() });
    return catalogue;
  };
  return {
    tools: async () => ok({ tools: [...(await build()).tools] }),
    execute: async (tool_name, args) => {
      const allowed = (await rateLimitsOf(env, config)?.call(agentId)) ?? ok(undefined);
      if (!allowed.ok) return allowed;
      const started = Date.now();
      const cached = forCalls.get(agentId);
      const catalogue = cached && started - cached.built_at < CALL_CATALOGUE_TTL_MS ? cached.catalogue : await build();
      const session_id = agentId === "" ? "@shared" : `@agent:${agentId}`;
      const execution = await runTool(catalogue, { session_id, request_id: request.requestId, started, now: Date.now }, { tool_name, arguments: args });
      if (execution.call) recordToolCall(env, execution.call, request.waitUntil);
      return loggedResult(execution);
    },
  };
}
