/**
 * The upstream object's one live connection to its server, and the route callers use to reach the server
 * directly (upstream-model.ts): the legacy MCP session every caller shares, or the 2026-07-28 discover result.
 *
 * The route is kept in storage, so an object woken after eviction resumes a legacy session without initialize.
 * The connection exists for what only a connection can do: discovery, hearing `list_changed` (the legacy GET
 * stream, the HTTP+SSE stream, a 2026-07-28 `subscriptions/listen`), probes, and the calls of HTTP+SSE
 * upstreams. It is closed after {@link IDLE_CLOSE_MS} without use, so the object can be evicted; closing it
 * never ends the upstream session, which callers keep using.
 */
import { raceDeadline } from "../../core/deadline";
import type { KvStore } from "../../core/host";
import { storedValue, type StoredValue } from "../../core/stored-value";
import { log } from "../../observability/log";
import type { ExternalServer } from "./server-config";
import { DEFAULT_ANSWER_LIMITS, type AnswerLimits } from "./result-mapping";
import { UpstreamConnection } from "./upstream-client";
import { ProtocolInfo, routeKey, UpstreamRoute, type Outcome, type UpstreamFailure } from "./upstream-model";

/** A connection unused this long is closed: its notification stream would otherwise keep the object awake. */
export const IDLE_CLOSE_MS = 60_000;

const ROUTE_KEY = "route";
const PROTOCOL_KEY = "protocol";
/** Where versions before direct calls kept the Streamable HTTP session; dropped when a route is stored. */
const OLD_RESUME_KEY = "resume";

export interface LinkEvents {
  /** The upstream announced a changed tool list. */
  toolsChanged(server: ExternalServer): void;
  /** A renewal could not connect: the server's health must hear of it. */
  failed(server: ExternalServer, failure: UpstreamFailure): void;
}

export class UpstreamLink {
  #conn: UpstreamConnection | undefined;
  #opening: Promise<Outcome<UpstreamConnection>> | undefined;
  #renewal: Promise<Outcome<UpstreamRoute>> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #route: StoredValue<UpstreamRoute>;
  readonly #protocol: StoredValue<ProtocolInfo>;

  constructor(
    private readonly kv: KvStore,
    private readonly events: LinkEvents,
    /** Whether something else keeps the connection in use (a discovery running), so idling must wait. */
    private readonly busy: () => boolean,
    /** How deep and long the upstream's answers may be (the service's `limits`). */
    private readonly limits: () => AnswerLimits = () => DEFAULT_ANSWER_LIMITS,
  ) {
    this.#route = storedValue(kv, ROUTE_KEY, UpstreamRoute);
    this.#protocol = storedValue(kv, PROTOCOL_KEY, ProtocolInfo);
  }

  /** The era and protocol version of the last connection (HTTP+SSE included), for the operator's view. */
  protocol(): ProtocolInfo | undefined {
    return this.#protocol.load();
  }

  /** The route callers are given: the last one a connection established (undefined for HTTP+SSE). */
  route(): UpstreamRoute | undefined {
    return this.#route.load();
  }

  get live(): boolean {
    return this.#conn?.alive === true;
  }

  get opening(): boolean {
    return this.#opening !== undefined;
  }

  get serverInfo(): { name: string; version: string } | undefined {
    return this.#conn?.serverInfo;
  }

  async with<T>(server: ExternalServer, use: (conn: UpstreamConnection) => Promise<Outcome<T>>, budgetMs?: number): Promise<Outcome<T>> {
    const conn = await this.connection(server, budgetMs);
    if (!conn.ok) return conn;
    return use(conn.value);
  }

  /**
   * The live connection, or a new one. Concurrent callers share one opening (bounded by connect_timeout_ms);
   * each waits no longer than its own `budgetMs`.
   */
  connection(server: ExternalServer, budgetMs = server.connect_timeout_ms): Promise<Outcome<UpstreamConnection>> {
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

  /**
   * A route to replace `staleKey` ({@link routeKey}), which a caller found refused (the upstream restarted and
   * forgot the session, or changed protocol). Every caller that saw the same refusal gets the same new route:
   * if the current route already differs from the stale one it is returned as is, and concurrent renewals
   * share one new connection.
   */
  async renew(server: ExternalServer, staleKey: string, budgetMs: number): Promise<Outcome<UpstreamRoute>> {
    const current = this.route();
    if (current && routeKey(current) !== staleKey && !this.#renewal) return { ok: true, value: current };
    this.#renewal ??= this.#renew(server, staleKey).finally(() => {
      this.#renewal = undefined;
    });
    return raceDeadline(this.#renewal, budgetMs, () => ({
      ok: false,
      failure: { kind: "timeout", message: `renewing the session with ${server.name} took longer than the call's remaining ${Math.max(0, budgetMs)} ms` },
    }));
  }

  async #renew(server: ExternalServer, staleKey: string): Promise<Outcome<UpstreamRoute>> {
    // An opening under way may resume the stale session: let it finish, then judge what it established.
    if (this.#opening) await this.#opening;
    const current = this.route();
    if (!(this.#conn?.alive && current && routeKey(current) !== staleKey)) {
      log("info", "upstream.renew", { server: server.name });
      await this.drop(true);
    }
    const conn = await this.connection(server);
    if (!conn.ok) {
      this.events.failed(server, conn.failure);
      return conn;
    }
    const route = this.route();
    return route ? { ok: true, value: route } : { ok: false, failure: { kind: "protocol", message: `${server.name} gave no route for direct calls` } };
  }

  async #open(server: ExternalServer): Promise<Outcome<UpstreamConnection>> {
    const stored = server.transport === "streamable-http" ? this.route() : undefined;
    const resume = stored?.era === "legacy" && stored.session_id !== null ? { session_id: stored.session_id, protocol_version: stored.protocol_version } : undefined;
    let self: UpstreamConnection | undefined;
    const opened = await UpstreamConnection.open(
      server,
      {
        onToolsChanged: () => this.events.toolsChanged(server),
        onDead: (reason) => {
          if (self === undefined || this.#conn !== self) return;
          this.#conn = undefined;
          if (/session/i.test(reason)) this.#forgetRoute();
          log("info", "upstream.disconnected", { server: server.name, reason });
        },
      },
      resume,
      server.connect_timeout_ms,
      this.limits(),
    );
    if (!opened.ok) return opened;
    self = opened.value;
    this.#conn = self;
    const protocol = self.protocol;
    if (protocol) this.#protocol.save(protocol);
    const route = self.route;
    if (route) {
      this.#route.save(route);
      this.kv.delete(OLD_RESUME_KEY);
    } else this.#forgetRoute();
    this.touch();
    return opened;
  }

  /** Closes the live connection; `forgetSession` also drops the stored route so the next one starts afresh. */
  async drop(forgetSession: boolean): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (forgetSession) this.#forgetRoute();
    await conn?.close();
  }

  /** Restarts the idle countdown after which the connection (and its notification stream) is closed. */
  touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.busy() || this.#opening || this.#renewal) return this.touch();
      void this.drop(false);
    }, IDLE_CLOSE_MS);
  }

  #forgetRoute(): void {
    this.kv.delete(ROUTE_KEY);
    this.#route.forget();
  }
}
