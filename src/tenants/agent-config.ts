/**
 * An agent's own configuration (a tenant's): its MCP servers, its local tools, and a filter over its tool
 * names, merged over the service configuration for that agent's sessions — the agent wins, `mcpServers` by name
 * (`null` removes an inherited server). Stored as given (with its `${SECRET}` references) in the agent's
 * object; validated fully before anything is stored; shown with its secrets masked.
 */
import { z } from "zod";
import { deepMerge, expandVars, Role, ServiceConfig, Voice } from "../core/config";
import { fail, ok, type Result } from "../core/errors";
import type { KvStore } from "../core/host";
import { ToolName } from "../core/schemas";
import { storedValue, type StoredValue } from "../core/stored-value";
import { parseEntry, redactUrl, ServerEntry } from "../sources/external/server-config";
import { SentAgentConfig } from "./tenant-schemas";

export { SentAgentConfig } from "./tenant-schemas";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The serialised config an agent may store: a bound on what every session of the agent parses. */
export const MAX_AGENT_CONFIG_BYTES = 32 * 1024;

const Toggle = z.strictObject({ enabled: z.boolean().optional() });

/** `local_tools` in the service's shape, every part optional, an unknown key refused. */
const AgentLocalTools = z.strictObject({
  time: Toggle.optional(),
  exit: Toggle.optional(),
  play_music: Toggle.optional(),
  switch_agent: Toggle.optional(),
  change_voice: Toggle.extend({ voices: z.array(Voice).max(256).optional() }).optional(),
  change_role: Toggle.extend({ roles: z.array(Role).max(256).optional() }).optional(),
});

/** A server entry as the service config takes it, strictly: an agent's unknown key is a mistake, not a vendor field. */
const AgentServerEntry = ServerEntry.strict();

export const ToolFilter = z.strictObject({
  /** Only these LLM names (after naming); absent: every tool. */
  allow: z.array(ToolName).max(1024).optional(),
  deny: z.array(ToolName).max(1024).default([]),
});

export const AgentConfig = z.strictObject({
  mcpServers: z
    .record(z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, "a server name may hold letters, digits, '_', '.', '-'"), AgentServerEntry.nullable())
    .refine((servers) => Object.keys(servers).length <= 64, "at most 64 servers")
    .optional()
    .describe("Today's entry shape (`${SECRET}` references allowed); `null` removes a server the service config defines"),
  local_tools: AgentLocalTools.optional().describe("The service config's `local_tools` shape, any part of it"),
  tools: ToolFilter.optional().describe("Allow/deny over the LLM names of the agent's catalogue"),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** A config as the operator sent it (checked with {@link AgentConfig}): stored and shown as given, defaults unfilled. */
export type AgentConfigInput = z.input<typeof AgentConfig>;

export const StoredAgentConfig = z.object({ version: z.int().positive(), updated_at: z.string(), config: SentAgentConfig });
export type StoredAgentConfig = z.infer<typeof StoredAgentConfig>;

/**
 * The whole check of a config an operator PUTs, beyond its schema: its size, every server entry as the external
 * source will read it (URL, transport, a stdio `command`), with its `${SECRET}` references expanded from the
 * bindings now — a reference to nothing is refused, not discovered by a session later.
 */
export function checkAgentConfig(sent: unknown, vars: Readonly<Record<string, string>>): Result<SentAgentConfig> {
  const parsed = AgentConfig.safeParse(sent);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return fail("invalid_request", `Invalid agent config at ${first?.path.join(".") || "(root)"}: ${first?.message ?? "invalid"}`, { issues: parsed.error.issues });
  }
  const bytes = new TextEncoder().encode(JSON.stringify(sent)).byteLength;
  if (bytes > MAX_AGENT_CONFIG_BYTES) return fail("invalid_request", `An agent config holds at most ${MAX_AGENT_CONFIG_BYTES} bytes (this one: ${bytes})`);
  for (const [name, entry] of Object.entries(parsed.data.mcpServers ?? {})) {
    if (entry === null) continue;
    const expanded = expandVars(entry as Json, vars, ["mcpServers", name]);
    if (!expanded.ok) return fail("invalid_request", expanded.error.message);
    const outcome = parseEntry(name, expanded.value);
    if ("entry" in outcome) {
      return fail("invalid_request", outcome.entry.error?.message ?? `MCP server '${name}' is disabled: remove it, or use null to hide an inherited one`);
    }
  }
  return ok(SentAgentConfig.parse(sent));
}

/** The service config as one agent's sessions see it. */
export function mergeAgentConfig(service: ServiceConfig, agent: SentAgentConfig, vars: Readonly<Record<string, string>>): Result<ServiceConfig> {
  const servers: Record<string, unknown> = { ...service.mcpServers };
  for (const [name, entry] of Object.entries(agent.mcpServers ?? {})) {
    if (entry === null) {
      delete servers[name];
      continue;
    }
    const expanded = expandVars(entry as Json, vars, ["mcpServers", name]);
    if (!expanded.ok) return expanded;
    servers[name] = expanded.value;
  }
  const merged = {
    ...service,
    local_tools: agent.local_tools ? deepMerge(service.local_tools as Json, agent.local_tools as Json) : service.local_tools,
    tools: agent.tools ?? service.tools,
    mcpServers: servers,
  };
  const parsed = ServiceConfig.safeParse(merged);
  return parsed.success ? ok(parsed.data) : fail("config_invalid", `The agent's configuration does not merge: ${parsed.error.issues[0]?.message ?? "invalid"}`);
}

/** What GET shows: header values that are not `${…}` references and URL credentials and query values masked. */
export function maskAgentConfig(config: SentAgentConfig): SentAgentConfig {
  if (!config.mcpServers) return config;
  const servers: NonNullable<SentAgentConfig["mcpServers"]> = {};
  for (const [name, entry] of Object.entries(config.mcpServers)) {
    if (entry === null) {
      servers[name] = null;
      continue;
    }
    const masked: Record<string, z.core.util.JSONType> = { ...entry };
    const headers = entry.headers;
    if (typeof headers === "object" && headers !== null && !Array.isArray(headers)) {
      masked.headers = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, typeof value === "string" && REFERENCE.test(value) ? value : "***"]));
    }
    if (typeof entry.url === "string") masked.url = redactUrl(entry.url);
    servers[name] = masked;
  }
  return { ...config, mcpServers: servers };
}

/** A value that is only a `${VAR}` reference (not a secret itself). */
const REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:[^}]*)?\}$/;

/** An agent's stored config and its version (versions only grow, across deletes too). */
export class AgentConfigStore {
  readonly #config: StoredValue<StoredAgentConfig>;
  readonly #version: StoredValue<number>;

  constructor(kv: KvStore) {
    this.#config = storedValue(kv, "agent-config", StoredAgentConfig);
    this.#version = storedValue(kv, "agent-config-version", z.int().nonnegative());
  }

  load(): StoredAgentConfig | undefined {
    return this.#config.load();
  }

  save(config: SentAgentConfig, now = Date.now()): StoredAgentConfig {
    const stored = { version: this.#next(), updated_at: new Date(now).toISOString(), config };
    this.#config.save(stored);
    return stored;
  }

  /** Removes the config; true when there was one. */
  remove(): boolean {
    if (!this.#config.load()) return false;
    this.#next();
    this.#config.remove();
    return true;
  }

  /** The current version (0: never configured). */
  version(): number {
    return this.#config.load()?.version ?? this.#version.load() ?? 0;
  }

  #next(): number {
    const next = (this.#version.load() ?? 0) + 1;
    this.#version.save(next);
    return next;
  }
}
