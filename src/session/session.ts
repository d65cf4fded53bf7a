/**
 * One session, as its object runs it (durable-objects/session-object.ts): the bound context, the device
 * behind the gateway's relay, the catalogue of every source (sources/registry.ts), the session's MCP endpoint,
 * the agent it follows, and one alarm for two deadlines (the device handshake's, the idle expiry). Knows its
 * host's ports, not Durable Objects; every method answers a Result or a Response, never throws.
 */
import type { ServiceConfig } from "../core/config";
import { withDeadline } from "../core/deadline";
import { appError, fail, ok, type AppError, type Result } from "../core/errors";
import type { ObjectHost } from "../core/host";
import type { ObjectRequest } from "../core/object-request";
import type { BindSessionInput, ExecuteToolInput, FramesInput, FramesOutcome, SessionView, ToolList } from "../core/schemas";
import { varsOf } from "../core/env-config";
import { storedValue } from "../core/stored-value";
import { McpEndpoint, type McpEndpointOptions } from "../mcp/mcp-endpoint";
import { log } from "../observability/log";
import { recordSessionEvent } from "../observability/metrics";
import { loggedResult } from "../observability/tool-call-log";
import { DeviceRelay, type Vision } from "../sources/device/device-relay";
import { agentRpc } from "../sources/dial-in/agent-source";
import { followExternalChanges } from "../sources/external";
import { AgentConfigs } from "../tenants/agent-configs";
import { rateLimitsOf, type AgentRateLimits } from "../tenants/rate-limits";
import { sessionSources } from "../sources/registry";
import type { ToolArgs } from "../tools/tool-source";
import { VERSION } from "../version";
import { SessionRecord } from "./session-record";
import { SessionService, type ToolExecution } from "./session-service";

const RECORD_KEY = "session";
/** Changes are pushed by the agent's object; this only bounds how long a lost push could go unnoticed. */
const AGENT_CONFIG_TTL_MS = 30_000;
const AGENT_RPC_TIMEOUT_MS = 2_000;

/**
 * An object holding notification streams of the shared `/mcp` endpoint of an agent ("" = none): `shard` of
 * `mcp.stream_shards`. Never a valid session id, so no gateway can bind it by accident.
 */
export function sharedSessionName(agentId: string, shard: number): string {
  return `${agentId === "" ? "@shared" : `@agent:${agentId}`}#${shard}`;
}

interface Parts {
  service: SessionService;
  device: DeviceRelay;
  /** Built when the first MCP client opens a notification stream: most sessions never have one. */
  mcp: McpEndpoint | undefined;
}

/** What a relay or MCP request is answered with: a Response, or why there is none. */
export type Handled = { ok: true; response: Response } | { ok: false; error: AppError };

export class Session {
  readonly #record;
  #parts: Parts;
  /** When the alarm is set for, as this instance last armed or read it; unknown after a fire or eviction. */
  #armedAt: number | undefined;

  /** The configurations of the agent this session follows, told of every change (configChanged). */
  readonly #agents: AgentConfigs;
  readonly #limits: AgentRateLimits | undefined;

  constructor(
    private readonly host: ObjectHost,
    private readonly env: Env,
    private readonly config: ServiceConfig,
  ) {
    this.#record = storedValue(host.kv, RECORD_KEY, SessionRecord);
    const agents = env.AGENTS as unknown as DurableObjectNamespace;
    this.#agents = new AgentConfigs(config, varsOf(env), (agentId) => agentRpc(agents, agentId).config(), AGENT_CONFIG_TTL_MS);
    this.#limits = rateLimitsOf(env, config);
    this.#parts = this.#assemble();
    this.#parts.device.reconcile();
  }

  #assemble(): Parts {
    const { host, env, config } = this;
    const device = new DeviceRelay({
      host,
      config,
      sessionId: () => this.#sessionId(),
      onToolsChanged: () => this.toolsChanged(),
      onRelayEvent: (kind) => recordSessionEvent(host, env, this.#sessionId(), kind),
    });
    const sources = sessionSources({ env, host, device });
    const agents = this.#agents;
    const service = new SessionService({
      store: this.#record,
      idleTtlMs: config.sessions.idle_ttl_seconds * 1000,
      now: Date.now,
      // An agent's own config (merged over the service's) decides its sessions' sources and name filter.
      providers: async (record) => {
        const effective = await agents.effective(record.agent_id);
        return { sources: sources(record, effective), filter: effective.tools };
      },
      relayStatus: () => device.client.status(),
    });
    return { service, device, mcp: undefined };
  }

  /** @param scope the agent a caller is confined to (an agent token): it binds for that agent only. */
  async bind(input: BindSessionInput, scope?: string): Promise<Result<SessionView>> {
    const { service, device } = this.#parts;
    const previous = service.record();
    if (scope !== undefined && (input.agent_id !== scope || (previous.ok && previous.value.agent_id !== scope))) {
      return fail("forbidden", input.agent_id !== scope ? "An agent token binds sessions of its own agent only" : "This session is bound to another agent");
    }
    // Another device on the same session id must never reach its predecessor's tools.
    if (previous.ok && previous.value.device_id !== input.device_id) device.forget();
    const view = await service.bind(input);
    recordSessionEvent(this.host, this.env, input.session_id, "bound");
    await this.#follow(previous.ok ? previous.value.agent_id : "", input.agent_id, input.session_id);
    const bound = service.record();
    // The device learns a new vision endpoint only through initialize: sent again when (and only when) it changed.
    if (bound.ok && (!previous.ok || previous.value.vision_url !== bound.value.vision_url || previous.value.token !== bound.value.token)) {
      device.rebound(visionOf(bound.value));
    }
    await this.#rearm();
    return previous.ok || !view.ok ? view : service.view();
  }

  async view(scope?: string): Promise<Result<SessionView>> {
    const record = this.#inScope(scope);
    return record.ok ? this.#parts.service.view() : record;
  }

  async tools(scope?: string): Promise<Result<ToolList>> {
    const record = this.#inScope(scope);
    return record.ok ? this.#parts.service.tools() : record;
  }

  async execute(input: ExecuteToolInput, requestId = "", scope?: string): Promise<ToolExecution> {
    const record = this.#inScope(scope);
    if (!record.ok) return record;
    // Counted here, where every caller's call of this session passes (REST, tRPC, its MCP endpoint).
    const allowed = (await this.#limits?.call(record.value.agent_id)) ?? ok(undefined);
    return allowed.ok ? this.#parts.service.execute(input, requestId) : allowed;
  }

  async unbind(sessionId: string, scope?: string): Promise<Result<{ session_id: string; deleted: true }>> {
    const record = this.#inScope(scope);
    if (!record.ok) return record;
    await this.#destroy("unbound");
    return ok({ session_id: sessionId, deleted: true });
  }

  /** Device frames relayed over HTTP: each is handled exactly as if it came over the relay WebSocket. */
  async frames(input: FramesInput, scope?: string): Promise<Result<FramesOutcome>> {
    const record = this.#inScope(scope);
    if (!record.ok) return record;
    let accepted = 0;
    for (const frame of input.frames) if (this.#parts.device.intake(typeof frame === "string" ? frame : JSON.stringify(frame))) accepted += 1;
    await this.#rearm();
    return ok({ success: true, result: { accepted, dropped: input.frames.length - accepted } });
  }

  oversizedFrame(limitBytes: number): void {
    this.#parts.device.oversized(limitBytes);
  }

  /** The agent's own configuration changed: ask for it again, and have MCP clients list again. */
  configChanged(): void {
    const record = this.#parts.service.record();
    if (record.ok) {
      this.#agents.forget(record.value.agent_id);
      // A shared endpoint's object follows the servers of the agent's new config too.
      if (isShared(record.value.session_id)) this.host.waitUntil(this.#followServers(record.value.agent_id, record.value.session_id));
    }
    this.toolsChanged();
  }

  /** The catalogue changed (device handshake, relay gone, an agent's providers): MCP clients list again. */
  toolsChanged(): void {
    this.#parts.service.catalogueChanged();
    this.#parts.mcp?.toolsChanged();
  }

  /**
   * A relay attaching (WebSocket or SSE), or a notification stream of the session's (or a shared) MCP endpoint;
   * the Worker serves the MCP exchanges themselves.
   */
  async handle(request: Request, call: ObjectRequest): Promise<Handled> {
    if (call.kind === "mcp" && call.shared) await this.#bindShared(call.shared.agent_id, call.shared.name);
    const record = this.#inScope("agent_scope" in call ? call.agent_scope : undefined);
    if (!record.ok) return record;
    const { device, service } = this.#parts;
    if (call.kind === "mcp") {
      const mcp = (this.#parts.mcp ??= new McpEndpoint(mcpEndpointOptions(this.config)));
      const core = { tools: () => service.tools(), execute: async (tool_name: string, args: ToolArgs) => loggedResult(await service.execute({ session_id: record.value.session_id, tool_name, arguments: args })) };
      return { ok: true, response: await mcp.serve(request, core) };
    }
    if (call.kind === "relay-events") {
      const stream = device.openStream(parseEventId(request.headers.get("last-event-id")), visionOf(record.value));
      await this.#rearm();
      return { ok: true, response: new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } }) };
    }
    if (call.kind !== "relay") return { ok: false, error: appError("route_not_found", "Not a session endpoint") };
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return { ok: false, error: appError("invalid_request", "Expected a WebSocket upgrade (Upgrade: websocket)") };
    }
    const { 0: client, 1: server } = new WebSocketPair();
    device.attachSocket(server, visionOf(record.value));
    await this.#rearm();
    return { ok: true, response: new Response(null, { status: 101, webSocket: client }) };
  }

  async socketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.#parts.device.socketMessage(ws, message)) await this.#rearm();
  }

  socketClosed(ws: WebSocket, reason: string): void {
    this.#parts.device.socketClosed(ws, reason);
  }

  /** One alarm serves two deadlines: the device handshake's, and the session's idle expiry. */
  async alarm(): Promise<void> {
    this.#armedAt = undefined;
    const { service, device } = this.#parts;
    const record = service.record();
    if (!record.ok) return;
    device.client.expireHandshake();
    const idle = Date.now() >= service.expiresAtMs(record.value);
    // A shared endpoint's object has no other sign of use than the clients listening on it.
    const listened = isShared(record.value.session_id) && (this.#parts.mcp?.streams ?? 0) > 0;
    if (idle && !device.client.state().attached && !listened) {
      log("info", "session.expired", { session_id: record.value.session_id });
      await this.#destroy("expired");
      return;
    }
    // An attached relay keeps the session alive: its conversation is still going (and a shared one, its listeners).
    if (idle) service.touch();
    await this.#rearm();
  }

  async #rearm(): Promise<void> {
    const { service, device } = this.#parts;
    const record = service.record();
    if (!record.ok) return;
    const deadlines = [service.expiresAtMs(record.value), device.client.handshakeDeadline()].filter((t): t is number => t !== undefined);
    const next = Math.min(...deadlines);
    // Activity only moves the idle deadline later, and alarm() re-checks every deadline and re-arms, so an
    // alarm still due before `next` is kept: no alarm write on every call and every device frame. The time
    // this instance armed spares even the read (alarm() forgets it: a fired alarm is gone).
    const keeps = (armed: number | null | undefined): armed is number => armed != null && armed > Date.now() && armed <= next;
    if (keeps(this.#armedAt)) return;
    const current = await this.host.alarm.get();
    if (keeps(current)) {
      this.#armedAt = current;
      return;
    }
    await this.host.alarm.set(next);
    this.#armedAt = next;
  }

  /**
   * A shared endpoint's object is a session without a device, bound on first use and kept alive by its
   * listeners. It follows the agent (providers, config) through the bind, and every external server it lists,
   * so its listeners hear of every change to the shared catalogue.
   */
  async #bindShared(agentId: string, name: string): Promise<void> {
    if (this.#parts.service.record().ok) return;
    await this.bind({ session_id: name, device_id: "mcp-shared", client_id: "", enabled_tools: [], agent_id: agentId });
    this.host.waitUntil(this.#followServers(agentId, name));
  }

  async #followServers(agentId: string, name: string): Promise<void> {
    await followExternalChanges(await this.#agents.effective(agentId), this.env, name);
  }

  /** Keeps the agent's subscriber list right, so its provider changes reach this session's MCP clients. */
  async #follow(previousAgent: string, agent: string, sessionId: string): Promise<void> {
    if (previousAgent === agent) return;
    const agents = this.env.AGENTS as unknown as DurableObjectNamespace;
    if (previousAgent !== "") await withDeadline(agentRpc(agents, previousAgent).unsubscribe(sessionId), AGENT_RPC_TIMEOUT_MS, "agent");
    if (agent !== "") await withDeadline(agentRpc(agents, agent).subscribe(sessionId), AGENT_RPC_TIMEOUT_MS, "agent");
  }

  /** Ends the session: relays and MCP sessions closed, storage wiped, the object as new. */
  async #destroy(reason: string): Promise<void> {
    recordSessionEvent(this.host, this.env, this.#sessionId(), "ended");
    const record = this.#parts.service.record();
    if (record.ok) await this.#follow(record.value.agent_id, "", record.value.session_id);
    this.#parts.device.close(reason);
    await this.#parts.mcp?.close();
    await this.host.deleteAll();
    this.#armedAt = undefined;
    this.#record.forget();
    // Every part kept copies of what storage held: start again from the empty storage.
    this.#parts = this.#assemble();
  }

  /**
   * The bound session, if the caller may reach it: a caller confined to an agent never learns of another
   * agent's sessions (they answer as unbound ones do).
   */
  #inScope(scope: string | undefined): Result<SessionRecord> {
    const record = this.#parts.service.record();
    if (!record.ok || scope === undefined || record.value.agent_id === scope) return record;
    return fail("session_not_found", "Session is not bound");
  }

  #sessionId(): string {
    return this.#record.load()?.session_id ?? "";
  }
}

function isShared(sessionId: string): boolean {
  return sessionId.startsWith("@");
}

/** The MCP endpoint's options from the configuration: one place, for the Worker's and the objects' endpoints. */
export function mcpEndpointOptions(config: ServiceConfig): McpEndpointOptions {
  return {
    serverInfo: { name: "xiaozhi-mcp-service", version: VERSION },
    toolsTtlMs: config.mcp.tools_ttl_ms,
    keepAliveMs: config.mcp.keep_alive_ms,
    maxStreams: config.mcp.max_streams,
  };
}

function visionOf(record: SessionRecord): Vision {
  return { url: record.vision_url, token: record.token };
}

function parseEventId(header: string | null): number | undefined {
  const id = Number(header);
  return header !== null && Number.isInteger(id) && id >= 0 ? id : undefined;
}
