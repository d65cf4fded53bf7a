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

/** A source's factory: built once per session object; `forSession` picks what a bound session uses. */
interface SourceEntry {
  create(context: SourceContext): (binding: SessionBinding) => Source | undefined;
}

const REGISTRY: readonly SourceEntry[] = [
  // The ESP32 behind the gateway's relay (device/).
  { create: ({ device }) => () => device.tools },
  // Built-in tools from the configuration (local/).
  {
    create: ({ config }) => {
      const local = new LocalTools({ config: config.local_tools, timezone: config.timezone });
      return () => local;
    },
  },
  // External MCP servers of the configuration (external/); their names are stored per session.
  {
    create: ({ config, env, host }) => {
      const external = externalTools(config, env, storedValue(host.kv, "external-names", StoredNames));
      return () => external;
    },
  },
  // The dial-in providers of the session's agent (dial-in/), when it is bound with one.
  {
    create: ({ config, env }) => (record) =>
      record.agent_id === "" ? undefined : agentTools(env.AGENTS as unknown as DurableObjectNamespace, record.agent_id, config.providers.call_timeout_ms),
  },
];

/** The sources of one session object: call the result with a bound session's record. */
export function sessionSources(context: SourceContext): (binding: SessionBinding) => Source[] {
  const pickers = REGISTRY.map((entry) => entry.create(context));
  return (binding) => pickers.map((pick) => pick(binding)).filter((source): source is Source => source !== undefined);
}
