/**
 * The external tools of one session's catalogue: asks each server's upstream object for its (cached) tool
 * list concurrently, names them (see naming.ts), validates arguments against the upstream's schema, routes
 * calls with the original tool name, and maps results to the action contract.
 *
 * No I/O objects are kept here: only the last catalogues (plain data) and compiled argument checks.
 */
import { raceDeadline } from "../../core/deadline";
import { fail, ok, type Result } from "../../core/errors";
import type { ToolDescriptor, ToolResult } from "../../core/schemas";
import { log } from "../../observability/log";
import type { ToolArgs, Source } from "../../tools/tool-source";
import { compileArgumentCheck, type ArgumentCheck } from "./argument-validation";
import type { NamingOptions, StoredNames } from "../../tools/naming";
import { nameExternalTools } from "./naming";
import { toToolResult, type RawCallResult } from "./result-mapping";
import { connectionDigest, isToolExposed, type ExternalServer } from "./server-config";
import type { UpstreamTool } from "./upstream-client";
import type { CatalogueReply, UpstreamRpc } from "./upstream-rpc";

/** Finds the upstream object of a server (by its configuration). */
export type UpstreamDirectory = (server: ExternalServer) => Promise<UpstreamRpc>;

/** Where the names given so far are kept (the session's storage): a tool keeps its name while it exists. */
export interface NameStore {
  load(): StoredNames | undefined;
  save(names: StoredNames): void;
}

interface KnownCatalogue {
  version: number;
  tools: UpstreamTool[];
  visible: boolean;
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
 * The upstream object ends every call within the server's `timeout_ms`; this much more is allowed for the
 * hop to it before the session gives up on the object itself.
 */
const CALL_SLACK_MS = 500;

/**
 * A copy confirmed this recently is used without asking the upstream object again. Every execute lists
 * the catalogue first (to resolve the name), so this spares one RPC per call in a burst; changes (a new
 * list, a server turning unhealthy) show up at most this much later.
 */
export const REVALIDATE_MS = 1_000;

export class ExternalTools implements Source {
  readonly kind = "external" as const;
  readonly #known = new Map<string, KnownCatalogue>();
  #routes = new Map<string, Route>();
  /** The descriptors of the last naming, and the catalogue versions they were computed from. */
  #named: { key: string; descriptors: ToolDescriptor[] } | undefined;
  readonly #checks = new Map<string, ArgumentCheck>();
  readonly #digests = new Map<string, string>();

  constructor(
    private readonly servers: readonly ExternalServer[],
    private readonly directory: UpstreamDirectory,
    private readonly names: NameStore,
    private readonly naming: NamingOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<ToolDescriptor[]> {
    if (this.servers.length === 0) return [];
    // Concurrently, each with its own deadline: one slow server never holds up the others for longer
    // than its own connect_timeout_ms, and only on its very first discovery.
    await Promise.all(this.servers.map((server) => this.#refresh(server)));
    const key = this.servers.map((server) => `${this.#known.get(server.name)?.version ?? 0}:${this.#known.get(server.name)?.visible}`).join(",");
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
      this.naming,
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
      if (!server || !known?.visible || !tool) continue;
      routes.set(named.name, { server, tool, version: known.version });
      descriptors.push({ name: named.name, description: tool.description, input_schema: tool.inputSchema, source: "external" });
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
    const upstream = await this.directory(server);
    const budget = server.timeout_ms + CALL_SLACK_MS;
    const request = { server: server.name, digest: await this.#digest(server), tool: tool.name, arguments: args };
    const called = await raceDeadline(
      // An infrastructure failure of the object (reset, overload) throws across RPC: make it a Result.
      upstream.call(request).catch((error: unknown) => fail<never>("upstream_error", `MCP server '${server.name}': ${messageOf(error)}`)),
      budget,
      () => fail<never>("timeout", `MCP server '${server.name}' did not answer within ${budget} ms`),
    );
    return called;
  }

  async #refresh(server: ExternalServer): Promise<void> {
    const previous = this.#known.get(server.name);
    if (previous && this.now() - previous.checked_at < REVALIDATE_MS) return;
    let reply: Result<CatalogueReply>;
    try {
      const upstream = await this.directory(server);
      reply = await raceDeadline(
        upstream.catalogue({ server: server.name, digest: await this.#digest(server), known_version: previous?.version }),
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
    const tools = reply.value.tools ?? (previous?.version === reply.value.version ? previous.tools : []);
    this.#known.set(server.name, { version: reply.value.version, tools, visible: reply.value.visible, checked_at: this.now() });
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
