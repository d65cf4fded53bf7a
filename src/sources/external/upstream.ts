/**
 * Everything about one external MCP server that must outlive a request or an eviction, run by that server's
 * object (durable-objects/upstream-object.ts, named by {@link upstreamObjectName}):
 *
 * - the discovered tool list, in storage, served until `cache_ttl_seconds` (then refreshed in the
 *   background while the old list is still served) or until `notifications/tools/list_changed`;
 * - the Streamable HTTP session id and protocol version, so a woken object resumes without initialize,
 *   and re-initializes when the upstream answers "unknown session" (it restarted), retrying the call once;
 * - health with exponential backoff: failures open a circuit (calls fail fast), an alarm retries discovery
 *   in the background, and the last known tools stay visible for a grace period;
 * - the live connection (with its notification stream), closed after {@link IDLE_CLOSE_MS} without use so
 *   the object can be evicted.
 *
 * Every RPC method returns a {@link Result}: errors lose their fields across Durable Object RPC. Callers on
 * one server never wait on another server: each server is its own object.
 */
import { z } from "zod";
import type { ServiceConfig } from "../../core/config";
import { raceDeadline } from "../../core/deadline";
import { fail, ok, type Result } from "../../core/errors";
import type { ObjectHost } from "../../core/host";
import { storedValue, type StoredValue } from "../../core/stored-value";
import { log } from "../../observability/log";
import { Health, initialHealth, isCoolingDown, recordFailure, recordSuccess, toolsVisible } from "./health";
import type { RawCallResult } from "./result-mapping";
import { connectionDigest, parseServers, type ExternalServer } from "./server-config";
import { ResumeState, UpstreamConnection, UpstreamTool, type Outcome, type UpstreamFailure } from "./upstream-client";
import type { CallRequest, CatalogueReply, CatalogueRequest, UpstreamRef, UpstreamRpc, UpstreamStatus } from "./upstream-rpc";

/** A connection unused this long is closed: its notification stream would otherwise keep the object awake. */
export const IDLE_CLOSE_MS = 60_000;

const StoredCatalogue = z.object({
  version: z.number(),
  tools: z.array(UpstreamTool),
  server_info: z.object({ name: z.string(), version: z.string() }).nullable(),
  /** Set by `tools/list_changed`: serve, but refresh now. */
  stale: z.boolean(),
});
type StoredCatalogue = z.infer<typeof StoredCatalogue>;

const Identity = z.object({ server: z.string(), digest: z.string() });

const KEY = { identity: "identity", catalogue: "catalogue", health: "health", resume: "resume" } as const;

/** Failure kinds after which a call is retried once on a fresh, re-initialized connection: none ran the call. */
const RETRY_ON_FRESH: ReadonlySet<UpstreamFailure["kind"]> = new Set(["session_expired", "not_sent", "unreachable"]);

export class Upstream implements UpstreamRpc {
  constructor(
    private readonly host: ObjectHost,
    /** The service configuration, read when a request names a server (it says which servers exist). */
    private readonly config: () => Result<ServiceConfig>,
  ) {
    this.#catalogue = storedValue(host.kv, KEY.catalogue, StoredCatalogue);
    this.#health = storedValue(host.kv, KEY.health, Health);
  }

  #server: ExternalServer | undefined;
  #conn: UpstreamConnection | undefined;
  #opening: Promise<Outcome<UpstreamConnection>> | undefined;
  #discovery: Promise<void> | undefined;
  #discoverAgain = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Parsed copies of the stored catalogue (null = none stored) and health. */
  // Storage is the truth (it survives eviction); stored values spare a read and a parse per request.
  readonly #catalogue: StoredValue<StoredCatalogue>;
  readonly #health: StoredValue<Health>;

  async catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>> {
    const server = await this.#bind(request);
    if (!server.ok) return server;
    const now = Date.now();
    let stored = this.#loadCatalogue();
    const health = this.#loadHealth();
    if (!stored && health.state === "starting") {
      // First use: the caller waits for discovery (bounded by connect_timeout_ms); afterwards it never does.
      await this.#discover(server.value);
      stored = this.#loadCatalogue();
    } else if (!stored ? !isCoolingDown(health, now) : this.#needsRefresh(server.value, stored, health, now)) {
      // A retry of an unhealthy server runs in the background: never on another request's path.
      void this.#discover(server.value);
    }
    return ok(this.#reply(server.value, stored, request.known_version));
  }

  /**
   * One tools/call. The whole call — connecting (if needed), a retry on a fresh session, the call itself —
   * ends within the server's `timeout_ms`, and fails as soon as the upstream is known gone.
   */
  async call(request: CallRequest): Promise<Result<RawCallResult>> {
    const bound = await this.#bind(request);
    if (!bound.ok) return bound;
    const server = bound.value;
    const deadline = Date.now() + server.timeout_ms;
    const remaining = () => deadline - Date.now();
    const health = this.#loadHealth();
    if (isCoolingDown(health, Date.now())) {
      const retryIn = Math.max(0, Math.ceil(((health.next_retry_at ?? 0) - Date.now()) / 1000));
      return fail("upstream_error", `MCP server '${server.name}' is unavailable (${health.last_error ?? "unknown error"}); next retry in ${retryIn} s`, {
        server: server.name,
      });
    }
    this.#touch();
    let conn = await this.#connection(server, remaining());
    if (!conn.ok) return this.#unreachable(server, conn.failure);
    let outcome = await conn.value.callTool(request.tool, request.arguments, remaining());
    if (!outcome.ok && RETRY_ON_FRESH.has(outcome.failure.kind) && remaining() > 0) {
      // The upstream restarted (unknown session) or the connection broke before the call could run:
      // initialize a fresh session and retry this call once, within what is left of its deadline.
      log("info", "upstream.reinitialize", { server: server.name, reason: outcome.failure.kind, message: outcome.failure.message });
      await this.#dropConnection(true);
      conn = await this.#connection(server, remaining());
      if (!conn.ok) return this.#unreachable(server, conn.failure);
      outcome = await conn.value.callTool(request.tool, request.arguments, remaining());
    }
    if (outcome.ok) {
      this.#succeeded(server);
      return ok(outcome.value);
    }
    const failure = outcome.failure;
    if (failure.kind === "protocol") {
      // The server answered: it is healthy, the call is not.
      return fail("upstream_error", `MCP server '${server.name}' rejected the call: ${failure.message}`, {
        server: server.name,
        mcp_code: failure.mcp_code ?? null,
      });
    }
    if (failure.kind === "timeout") {
      // A slow tool is not a dead server: probe before marking it unhealthy.
      void this.#probe(server);
      return fail("timeout", `MCP server '${server.name}': ${failure.message}`, { server: server.name, timeout_ms: server.timeout_ms });
    }
    this.#failed(server, failure);
    return fail("upstream_error", `MCP server '${server.name}' failed: ${failure.message}`, { server: server.name });
  }

  #unreachable<T>(server: ExternalServer, failure: UpstreamFailure): Result<T> {
    this.#failed(server, failure);
    return fail(failure.kind === "timeout" ? "timeout" : "upstream_error", `MCP server '${server.name}' is unreachable: ${failure.message}`, {
      server: server.name,
    });
  }

  async status(request: UpstreamRef): Promise<Result<UpstreamStatus>> {
    const server = await this.#bind(request);
    if (!server.ok) return server;
    const stored = this.#loadCatalogue();
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
    });
  }

  /** Background retry of an unhealthy server. At-least-once: acts only on what storage says now. */
  async alarm(): Promise<void> {
    const identity = Identity.safeParse(this.host.kv.get(KEY.identity));
    if (!identity.success) return;
    const server = await this.#resolve(identity.data.server, identity.data.digest);
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
    await this.#dropConnection(false);
    await this.#discover(server.value);
  }

  // ── configuration ────────────────────────────────────────────────────────────────────────────────────

  async #bind(ref: UpstreamRef): Promise<Result<ExternalServer>> {
    if (this.#server && this.#server.name === ref.server) return ok(this.#server);
    const server = await this.#resolve(ref.server, ref.digest);
    if (!server.ok) return server;
    this.#server = server.value;
    this.host.kv.put(KEY.identity, { server: ref.server, digest: ref.digest });
    return server;
  }

  async #resolve(name: string, digest: string): Promise<Result<ExternalServer>> {
    const config = this.config();
    if (!config.ok) return config;
    const server = parseServers(config.value).servers.find((candidate) => candidate.name === name);
    if (!server) return fail("config_invalid", `MCP server '${name}' is not configured (or is disabled)`);
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

  /** initialize (if needed) + every tools/list page; concurrent callers share one run. */
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
    this.#touch();
    let listed = await this.#withConnection(server, (conn) => conn.listTools(remaining()));
    if (!listed.ok && RETRY_ON_FRESH.has(listed.failure.kind)) {
      await this.#dropConnection(true);
      listed = await this.#withConnection(server, (conn) => conn.listTools(remaining()));
    }
    if (!listed.ok && listed.failure.kind === "protocol" && listed.failure.mcp_code === -32601) {
      // No tools/list (a server without the tools capability): healthy, with no tools.
      listed = { ok: true, value: [] };
    }
    if (!listed.ok) {
      this.#failed(server, listed.failure);
      return;
    }
    const previous = this.#loadCatalogue();
    const now = Date.now();
    const catalogue: StoredCatalogue = {
      // Versions only grow, so a caller's cached copy is never mistaken for current.
      version: Math.max(now, (previous?.version ?? 0) + 1),
      tools: listed.value,
      server_info: this.#conn?.serverInfo ?? previous?.server_info ?? null,
      stale: false,
    };
    this.#saveCatalogue(catalogue);
    this.#succeeded(server);
    log("info", "upstream.discovered", { server: server.name, tools: catalogue.tools.length, duration_ms: now - started });
  }

  /** After a call timed out: a ping within connect_timeout_ms tells a slow tool from a dead server. */
  async #probe(server: ExternalServer): Promise<void> {
    const pinged = await this.#withConnection(server, (conn) => conn.ping(server.connect_timeout_ms));
    if (pinged.ok) return;
    if (pinged.failure.kind === "protocol") return; // answered (perhaps "ping not supported"): alive
    await this.#dropConnection(false);
    this.#failed(server, pinged.failure);
  }

  // ── connection ───────────────────────────────────────────────────────────────────────────────────────

  async #withConnection<T>(server: ExternalServer, use: (conn: UpstreamConnection) => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const conn = await this.#connection(server);
    if (!conn.ok) return conn;
    return use(conn.value);
  }

  /**
   * The live connection, or a new one. Concurrent callers share one opening (bounded by connect_timeout_ms);
   * each waits no longer than its own `budgetMs`.
   */
  #connection(server: ExternalServer, budgetMs = server.connect_timeout_ms): Promise<Outcome<UpstreamConnection>> {
    if (this.#conn?.alive) return Promise.resolve({ ok: true, value: this.#conn });
    this.#opening ??= this.#open(server).finally(() => {
      this.#opening = undefined;
    });
    if (budgetMs >= server.connect_timeout_ms) return this.#opening;
    return raceDeadline(this.#opening, budgetMs, () => ({
      ok: false,
      failure: { kind: "timeout", message: `connecting to ${server.name} took longer than the call's remaining ${Math.max(0, budgetMs)} ms` },
    }));
  }

  async #open(server: ExternalServer): Promise<Outcome<UpstreamConnection>> {
    const resume = server.transport === "streamable-http" ? ResumeState.safeParse(this.host.kv.get(KEY.resume)) : undefined;
    let self: UpstreamConnection | undefined;
    const opened = await UpstreamConnection.open(
      server,
      {
        onToolsChanged: () => {
          log("info", "upstream.tools_changed", { server: server.name });
          const stored = this.#loadCatalogue();
          if (stored) this.#saveCatalogue({ ...stored, stale: true });
          void this.#discover(server);
        },
        onDead: (reason) => {
          if (self === undefined || this.#conn !== self) return;
          this.#conn = undefined;
          if (/session/i.test(reason)) this.host.kv.delete(KEY.resume);
          log("info", "upstream.disconnected", { server: server.name, reason });
        },
      },
      resume?.success ? resume.data : undefined,
    );
    if (!opened.ok) return opened;
    self = opened.value;
    this.#conn = self;
    const state = self.resumeState;
    if (state) this.host.kv.put(KEY.resume, state);
    this.#touch();
    return opened;
  }

  /** Closes the live connection; `forgetSession` also drops the stored session so the next one initializes. */
  async #dropConnection(forgetSession: boolean): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (forgetSession) this.host.kv.delete(KEY.resume);
    await conn?.close();
  }

  /** Restarts the idle countdown after which the connection (and its notification stream) is closed. */
  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#discovery || this.#opening) return this.#touch();
      void this.#dropConnection(false);
    }, IDLE_CLOSE_MS);
  }

  // ── health ───────────────────────────────────────────────────────────────────────────────────────────

  #succeeded(server: ExternalServer): void {
    const before = this.#loadHealth();
    if (before.state === "healthy") return;
    this.#saveHealth(recordSuccess(before, Date.now()));
    if (before.state === "unhealthy") {
      log("info", "upstream.recovered", { server: server.name, after_failures: before.failures });
      void this.host.alarm.clear();
    }
    // Recovered through a call before any discovery succeeded: fetch the list now.
    if (!this.#loadCatalogue()) void this.#discover(server);
  }

  #failed(server: ExternalServer, failure: UpstreamFailure): void {
    const next = recordFailure(this.#loadHealth(), failure.message, Date.now(), server);
    this.#saveHealth(next);
    log(next.failures === 1 ? "warn" : "info", "upstream.unhealthy", {
      server: server.name,
      kind: failure.kind,
      error: failure.message,
      failures: next.failures,
      retry_at: next.next_retry_at === null ? null : new Date(next.next_retry_at).toISOString(),
    });
    if (next.next_retry_at !== null) void this.host.alarm.set(next.next_retry_at);
  }

  // ── storage ──────────────────────────────────────────────────────────────────────────────────────────

  #loadCatalogue(): StoredCatalogue | undefined {
    return this.#catalogue.load();
  }

  #saveCatalogue(catalogue: StoredCatalogue): void {
    this.#catalogue.save(catalogue);
  }

  #loadHealth(): Health {
    return this.#health.load() ?? initialHealth();
  }

  #saveHealth(health: Health): void {
    this.#health.save(health);
  }

  #reply(server: ExternalServer, stored: StoredCatalogue | undefined, knownVersion: number | undefined): CatalogueReply {
    const health = this.#loadHealth();
    const reply: CatalogueReply = {
      version: stored?.version ?? 0,
      visible: toolsVisible(health, Date.now(), server.unhealthy_grace_seconds),
      health,
    };
    if (stored && stored.version !== knownVersion) reply.tools = stored.tools;
    return reply;
  }
}
