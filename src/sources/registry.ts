/**
 * The tool sources of a session, in one place: the session object never wires a source by hand. Each source
 * lives in its own folder (device/, local/, external/, dial-in/) and is listed here once; adding a source
 * means its folder and one entry below (README "How to add a tool source").
 */
import type { ServiceConfig } from "../core/config";
import type { ObjectHost } from "../core/host";
import { storedValue } from "../core/stored-value";
import { StoredNames } from "../tools/naming";
import type { Source } from "../tools/tool-source";
import type { DeviceRelay } from "./device/device-relay";
import { agentTools } from "./dial-in/agent-source";
import { externalTools } from "./external";
import { LocalTools } from "./local/local-tools";

/** What a source needs to know of a bound session. */
export interface SessionBinding {
  /** The agent whose dial-in providers the session sees ("" = none). */
  agent_id: string;
}

export interface SourceContext {
  config: ServiceConfig;
  env: Env;
  host: ObjectHost;
  /** The session's device (its relay is the session object's business: it is the transport of this source). */
  device: DeviceRelay;
}

/** What the shared `/mcp` endpoint's sources are built from: no session, no object, one isolate. */
export interface SharedContext {
  config: ServiceConfig;
  env: Env;
}

type Picker = (binding: SessionBinding) => Source | undefined;

/** The sources of a binding under a configuration (the service's, or an agent's merged over it). */
export type Sources = (binding: SessionBinding, config: ServiceConfig) => Source[];

/**
 * A source's factories: `create` once per session object; `shared` once per isolate for the shared endpoint
 * (absent for a source that needs a session, like the device). The picker they return chooses what a
 * binding uses.
 */
interface SourceEntry {
  create(context: SourceContext): Picker;
  shared?(context: SharedContext): Picker;
}

const local = ({ config }: SharedContext): Picker => {
  const tools = new LocalTools({ config: config.local_tools, timezone: config.timezone });
  return () => tools;
};

const provider = ({ config, env }: SharedContext): Picker => (binding) =>
  binding.agent_id === "" ? undefined : agentTools(env.AGENTS as unknown as DurableObjectNamespace, binding.agent_id, config.providers.call_timeout_ms);

const REGISTRY: readonly SourceEntry[] = [
  // The ESP32 behind the gateway's relay (device/).
  { create: ({ device }) => () => device.tools },
  // Built-in tools from the configuration (local/).
  { create: local, shared: local },
  // External MCP servers of the configuration (external/); their names are stored per session (per isolate
  // for the shared endpoint, which has no storage: names there are stable but not sticky across isolates).
  {
    create: ({ config, env, host }) => {
      const external = externalTools(config, env, storedValue(host.kv, "external-names", StoredNames));
      return () => external;
    },
    shared: ({ config, env }) => {
      let names: StoredNames | undefined;
      const external = externalTools(config, env, { load: () => names, save: (saved) => (names = saved) });
      return () => external;
    },
  },
  // The dial-in providers of the session's agent (dial-in/), when it is bound with one.
  { create: provider, shared: provider },
];

/**
 * Each entry's picker built once per configuration it is asked about (the service's and, per agent that has
 * one, that agent's merged config, whose object stays the same while its version does).
 */
function sourcesOf(build: (config: ServiceConfig) => readonly Picker[]): Sources {
  const byConfig = new WeakMap<ServiceConfig, readonly Picker[]>();
  return (binding, config) => {
    let pickers = byConfig.get(config);
    if (!pickers) {
      pickers = build(config);
      byConfig.set(config, pickers);
    }
    return pickers.map((pick) => pick(binding)).filter((source): source is Source => source !== undefined);
  };
}

/** The sources of one session object: call the result with a bound session's record and its configuration. */
export function sessionSources(context: Omit<SourceContext, "config">): Sources {
  return sourcesOf((config) => REGISTRY.map((entry) => entry.create({ ...context, config })));
}

/** The sources of the shared endpoint in this isolate, for a configuration (built once per configuration). */
export function sharedSources(env: Env): Sources {
  return sourcesOf((config) => REGISTRY.flatMap((entry) => (entry.shared ? [entry.shared({ config, env })] : [])));
}
