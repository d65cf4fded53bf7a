/**
 * External MCP servers (issue 4) — the public surface used by the session and agent Durable Objects, the
 * shared `/mcp` endpoint and the HTTP layer. Design: docs/design/external-servers.md.
 */
import { z } from "zod";
import type { ServiceConfig } from "../../core/config";
import { withDeadline } from "../../core/deadline";
import type { AppError } from "../../core/errors";
import { log } from "../../observability/log";
import type { Source } from "../../tools/tool-source";
import { ExternalTools, type KnownServer, type NameStore, type UpstreamDirectory } from "./external-tools";
import { parseServers, upstreamObjectName, connectionDigest, type ExternalServer } from "./server-config";
import type { UpstreamRpc, UpstreamStatus } from "./upstream-rpc";
import { toolsVisible } from "./health";
import { answerLimitsOf } from "./result-mapping";

/** What the API shows of one configured server (`/api/v1/mcp/servers`, `/readyz`). */
export const ExternalServerState = z.object({
  name: z.string(),
  state: z.enum(["starting", "healthy", "unhealthy", "disabled", "misconfigured"]),
  transport: z.string(),
  tool_count: z.number().int().nonnegative(),
  last_error: z.string().nullable(),
  last_success: z.string().nullable().describe("ISO time of the last successful discovery or call"),
  // Optional so that hand-built states (tests, /readyz fixtures) stay valid; this module always sets them.
  url: z.string().optional().describe("The server URL with credentials and query values masked"),
  visible: z.boolean().optional().describe("Whether its tools are offered to the LLM now (false once an unhealthy server's grace period is over)"),
  consecutive_failures: z.number().int().nonnegative().optional(),
  next_retry_at: z.string().nullable().optional().describe("ISO time of the next background retry of an unhealthy server"),
  protocol_era: z
    .enum(["modern", "legacy"])
    .nullable()
    .optional()
    .describe("Which MCP era the service speaks with it: `modern` (2026-07-28, stateless) or `legacy` (2025, sessions or HTTP+SSE); null until first connected"),
  protocol_version: z.string().nullable().optional().describe("The MCP protocol version negotiated with it, e.g. `2026-07-28` or `2025-11-25`; null until first connected"),
});
export type ExternalServerState = z.infer<typeof ExternalServerState>;

/**
 * The tool provider of every configured external server, for one caller's catalogue. It holds no I/O object
 * between requests, so a Worker isolate may keep one at module scope and serve every request with it.
 */
export function externalTools(config: ServiceConfig, env: Env, names: NameStore): ExternalTools {
  const parsed = parseServers(config);
  logIssuesOnce(parsed.issues);
  return new ExternalTools(parsed.servers, upstreamDirectory(env), names, { keepCjk: config.naming.keep_cjk, answerLimits: answerLimitsOf(config) }, Date.now, knownCatalogues(config));
}

/**
 * The catalogue copies of one configuration's servers in this isolate (plain data): every session object, agent
 * object and shared endpoint of the isolate reads and refreshes the same copies.
 */
const catalogues = new WeakMap<ServiceConfig, Map<string, KnownServer>>();

function knownCatalogues(config: ServiceConfig): Map<string, KnownServer> {
  let known = catalogues.get(config);
  if (!known) {
    known = new Map();
    catalogues.set(config, known);
  }
  return known;
}

/**
 * Asks every configured server's object to tell `follower` (a shared endpoint's stream object) when its tool
 * list changes, so the MCP clients listening there hear `tools/list_changed`. Bounded; failures only logged.
 */
export async function followExternalChanges(config: ServiceConfig, env: Env, follower: string): Promise<void> {
  const directory = upstreamDirectory(env);
  await Promise.all(
    parseServers(config).servers.map(async (server) => {
      try {
        const upstream = await directory(server);
        const reply = await withDeadline(upstream.follow({ server: server.name, digest: await connectionDigest(server), definition: server, follower }), 2_000, "follow");
        if (!reply.ok) log("warn", "external.follow_failed", { server: server.name, follower, message: reply.error.message });
      } catch (error) {
        log("warn", "external.follow_failed", { server: server.name, follower, message: error instanceof Error ? error.message : String(error) });
      }
    }),
  );
}

/** Configuration problems (e.g. stdio `command` entries), reported by /healthz; never throws. */
export function externalConfigIssues(config: ServiceConfig): AppError[] {
  const { issues } = parseServers(config);
  logIssuesOnce(issues);
  return issues;
}

/** Live state of each configured server (config order), for /api/v1/mcp/servers and /readyz. */
export async function externalServerStates(config: ServiceConfig, env: Env): Promise<ExternalServerState[]> {
  const parsed = parseServers(config);
  logIssuesOnce(parsed.issues);
  const directory = upstreamDirectory(env);
  const byName = new Map(parsed.servers.map((server) => [server.name, server]));
  return Promise.all(
    parsed.entries.map(async (entry): Promise<ExternalServerState> => {
      const base = { name: entry.name, transport: entry.transport, url: entry.url };
      const server = byName.get(entry.name);
      if (entry.status !== "enabled" || !server) {
        return { ...base, ...withoutTools(entry.status === "disabled" ? "disabled" : "misconfigured", entry.error?.message ?? null) };
      }
      const status = await statusOf(server, directory);
      if (!status.ok) {
        return { ...base, ...withoutTools("unhealthy", status.message) };
      }
      const { health } = status.value;
      return {
        ...base,
        state: health.state,
        tool_count: status.value.tool_count,
        last_error: health.last_error,
        last_success: iso(health.last_success),
        visible: status.value.visible && toolsVisible(health, Date.now(), server.unhealthy_grace_seconds),
        consecutive_failures: health.failures,
        next_retry_at: health.state === "unhealthy" ? iso(health.next_retry_at) : null,
        protocol_era: status.value.protocol?.era ?? null,
        protocol_version: status.value.protocol?.protocol_version ?? null,
      };
    }),
  );
}

/** The state of a server that offers no tools now (off, misconfigured, or its state unreadable). */
function withoutTools(state: ExternalServerState["state"], lastError: string | null) {
  return {
    state,
    tool_count: 0,
    last_error: lastError,
    last_success: null,
    visible: false,
    consecutive_failures: 0,
    next_retry_at: null,
    protocol_era: null,
    protocol_version: null,
  };
}

/** The status RPC, bounded: an operator page never hangs on one server. */
async function statusOf(
  server: ExternalServer,
  directory: UpstreamDirectory,
): Promise<{ ok: true; value: UpstreamStatus } | { ok: false; message: string }> {
  try {
    const upstream = await directory(server);
    const reply = await withDeadline(upstream.status({ server: server.name, digest: await connectionDigest(server), definition: server }), 2_000, "status");
    return reply.ok ? reply : { ok: false, message: reply.error.message };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

function upstreamDirectory(env: Env): UpstreamDirectory {
  // The stub's generated Rpc types recurse without end over JSON values (TS2589); the object's own
  // interface is the same contract, stated once.
  return async (server) => env.UPSTREAMS.getByName(await upstreamObjectName(server)) as unknown as UpstreamRpc;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Config errors already logged in this isolate (plain data): each is logged once, not per request. */
const loggedIssues = new Set<string>();

function logIssuesOnce(issues: readonly AppError[]): void {
  for (const issue of issues) {
    if (loggedIssues.has(issue.message)) continue;
    if (loggedIssues.size > 256) loggedIssues.clear();
    loggedIssues.add(issue.message);
    log("error", "external.config_invalid", { message: issue.message });
  }
}
