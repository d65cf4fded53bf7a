/**
 * The `mcpServers` section: today's `.mcp_server_settings.json` entries, validated one server at a time so a
 * bad entry disables that server (and is reported) while the others keep working. Pure: no I/O.
 */
import { z } from "zod";
import type { ServiceConfig } from "../../core/config";
import { appError, type AppError } from "../../core/errors";
import { sanitizeName } from "../../tools/naming";

/** Numbers and booleans may arrive as strings after `${VAR}` expansion. */
const int = (min: number, max: number, fallback: number) =>
  z
    .preprocess((v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.int().min(min).max(max))
    .default(fallback);
const flag = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

/** Transport spellings seen in MCP client configs, mapped to the two this service speaks. */
const TRANSPORTS: Record<string, Transport> = {
  "streamable-http": "streamable-http",
  streamable_http: "streamable-http",
  streamablehttp: "streamable-http",
  http: "streamable-http",
  sse: "sse",
};
export type Transport = ExternalServer["transport"];

/** Characters an LLM tool name may hold (OpenAI, Anthropic, Gemini all accept this set). */
export const NAME_CHARS = /^[A-Za-z0-9_-]+$/;

export const ServerEntry = z.looseObject({
  name: z.string().min(1).max(64).optional(),
  url: z.string().optional(),
  transport: z.string().optional(),
  /** Alias of `transport` used by several MCP clients' config files. */
  type: z.string().optional(),
  headers: z.record(z.string(), z.string()).default({}),
  enabled: flag.optional(),
  /** Alias (negated) used by Cline/Claude-style config files. */
  disabled: flag.optional(),
  /** Deadline of one tool call. */
  timeout_ms: int(100, 600_000, 30_000),
  /** Deadline of connecting + discovering the tool list (initialize and every tools/list page). */
  connect_timeout_ms: int(100, 120_000, 10_000),
  /** How long a discovered tool list is served before it is re-listed. */
  cache_ttl_seconds: int(1, 7 * 24 * 3600, 300),
  /**
   * How long a caller (a session object, a Worker isolate) uses its copy of the list before asking the server's
   * object again, when the server states no `ttlMs` of its own; never longer than `cache_ttl_seconds`.
   */
  revalidate_seconds: int(1, 3600, 10),
  /** How long an unhealthy server's last known tools stay visible before they are hidden. */
  unhealthy_grace_seconds: int(0, 7 * 24 * 3600, 60),
  /** Background retry backoff of an unhealthy server: doubles from initial to max. */
  retry_initial_ms: int(100, 3_600_000, 1_000),
  retry_max_ms: int(100, 3_600_000, 60_000),
  tools: z
    .object({
      allow: z.array(z.string()).optional(),
      deny: z.array(z.string()).default([]),
    })
    .prefault({}),
  prefix: z.string().min(1).max(32).regex(NAME_CHARS, "prefix may hold letters, digits, '_' and '-'").optional(),
  /** stdio entries of today's file: reported, never run (a process cannot be spawned on the edge). */
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
});

/**
 * A configured server as the external source runs it (parsed from an entry by {@link parseEntry}), declared as
 * data: it also crosses RPC, since an agent's own servers are not in the service configuration the upstream
 * object reads, so callers send the definition they resolved.
 */
export const ServerDefinition = z.object({
  /** The key in `mcpServers` (or its `name` field): the server's identity in logs, names and the API. */
  name: z.string(),
  url: z.string(),
  transport: z.enum(["streamable-http", "sse"]),
  headers: z.record(z.string(), z.string()),
  timeout_ms: z.int(),
  connect_timeout_ms: z.int(),
  cache_ttl_seconds: z.int(),
  revalidate_seconds: z.int(),
  unhealthy_grace_seconds: z.int(),
  retry_initial_ms: z.int(),
  retry_max_ms: z.int(),
  /** Upstream tool names to expose; undefined = all. */
  allow: z.array(z.string()).readonly().optional(),
  deny: z.array(z.string()).readonly(),
  /** Alias used in collision-qualified names: `prefix`, else the name with unsafe characters replaced. */
  prefix: z.string(),
});
export type ExternalServer = z.infer<typeof ServerDefinition>;

export interface ServerEntryStatus {
  name: string;
  transport: string;
  url: string;
  status: "enabled" | "disabled" | "misconfigured";
  error?: AppError;
}

export interface ParsedServers {
  /** Enabled, valid servers in config order. */
  servers: ExternalServer[];
  /** Every entry (enabled, disabled, misconfigured) in config order, for the API and health. */
  entries: ServerEntryStatus[];
  /** One config_invalid error per misconfigured enabled entry. */
  issues: AppError[];
}

export function parseServers(config: Pick<ServiceConfig, "mcpServers">): ParsedServers {
  const servers: ExternalServer[] = [];
  const entries: ServerEntryStatus[] = [];
  const issues: AppError[] = [];
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(config.mcpServers)) {
    const outcome = parseEntry(key, raw);
    if ("server" in outcome && seen.has(outcome.server.name)) {
      const error = appError("config_invalid", `MCP server '${outcome.server.name}': two entries use this name`, { server: outcome.server.name });
      entries.push({ name: outcome.server.name, transport: outcome.server.transport, url: redactUrl(outcome.server.url), status: "misconfigured", error });
      issues.push(error);
      continue;
    }
    if ("server" in outcome) {
      seen.add(outcome.server.name);
      servers.push(outcome.server);
      entries.push({ name: outcome.server.name, transport: outcome.server.transport, url: redactUrl(outcome.server.url), status: "enabled" });
    } else {
      entries.push(outcome.entry);
      if (outcome.entry.error) issues.push(outcome.entry.error);
    }
  }
  return { servers, entries, issues };
}

export type EntryOutcome = { server: ExternalServer } | { entry: ServerEntryStatus };

export function parseEntry(key: string, raw: unknown): EntryOutcome {
  const misconfigured = (name: string, message: string, transport = "unknown", url = ""): EntryOutcome => ({
    entry: {
      name,
      transport,
      url: redactUrl(url),
      status: "misconfigured",
      error: appError("config_invalid", `MCP server '${name}': ${message}`, { server: name }),
    },
  });
  const parsed = ServerEntry.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first?.path.join(".") || "(entry)";
    return misconfigured(key, `invalid ${field}: ${first?.message ?? "invalid"}`);
  }
  const entry = parsed.data;
  const name = entry.name ?? key;
  const enabled = entry.enabled ?? (entry.disabled === undefined ? true : !entry.disabled);
  const transportText = (entry.transport ?? entry.type ?? "streamable-http").toLowerCase();
  const transport = TRANSPORTS[transportText];
  if (!enabled) return { entry: { name, transport: transport ?? transportText, url: redactUrl(entry.url ?? ""), status: "disabled" } };

  if (entry.url === undefined && entry.command !== undefined) {
    const commandLine = [entry.command, ...(entry.args ?? [])].join(" ");
    return misconfigured(
      name,
      `stdio servers ("command": ${JSON.stringify(commandLine)}) cannot run on Cloudflare Workers, which cannot spawn ` +
        `processes. Run it on a host behind a stdio→Streamable HTTP bridge, e.g. ` +
        `\`npx -y supergateway --stdio ${JSON.stringify(commandLine)} --outputTransport streamableHttp --port 8000\`, ` +
        `then configure this entry as {"url": "https://<host>:8000/mcp", "transport": "streamable-http"}.`,
      "stdio",
    );
  }
  if (entry.url === undefined) return misconfigured(name, 'missing "url"');
  if (!transport) {
    return misconfigured(name, `unknown transport ${JSON.stringify(transportText)}: use "streamable-http" or "sse"`, transportText, entry.url);
  }
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    return misconfigured(name, `"url" is not a valid URL`, transport);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return misconfigured(name, `"url" must be http(s), not ${url.protocol}`, transport, entry.url);
  }
  if (entry.retry_max_ms < entry.retry_initial_ms) {
    return misconfigured(name, "retry_max_ms must be at least retry_initial_ms", transport, entry.url);
  }
  return {
    server: {
      name,
      url: url.href,
      transport,
      headers: entry.headers,
      timeout_ms: entry.timeout_ms,
      connect_timeout_ms: entry.connect_timeout_ms,
      cache_ttl_seconds: entry.cache_ttl_seconds,
      revalidate_seconds: entry.revalidate_seconds,
      unhealthy_grace_seconds: entry.unhealthy_grace_seconds,
      retry_initial_ms: entry.retry_initial_ms,
      retry_max_ms: entry.retry_max_ms,
      allow: entry.tools.allow,
      deny: entry.tools.deny,
      prefix: entry.prefix ?? sanitizeName(name).name,
    },
  };
}

/** A URL safe to show: credentials and query values dropped (tokens often live there). */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = "";
    url.password = "";
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, "***");
    return url.href;
  } catch {
    return text === "" ? "" : "(invalid url)";
  }
}

/** Whether an upstream tool passes the server's allow/deny lists. */
export function isToolExposed(server: Pick<ExternalServer, "allow" | "deny">, tool: string): boolean {
  if (server.deny.includes(tool)) return false;
  return server.allow === undefined || server.allow.includes(tool);
}

/**
 * The Durable Object name of a server's upstream state: its name plus a digest of what identifies the
 * connection (url, transport, headers). Changing any of them starts from a clean cache and session; the
 * digest keeps credentials out of the name.
 */
export async function upstreamObjectName(server: Pick<ExternalServer, "name" | "url" | "transport" | "headers">): Promise<string> {
  return `${server.name}#${await connectionDigest(server)}`;
}

export async function connectionDigest(server: Pick<ExternalServer, "url" | "transport" | "headers">): Promise<string> {
  const headers = Object.entries(server.headers)
    .map(([key, value]) => [key.toLowerCase(), value])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const identity = JSON.stringify([server.url, server.transport, headers]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(identity));
  return [...new Uint8Array(digest).slice(0, 12)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
