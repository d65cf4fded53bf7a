/**
 * The external tools of one caller's catalogue (a session object, an agent object, or a Worker isolate serving
 * the shared `/mcp` endpoint): asks each server's upstream object for its catalogue concurrently, names the
 * tools (see naming.ts), validates arguments against the upstream's schema, calls the upstream directly with
 * the original tool name (direct-calls.ts; HTTP+SSE upstreams through their object), and maps results to the
 * action contract.
 *
 * No I/O objects are kept here, so one instance may serve request after request of an isolate: only the last
 * catalogues with their routes and health (plain data) and compiled argument checks.
 */
import { raceDeadline } from "../../core/deadline";
import { fail, ok, type Result } from "../../core/errors";
import type { ToolDescriptor, ToolResult } from "../../core/schemas";
import { log } from "../../observability/log";
import type { ToolArgs, Source } from "../../tools/tool-source";
import { compileArgumentCheck, type ArgumentCheck } from "./argument-validation";
import { isFresh } from "./catalogue-freshness";
import { callDirectly } from "./direct-calls";
import { toolsVisible, type Health } from "./health";
import { describeNamed, type NamingOptions, type StoredNames } from "../../tools/naming";
import { nameExternalTools } from "./naming";
import { toToolResult, type AnswerLimits, type RawCallResult } from "./result-mapping";
import { connectionDigest, isToolExposed, type ExternalServer } from "./server-config";
import type { UpstreamRoute, UpstreamTool } from "./upstream-model";
import type { CatalogueReply, UpstreamRpc } from "./upstream-rpc";

/** Finds the upstream object of a server (by its configuration). */
export type UpstreamDirectory = (server: ExternalServer) => Promise<UpstreamRpc>;

/** Where the names given so far are kept (the session's storage): a tool keeps its name while it exists. */
export interface NameStore {
  load(): StoredNames | undefined;
  save(names: StoredNames): void;
}

/** A caller's copy of one server's catalogue reply, updated by what its own calls learn. */
export interface KnownServer {
  version: number;
  tools: UpstreamTool[];
  /** As last heard: from a catalogue reply, or from the object's answer to a report. */
  health: Health;
  /** Where direct calls go (absent: through the object). */
  route?: UpstreamRoute;
  /** The upstream's own freshness of its list, which may widen the revalidation window. */
  ttl_ms?: number;
  /** When the upstream object last confirmed this copy. */
  checked_at: number;
}

interface Route {
  server: ExternalServer;
  tool: UpstreamTool;
  version: number;
}

/** Extra wait, beyond a server's own deadlines, before a silent upstream object is given up on. */
const RPC_SLACK_MS = 2_000;
/**
 * The upstream object ends every call it runs within the server's `timeout_ms`; this much more is allowed for
 * the hop to it before the caller gives up on the object itself.
 */
const CALL_SLACK_MS = 500;

/** How tools are named, and how deep and long an upstream's answer may be (`limits`). */
export interface ExternalOptions extends NamingOptions {
  answerLimits?: AnswerLimits;
}

export class ExternalTools implements Source {
  readonly kind = "external" as const;
  readonly #known: Map<string, KnownServer>;
  #routes = new Map<string, Route>();
  /** The descriptors of the last naming, and the catalogue versions they were computed from. */
  #named: { key: string; descriptors: ToolDescriptor[] } | undefined;
  readonly #checks = new Map<string, ArgumentCheck>();
  readonly #digests = new Map<string, string>();

  /**
   * @param known the copies of the servers' catalogues, by server name: shared by every instance built from one
   *   configuration in an isolate (index.ts), so its sessions ask each upstream object once per window together.
   */
  constructor(
    private readonly servers: readonly ExternalServer[],
    private readonly directory: UpstreamDirectory,
    private readonly names: NameStore,
    private readonly options: ExternalOptions,
    private readonly now: () => number = Date.now,
    known: Map<string, KnownServer> = new Map(),
  ) {
    this.#known = known;
  }

  async list(): Promise<ToolDescriptor[]> {
    if (this.servers.length === 0) return [];
    // Concurrently, each with its own deadline: one slow server never holds up the others for longer
    // than its own connect_timeout_ms, and only on its very first discovery.
    await Promise.all(this.servers.map((server) => this.#refresh(server)));
    const now = this.now();
    // Visibility from the copy's health and the clock now: a grace period may end, or a call may have learnt
    // of a failure, between two revalidations.
    const visible = new Map(this.servers.map((server) => [server.name, this.#visible(server, now)]));
    const key = this.servers.map((server) => `${this.#known.get(server.name)?.version ?? 0}:${visible.get(server.name)}`).join(",");
    if (this.#named?.key === key) return this.#named.descriptors;
    // Names are computed over every known tool list, hidden ones included, so a server going down and
    // up again does not rename the tools of the others.
    const naming = nameExternalTools(
      this.names.load(),
      this.servers.map((server) => ({
        server: server.name,
        prefix: server.prefix,
        tools: (this.#known.get(server.name)?.tools ?? []).filter((tool) => isToolExposed(server, tool.name)).map((tool) => tool.name),
      })),
      this.options,
    );
    if (naming.assignment.changed) this.names.save(naming.assignment.names);
    logCollisionsOnce(naming.collisions);

    const byServer = new Map(this.servers.map((server) => [server.name, server]));
    const routes = new Map<string, Route>();
    const descriptors: ToolDescriptor[] = [];
    for (const named of naming.tools) {
      const server = byServer.get(named.server);
      const known = this.#known.get(named.server);
      const tool = known?.tools.find((candidate) => candidate.name === named.tool);
      if (!server || !known || !visible.get(named.server) || !tool) continue;
      routes.set(named.name, { server, tool, version: known.version });
      descriptors.push({ name: named.name, description: describeNamed(tool.name, tool.description, this.options), input_schema: tool.inputSchema, source: "external" });
    }
    this.#routes = routes;
    this.#named = { key, descriptors };
    return descriptors;
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    const called = await this.callRaw(name, args);
    return called.ok ? ok(toToolResult(called.value)) : called;
  }

  /** The upstream's own `CallToolResult` (for MCP consumers, which take results as tools give them). */
  async callRaw(name: string, args: ToolArgs): Promise<Result<RawCallResult>> {
    let route = this.#routes.get(name);
    if (!route) {
      await this.list();
      route = this.#routes.get(name);
    }
    if (!route) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    const checked = this.#check(route)(args);
    if (!checked.ok) return checked;

    const { server, tool } = route;
    const known = this.#known.get(server.name);
    if (server.transport === "sse" || !known?.route) return this.#callThroughObject(server, tool, args);
    const called = await callDirectly(server, tool, args, { route: known.route, health: known.health }, {
      upstream: () => this.directory(server),
      ref: { server: server.name, digest: await this.#digest(server), definition: server },
      now: this.now,
      limits: this.options.answerLimits,
    });
    // What the call learnt is kept for the next ones (the copy is replaced, never changed in place).
    if (called.route || called.health) {
      const current = this.#known.get(server.name);
      if (current) this.#known.set(server.name, { ...current, ...(called.route && { route: called.route }), ...(called.health && { health: called.health }) });
    }
    return called.result;
  }

  /** HTTP+SSE upstreams (their replies arrive on the object's event stream), and servers with no route yet. */
  async #callThroughObject(server: ExternalServer, tool: UpstreamTool, args: ToolArgs): Promise<Result<RawCallResult>> {
    const budget = server.timeout_ms + CALL_SLACK_MS;
    try {
      const upstream = await this.directory(server);
      const request = { server: server.name, digest: await this.#digest(server), definition: server, tool: tool.name, arguments: args };
      return await raceDeadline(upstream.call(request), budget, () => fail<never>("timeout", `MCP server '${server.name}' did not answer within ${budget} ms`));
    } catch (error) {
      // An infrastructure failure of the object (reset, overload) throws across RPC: make it a Result.
      return fail("upstream_error", `MCP server '${server.name}': ${messageOf(error)}`);
    }
  }

  #visible(server: ExternalServer, now: number): boolean {
    const known = this.#known.get(server.name);
    return known !== undefined && toolsVisible(known.health, now, server.unhealthy_grace_seconds);
  }

  async #refresh(server: ExternalServer): Promise<void> {
    const previous = this.#known.get(server.name);
    if (previous && isFresh(previous.checked_at, this.now(), previous.ttl_ms, server)) return;
    let reply: Result<CatalogueReply>;
    try {
      const upstream = await this.directory(server);
      reply = await raceDeadline(
        upstream.catalogue({ server: server.name, digest: await this.#digest(server), definition: server, known_version: previous?.version }),
        server.connect_timeout_ms + RPC_SLACK_MS,
        () => fail<never>("timeout", `catalogue of '${server.name}' not ready within ${server.connect_timeout_ms} ms`),
      );
    } catch (error) {
      reply = fail("internal", `catalogue of '${server.name}' failed: ${messageOf(error)}`);
    }
    if (!reply.ok) {
      // Keep serving what we knew; the upstream object retries on its own.
      log("warn", "external.catalogue_unavailable", { server: server.name, code: reply.error.code, message: reply.error.message });
      return;
    }
    const { value } = reply;
    const tools = value.tools ?? (previous?.version === value.version ? previous.tools : []);
    // An object that lost its connection (and with it the route) still has callers with a working route.
    const route = value.route ?? previous?.route;
    this.#known.set(server.name, {
      version: value.version,
      tools,
      // Visibility is judged from the health at listing time (the object judges it the same way).
      health: value.health,
      ...(route && { route }),
      ...(value.ttl_ms !== undefined && { ttl_ms: value.ttl_ms }),
      checked_at: this.now(),
    });
  }

  #check(route: Route): ArgumentCheck {
    const key = `${route.server.name}\u0000${route.tool.name}\u0000${route.version}`;
    let check = this.#checks.get(key);
    if (!check) {
      if (this.#checks.size > 1024) this.#checks.clear();
      check = compileArgumentCheck(route.tool.name, route.tool.inputSchema);
      this.#checks.set(key, check);
    }
    return check;
  }

  async #digest(server: ExternalServer): Promise<string> {
    let digest = this.#digests.get(server.name);
    if (digest === undefined) {
      digest = await connectionDigest(server);
      this.#digests.set(server.name, digest);
    }
    return digest;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Collision sets already logged in this isolate (plain data): "logged once", not once per request. */
const loggedCollisions = new Set<string>();

function logCollisionsOnce(collisions: ReturnType<typeof nameExternalTools>["collisions"]): void {
  for (const collision of collisions) {
    const key = `${collision.name}=${collision.claimants.map((c) => `${c.server}/${c.tool}`).join(",")}`;
    if (loggedCollisions.has(key)) continue;
    if (loggedCollisions.size > 1024) loggedCollisions.clear();
    loggedCollisions.add(key);
    log("warn", "external.name_collision", {
      name: collision.name,
      claimants: collision.claimants.map((c) => `${c.server}/${c.tool}`).join(", "),
      rule: "each claimant is named mcp_<prefix>_<tool>",
    });
  }
}
