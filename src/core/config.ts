/**
 * Service configuration: the bundled file, deep-merged with the `MCP_CONFIG` override (JSON or YAML text),
 * `${VAR}` / `${VAR:default}` expanded from environment bindings, then validated once with zod.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { fail, ok, type Result } from "./errors";

/** Numbers and booleans may arrive as strings after `${VAR}` expansion. */
const int = (min: number, max: number, fallback: number) =>
  z
    .preprocess((v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.int().min(min).max(max))
    .default(fallback);
const flag = (fallback: boolean) =>
  z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean()).default(fallback);

const TimeZone = z.string().refine(isTimeZone, { message: "unknown IANA time zone" });

const Toggle = z.object({ enabled: flag(true) });

export const Voice = z.object({ name: z.string().min(1), description: z.string().default("") });
export const Role = z.object({ name: z.string().min(1), prompt: z.string().min(1) });

export const LocalToolsConfig = z.object({
  time: Toggle.prefault({}),
  exit: Toggle.prefault({}),
  play_music: Toggle.prefault({}),
  change_voice: Toggle.extend({ voices: z.array(Voice).default([]) }).prefault({}),
  change_role: Toggle.extend({ roles: z.array(Role).default([]) }).prefault({}),
  switch_agent: Toggle.prefault({}),
});
export type LocalToolsConfig = z.infer<typeof LocalToolsConfig>;

export const ServiceConfig = z.object({
  timezone: TimeZone.default("Asia/Shanghai"),
  sessions: z.object({ idle_ttl_seconds: int(10, 30 * 24 * 3600, 1800) }).prefault({}),
  limits: z
    .object({
      max_body_bytes: int(1024, 32 * 1024 * 1024, 1024 * 1024),
      max_frame_bytes: int(1024, 32 * 1024 * 1024, 1024 * 1024),
      /**
       * Deepest nesting of objects and arrays accepted in any JSON that enters (bodies, frames, arguments),
       * checked before anything recursive runs on it.
       */
      max_json_depth: int(8, 1024, 64),
      /**
       * Largest answer an external MCP server may send to one request (a tool result, its tool list): read no
       * further, so no upstream can fill an isolate's memory.
       */
      max_answer_bytes: int(64 * 1024, 64 * 1024 * 1024, 8 * 1024 * 1024),
    })
    .prefault({}),
  device: z
    .object({
      call_timeout_ms: int(10, 600_000, 30_000),
      list_timeout_ms: int(10, 600_000, 10_000),
    })
    .prefault({}),
  /** Dial-in tool providers (MCP 接入点). */
  providers: z
    .object({
      call_timeout_ms: int(10, 600_000, 30_000),
      list_timeout_ms: int(10, 600_000, 10_000),
      /** A provider silent this long is pinged before its tools are offered again (on demand, no timer). */
      ping_after_ms: int(1_000, 3_600_000, 20_000),
      /** How long a ping may take before the provider is marked unresponsive and its tools hidden. */
      ping_timeout_ms: int(50, 60_000, 1_500),
    })
    .prefault({}),
  /** The MCP endpoint (接入点) for xiaozhi-esp32-server: `/mcp_endpoint/mcp/` and `/mcp_endpoint/call/`. */
  xiaozhi_endpoint: z
    .object({
      /** Also offer the deployment's external MCP servers to consumers (`mcp_<tool>`), next to the agent's providers. */
      expose_external: flag(false),
      /** Tools per `tools/list` page on the consumer route. */
      page_size: int(1, 1000, 100),
      /** Calls one consumer connection may have in flight; more are answered with a `rate_limited` error. */
      max_calls_in_flight: int(1, 1024, 16),
    })
    .prefault({}),
  /** LLM tool names (src/tools/naming.ts). */
  naming: z
    .object({
      /** Keep CJK characters in names, as xiaozhi-esp32-server does; default: transliterate them. */
      keep_cjk: flag(false),
    })
    .prefault({}),
  local_tools: LocalToolsConfig.prefault({}),
  /** Allow/deny over the LLM names of every catalogue (an agent's config may set its own). */
  tools: z
    .object({
      allow: z.array(z.string().min(1).max(128)).optional(),
      deny: z.array(z.string().min(1).max(128)).default([]),
    })
    .prefault({}),
  /** Agents as tenants (README "Multi-tenant deployments"). */
  agents: z
    .object({
      /** How long a Worker isolate trusts what an agent's object said of a token: a revocation reaches it within this. */
      token_cache_ms: int(0, 10_000, 5_000),
      /**
       * Per-agent rate limits on binds and tool calls, through the platform's rate limiting bindings
       * (`AGENT_BINDS`, `AGENT_CALLS` in wrangler.toml, which hold the limits); false: not enforced.
       */
      rate_limits: flag(true),
    })
    .prefault({}),
  mcp: z
    .object({
      /** Browser origins allowed to call the MCP endpoints (DNS-rebinding guard); loopback is always allowed. */
      allowed_origins: z.array(z.string()).default([]),
      /** How long a client may reuse a `tools/list` answer (2026-07-28 `ttlMs`); changes are pushed regardless. */
      tools_ttl_ms: int(0, 86_400_000, 5_000),
      /** Keep-alive comments on notification streams (both eras): idle streams at the edge close after ~5 minutes. */
      keep_alive_ms: int(1_000, 300_000, 15_000),
      /** Notification streams of each era one object holds; more are refused (`rate_limited`). */
      max_streams: int(1, 100_000, 1_000),
      /** The shared endpoint's notification streams spread over this many objects per agent (docs/scaling.md). */
      stream_shards: int(1, 256, 4),
    })
    .prefault({}),
  /** Aids for measuring the service (the bench); off in production. */
  diagnostics: z
    .object({
      /** `GET /api/v1/diagnostics/object-requests`: requests each Durable Object class received in this isolate. */
      object_requests: flag(false),
    })
    .prefault({}),
  /** External MCP servers, in the shape of `.mcp_server_settings.json`; validated by the external source. */
  mcpServers: z.record(z.string(), z.unknown()).default({}),
});
export type ServiceConfig = z.infer<typeof ServiceConfig>;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ConfigSources {
  bundled: unknown;
  /** `MCP_CONFIG`: JSON or YAML text; empty means no override. */
  override?: string | undefined;
  /** String bindings available to `${VAR}` expansion. */
  vars: Readonly<Record<string, string>>;
}

export function loadConfig(sources: ConfigSources): Result<ServiceConfig> {
  const override = parseOverride(sources.override);
  if (!override.ok) return override;
  const merged = deepMerge(sources.bundled as Json, override.value);
  const expanded = expandVars(merged, sources.vars, []);
  if (!expanded.ok) return expanded;
  const parsed = ServiceConfig.safeParse(expanded.value);
  if (parsed.success) return ok(parsed.data);
  const first = parsed.error.issues[0];
  const field = first?.path.join(".") || "(root)";
  return fail("config_invalid", `Invalid configuration at ${field}: ${first?.message ?? "invalid"}`, z.flattenError(parsed.error));
}

function parseOverride(text: string | undefined): Result<JsonObject> {
  if (!text || text.trim() === "") return ok({});
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    return fail("config_invalid", `MCP_CONFIG is neither JSON nor YAML: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return ok({});
  if (!isObject(value)) return fail("config_invalid", "MCP_CONFIG must be an object at the top level");
  return ok(value as JsonObject);
}

/** Objects merge key by key; arrays and scalars in `over` replace those in `base`. */
export function deepMerge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = key in base ? deepMerge(base[key] as Json, value) : value;
  }
  return out;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

export function expandVars(value: Json, vars: Readonly<Record<string, string>>, path: string[]): Result<Json> {
  if (typeof value === "string") return expandString(value, vars, path);
  if (Array.isArray(value)) return collect(value.map((item, i) => expandVars(item, vars, [...path, String(i)])));
  if (!isObject(value)) return ok(value);
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const expanded = expandVars(item, vars, [...path, key]);
    if (!expanded.ok) return expanded;
    out[key] = expanded.value;
  }
  return ok(out);
}

function expandString(text: string, vars: Readonly<Record<string, string>>, path: string[]): Result<Json> {
  let missing: string | undefined;
  const out = text.replace(PLACEHOLDER, (_all, name: string, fallback: string | undefined) => {
    const value = vars[name];
    if (value !== undefined && value !== "") return value;
    if (fallback !== undefined) return fallback;
    missing ??= name;
    return "";
  });
  if (missing === undefined) return ok(out);
  return fail("config_invalid", `Invalid configuration at ${path.join(".")}: variable \${${missing}} is not set`);
}

function collect(results: Result<Json>[]): Result<Json> {
  const values: Json[] = [];
  for (const result of results) {
    if (!result.ok) return result;
    values.push(result.value);
  }
  return ok(values);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
