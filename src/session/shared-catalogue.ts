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
import { sharedSources } from "../sources/registry";
import { Catalogue } from "../tools/catalogue";
import type { Source } from "../tools/tool-source";
import { CALL_CATALOGUE_TTL_MS, runTool } from "./session-service";

interface IsolateCatalogues {
  sources: (binding: { agent_id: string }) => Source[];
  /** Per agent ("" = none): the last catalogue built, for calls. */
  forCalls: Map<string, { catalogue: Catalogue; built_at: number }>;
}

/** Agents whose call catalogue one isolate keeps; beyond, the map starts over (rebuilding is cheap). */
const MAX_AGENTS = 256;

const isolate = new WeakMap<ServiceConfig, IsolateCatalogues>();

export interface SharedRequest {
  config: ServiceConfig;
  env: Env;
  agentId: string;
  requestId: string;
  waitUntil: (work: Promise<unknown>) => void;
}

/** The shared endpoint's catalogue for one request, as the MCP endpoint uses it. */
export function sharedCatalogue(request: SharedRequest): McpEndpointCore {
  const { config, env, agentId } = request;
  let parts = isolate.get(config);
  if (!parts) {
    parts = { sources: sharedSources({ config, env }), forCalls: new Map() };
    isolate.set(config, parts);
  }
  const { sources, forCalls } = parts;
  const build = async (): Promise<Catalogue> => {
    const catalogue = await Catalogue.build(sources({ agent_id: agentId }));
    if (forCalls.size >= MAX_AGENTS) forCalls.clear();
    forCalls.set(agentId, { catalogue, built_at: Date.now() });
    return catalogue;
  };
  return {
    tools: async () => ok({ tools: [...(await build()).tools] }),
    execute: async (tool_name, args) => {
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
