/**
 * Everything about one external MCP server that must outlive a request or an eviction, run by that server's
 * object (durable-objects/upstream-object.ts, named by {@link upstreamObjectName}):
 *
 * - the discovered tool list, in storage, served until `cache_ttl_seconds` (then refreshed in the
 *   background while the old list is still served) or until `notifications/tools/list_changed`;
 * - the route callers use to call the upstream themselves (upstream-link.ts): the one legacy MCP session they
 *   all share, renewed once for all of them when the upstream restarted, or the 2026-07-28 discover result;
 * - health with exponential backoff, authoritative for every caller: callers report failures (and a success
 *   after one), failures open a circuit (callers fail fast), an alarm retries discovery in the background, and
 *   the last known tools stay visible for a grace period. A timed-out call is probed before it counts;
 * - the calls of HTTP+SSE upstreams, whose replies arrive on this object's event stream.
 *
 * Every RPC method returns a {@link Result}: errors lose their fields across Durable Object RPC. Callers on
 * one server never wait on another server: each server is its own object.
 */
import { z } from "zod";
import type { ServiceConfig } from "../../core/config";
import { fail, ok, type Result } from "../../core/errors";
import type { ObjectHost } from "../../core/host";
import { storedValue, type StoredValue } from "../../core/stored-value";
import { log } from "../../observability/log";
import { callFailed, coolingDown, judgesHealth } from "./call-outcome";
import { Health, initialHealth, isCoolingDown, recordFailure, recordSuccess, toolsVisible } from "./health";
import { answerLimitsOf, DEFAULT_ANSWER_LIMITS, type RawCallResult } from "./result-mapping";
import { connectionDigest, parseServers, ServerDefinition, type ExternalServer } from "./server-config";
import { UpstreamLink } from "./upstream-link";
import { UpstreamTool, type UpstreamFailure, type UpstreamRoute } from "./upstream-model";
import { RenewRequest, ReportRequest, type CallRequest, type CatalogueReply, type CatalogueRequest, type FollowRequest, type UpstreamRef, type UpstreamRpc, type UpstreamStatus } from "./upstream-rpc";

const StoredCatalogue = z.object({
  version: z.number(),
  tools: z.array(UpstreamTool),
  server_info: z.object({ name: z.string(), version: z.string() }).nullable(),
  /** Set by `tools/list_changed`: serve, but refresh now. */
  stale: z.boolean(),
  /** The upstream's own freshness of the list (2026-07-28 `ttlMs`), passed on to callers. */
  ttl_ms: z.number().int().nonnegative().optional(),
});
type StoredCatalogue = z.infer<typeof StoredCatalogue>;

const Identity = z.object({ server: z.string(), digest: z.string(), definition: ServerDefinition.optional() });

const KEY = { identity: "identity", catalogue: "catalogue", health: "health", followers: "followers" } as const;

/** Objects told when the tool list changes (the shared endpoint's stream objects): a bounded list, oldest out. */
const MAX_FOLLOWERS = 64;
const Followers = z.array(z.string()).max(MAX_FOLLOWERS);

/** Failure kinds after which an object call is retried once on a fresh, re-initialized connection: none ran the call. */
const RETRY_ON_FRESH: ReadonlySet<UpstreamFailure["kind"]> = new Set(["session_expired", "not_sent", "unreachable"]);

export class Upstream implements UpstreamRpc {
  readonly #followers: StoredValue<string[]>;

  constructor(
    private readonly host: ObjectHost,
    /** The service configuration, read when a request names a server (it says which servers exist). */
    private readonly config: () => Result<ServiceConfig>,
    /** Tells followers that the server's tool list changed (the object's shell knows how to reach them). */
    private readonly tell: (followers: readonly string[]) => void = () => undefined,
  ) {
    this.#followers = storedValue(host.kv, KEY.followers, Followers);
    this.#catalogue = storedValue(host.kv, KEY.catalogue, StoredCatalogue);
    this.#health = storedValue(host.kv, KEY.health, Health);
    this.#link = new UpstreamLink(
      host.kv,
      {
        toolsChanged: (server) => {
          log("info", "upstream.tools_changed", { server: server.name });
          const stored = this.#catalogue.load();
          if (stored) this.#catalogue.save({ ...stored, stale: true });
          void this.#discover(server);
        },
        failed: (server, failure) => this.#failed(server, failure),
      },
      () => this.#discovery !== undefined,
      () => {
        const config = this.config();
        return config.ok ? answerLimitsOf(config.value) : DEFAULT_ANSWER_LIMITS;
      },
    );
  }

  #server: ExternalServer | undefined;
  #discovery: Promise<void> | undefined;
  #discoverAgain = false;
  #probing: Promise<void> | undefined;
  readonly #link: UpstreamLink;
  // Storage is the truth (it survives eviction); stored values spare a read and a parse per request.
  readonly #catalogue: StoredValue<StoredCatalogue>;
  readonly #health: StoredValue<Health>;

  async catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>> {
    const server = await this.#bind(request);
    if (!server.ok) return server;
    const now = Date.now();
    let stored = this.#catalogue.load();
    const health = this.#loadHealth();
    if (!stored && health.state === "starting") {
      // First use: the caller waits for discovery (bounded by connect_timeout_ms); afterwards it never does.
      await this.#discover(server.value);
      stored = this.#catalogue.load();
    } else if (!stored ? !isCoolingDown(health, now) : this.#needsRefresh(server.value, stored, health, now)) {
      // A retry of an unhealthy server runs in the background: never on another request's path.
      void this.#discover(server.value);
    } else if (health.state === "healthy") {
      this.#listen(server.value);
    }
    return ok(this.#reply(server.value, stored, request.known_version));
  }

  /**
   * One tools/call through this object (HTTP+SSE upstreams; callers without a route). The whole call —
   * connecting (if needed), a retry on a fresh session, the call itself — ends within the server's
   * `timeout_ms`, and fails as soon as the upstream is known gone.
   */
  async call(request: CallRequest): Promise<Result<RawCallResult>> {
    const bound = await this.#bind(request);
    if (!bound.ok) return bound;
    const server = bound.value;
    const deadline = Date.now() + server.timeout_ms;
    const remaining = () => deadline - Date.now();
    const refused = coolingDown(server, this.#loadHealth(), Date.now());
    if (refused) return refused;
    const tool = this.#catalogue.load()?.tools.find((candidate) => candidate.name === request.tool) ?? { name: request.tool, description: "", inputSchema: { type: "object" } };
    this.#link.touch();
    let conn = await this.#link.connection(server, remaining());
    if (!conn.ok) return this.#unreachable(server, conn.failure);
    let outcome = await conn.value.callTool(tool, request.arguments, remaining());
    if (!outcome.ok && RETRY_ON_FRESH.has(outcome.failure.kind) && remaining() > 0) {
      // The upstream restarted (unknown session) or the connection broke before the call could run:
      // initialize a fresh session and retry this call once, within what is left of its deadline.
      log("info", "upstream.reinitialize", { server: server.name, reason: outcome.failure.kind, message: outcome.failure.message });
      await this.#link.drop(true);
      conn = await this.#link.connection(server, remaining());
      if (!conn.ok) return this.#unreachable(server, conn.failure);
      outcome = await conn.value.callTool(tool, request.arguments, remaining());
    }
    if (outcome.ok) {
      this.#succeeded(server);
      return ok(outcome.value);
    }
    if (outcome.failure.kind === "timeout") void this.#probe(server);
    else if (judgesHealth(outcome.failure)) this.#failed(server, outcome.failure);
    return callFailed(server, outcome.failure);
  }

  #unreachable(server: ExternalServer, failure: UpstreamFailure): Result<never> {
    this.#failed(server, failure);
    return callFailed(server, failure, true);
  }

  /**
   * `follower` (an object holding MCP notification streams) wants to hear when this server's tool list changes.
   * Off every call's path: asked once when such an object starts.
   */
  async follow(request: FollowRequest): Promise<Result<{ followers: number }>> {
    const server = await this.#bind(request);
    if (!server.ok) return server;
    const followers = (this.#followers.load() ?? []).filter((name) => name !== request.follower);
    const kept = [...followers, request.follower].slice(-MAX_FOLLOWERS);
    this.#followers.save(kept);
    return ok({ followers: kept.length });
  }

  /** A new route for a caller whose direct call was refused with `request.stale` (see UpstreamLink.renew). */
  async renew(input: RenewRequest): Promise<Result<UpstreamRoute>> {
    const request = RenewRequest.safeParse(input);
    if (!request.success) return fail("invalid_request", "renew: malformed request");
    const server = await this.#bind(request.data);
    if (!server.ok) return server;
    const renewed = await this.#link.renew(server.value, request.data.stale, request.data.budget_ms);
    if (!renewed.ok) return callFailed(server.value, renewed.failure, true);
    return ok(renewed.value);
  }

  /** A caller's direct call changed what is known of the server's health; returns the health now. */
  async report(input: ReportRequest): Promise<Result<Health>> {
    const request = ReportRequest.safeParse(input);
    if (!request.success) return fail("invalid_request", "report: malformed request");
    const server = await this.#bind(request.data);
    if (!server.ok) return server;
    const outcome = request.data.outcome;
    if (outcome.type === "success") this.#succeeded(server.value);
    else if (outcome.type === "timeout") void this.#probe(server.value);
    // Callers that failed together report together: one failure per backoff window, not one per caller.
    else if (!isCoolingDown(this.#loadHealth(), Date.now())) this.#failed(server.value, { kind: outcome.kind, message: outcome.message });
    return ok(this.#loadHealth());
  }

  async status(request: UpstreamRef): Promise<Result<UpstreamStatus>> {
    const server = await this.#bind(request);
    if (!server.ok) return server;
    const stored = this.#catalogue.load();
    const health = this.#loadHealth();
    const now = Date.now();
    // An operator looking at a server that was never used sees it discovered, not stuck in "starting".
    if (!stored && !isCoolingDown(health, now)) void this.#discover(server.value);
    else if (stored && this.#needsRefresh(server.value, stored, health, now)) void this.#discover(server.value);
    return ok({
      version: stored?.version ?? 0,
      tool_count: stored?.tools.length ?? 0,
      visible: toolsVisible(health, now, server.value.unhealthy_grace_seconds),
      health,
      server_info: stored?.server_info ?? null,
      protocol: this.#link.protocol() ?? null,
    });
  }

  /** Background retry of an unhealthy server. At-least-once: acts only on what storage says now. */
  async alarm(): Promise<void> {
    const identity = Identity.safeParse(this.host.kv.get(KEY.identity));
    if (!identity.success) return;
    const server = await this.#resolve(identity.data.server, identity.data.digest, identity.data.definition);
    if (!server.ok) {
      // The configuration no longer has this server (or it now points elsewhere): stop retrying.
      log("info", "upstream.orphaned", { server: identity.data.server });
      return;
    }
    this.#server = server.value;
    const health = this.#loadHealth();
    if (health.state !== "unhealthy") return;
    if (health.next_retry_at !== null && Date.now() < health.next_retry_at) {
      await this.host.alarm.set(health.next_retry_at);
      return;
    }
    await this.#link.drop(false);
    await this.#discover(server.value);
  }

  // ── configuration ────────────────────────────────────────────────────────────────────────────────────

  async #bind(ref: UpstreamRef): Promise<Result<ExternalServer>> {
    if (this.#server && this.#server.name === ref.server) return ok(this.#server);
    const server = await this.#resolve(ref.server, ref.digest, ref.definition);
    if (!server.ok) return server;
    this.#server = server.value;
    // The definition is kept for the alarm's retries: an agent's server is in no configuration this object reads.
    this.host.kv.put(KEY.identity, { server: ref.server, digest: ref.digest, definition: server.value });
    return server;
  }

  /**
   * The server a request names: as the caller defined it (an agent's own), else as the service configuration
   * does; either way its connection must be the one this object is named after.
   */
  async #resolve(name: string, digest: string, definition?: ExternalServer): Promise<Result<ExternalServer>> {
    let server = definition === undefined ? undefined : ServerDefinition.safeParse(definition).data;
    if (!server) {
      const config = this.config();
      if (!config.ok) return config;
      server = parseServers(config.value).servers.find((candidate) => candidate.name === name);
    }
    if (!server || server.name !== name) return fail("config_invalid", `MCP server '${name}' is not configured (or is disabled)`);
    if ((await connectionDigest(server)) !== digest) {
      return fail("config_invalid", `MCP server '${name}': configuration changed while the request was in flight; retry`);
    }
    return ok(server);
  }

  // ── discovery ────────────────────────────────────────────────────────────────────────────────────────

  #needsRefresh(server: ExternalServer, stored: StoredCatalogue, health: Health, now: number): boolean {
    if (isCoolingDown(health, now)) return false;
    return stored.stale || health.state === "unhealthy" || now - stored.version >= server.cache_ttl_seconds * 1000;
  }

  /**
   * Callers are active and nothing listens for list_changed: reconnect in the background (a resumed legacy
   * session costs no handshake). Without it, changes would wait for the TTL, as calls no longer come here.
   */
  #listen(server: ExternalServer): void {
    if (!this.#link.live && !this.#link.opening) void this.#link.connection(server);
    else this.#link.touch();
  }

  /** Connect (if needed) + every tools/list page; concurrent callers share one run. */
  #discover(server: ExternalServer): Promise<void> {
    if (this.#discovery) {
      this.#discoverAgain = true;
      return this.#discovery;
    }
    this.#discovery = (async () => {
      try {
        do {
          this.#discoverAgain = false;
          await this.#discoverOnce(server);
        } while (this.#discoverAgain);
      } finally {
        this.#discovery = undefined;
      }
    })();
    return this.#discovery;
  }

  async #discoverOnce(server: ExternalServer): Promise<void> {
    const started = Date.now();
    // One budget for connecting and walking every page; a retry on a fresh session gets what is left.
    const remaining = () => Math.max(1, started + server.connect_timeout_ms - Date.now());
    this.#link.touch();
    let listed = await this.#link.with(server, (conn) => conn.listTools(remaining()));
    if (!listed.ok && RETRY_ON_FRESH.has(listed.failure.kind)) {
      await this.#link.drop(true);
      listed = await this.#link.with(server, (conn) => conn.listTools(remaining()));
    }
    if (!listed.ok && listed.failure.kind === "protocol" && listed.failure.mcp_code === -32601) {
      // No tools/list (a server without the tools capability): healthy, with no tools.
      listed = { ok: true, value: { tools: [] } };
    }
    if (!listed.ok) {
      this.#failed(server, listed.failure);
      return;
    }
    const previous = this.#catalogue.load();
    const now = Date.now();
    const catalogue: StoredCatalogue = {
      // Versions only grow, so a caller's cached copy is never mistaken for current.
      version: Math.max(now, (previous?.version ?? 0) + 1),
      tools: listed.value.tools,
      server_info: this.#link.serverInfo ?? previous?.server_info ?? null,
      stale: false,
      ...(listed.value.ttl_ms !== undefined && { ttl_ms: listed.value.ttl_ms }),
    };
    this.#catalogue.save(catalogue);
    this.#succeeded(server);
    // Only a list that really changed is news (a re-listing after the cache TTL usually is not).
    if (previous && JSON.stringify(previous.tools) !== JSON.stringify(catalogue.tools)) this.tell(this.#followers.load() ?? []);
    log("info", "upstream.discovered", { server: server.name, tools: catalogue.tools.length, duration_ms: now - started });
  }

  /**
   * After a call timed out: a probe within connect_timeout_ms (ping; `server/discover` on 2026-07-28, which has
   * no ping) tells a slow tool from a dead server. Concurrent timeouts share one probe.
   */
  #probe(server: ExternalServer): Promise<void> {
    this.#probing ??= (async () => {
      const probed = await this.#link.with(server, (conn) => conn.probe(server.connect_timeout_ms));
      if (probed.ok || probed.failure.kind === "protocol") return; // answered (perhaps "not supported"): alive
      await this.#link.drop(false);
      this.#failed(server, probed.failure);
    })().finally(() => {
      this.#probing = undefined;
    });
    return this.#probing;
  }

  // ── health ───────────────────────────────────────────────────────────────────────────────────────────

  #succeeded(server: ExternalServer): void {
    const before = this.#loadHealth();
    if (before.state === "healthy") return;
    this.#health.save(recordSuccess(before, Date.now()));
    if (before.state === "unhealthy") {
      log("info", "upstream.recovered", { server: server.name, after_failures: before.failures });
      void this.host.alarm.clear();
    }
    // Recovered through a call before any discovery succeeded: fetch the list now.
    if (!this.#catalogue.load()) void this.#discover(server);
  }

  #failed(server: ExternalServer, failure: UpstreamFailure): void {
    const next = recordFailure(this.#loadHealth(), failure.message, Date.now(), server);
    this.#health.save(next);
    log(next.failures === 1 ? "warn" : "info", "upstream.unhealthy", {
      server: server.name,
      kind: failure.kind,
      error: failure.message,
      failures: next.failures,
      retry_at: next.next_retry_at === null ? null : new Date(next.next_retry_at).toISOString(),
    });
    if (next.next_retry_at !== null) void this.host.alarm.set(next.next_retry_at);
  }

  #loadHealth(): Health {
    return this.#health.load() ?? initialHealth();
  }

  #reply(server: ExternalServer, stored: StoredCatalogue | undefined, knownVersion: number | undefined): CatalogueReply {
    const health = this.#loadHealth();
    const reply: CatalogueReply = {
      version: stored?.version ?? 0,
      visible: toolsVisible(health, Date.now(), server.unhealthy_grace_seconds),
      health,
    };
    if (stored && stored.version !== knownVersion) reply.tools = stored.tools;
    if (stored?.ttl_ms !== undefined) reply.ttl_ms = stored.ttl_ms;
    const route = this.#link.route();
    if (route) reply.route = route;
    return reply;
  }
}
