/**
 * One Durable Object per session, named by `session_id`. It persists the bound context, is the MCP client of
 * the session's device (through the relay the gateway attaches), owns the session's tool catalogue and
 * expires the session after `sessions.idle_ttl_seconds` without activity.
 *
 * Every public RPC method returns a {@link Result}: errors lose their fields across Durable Object RPC.
 */
import { DurableObject } from "cloudflare:workers";
import type { ServiceConfig } from "../src/core/config";
import { appError, fail, ok, type AppError, type Result } from "../src/core/errors";
import type {
  BindSessionInput,
  ExecuteToolInput,
  FramesInput,
  FramesOutcome,
  SessionRef,
  SessionView,
  ToolList,
} from "../src/core/schemas";
import { agentRpc, agentTools } from "../src/sources/dial-in/agent-source";
import { withDeadline } from "../src/core/deadline";
import { closeQuietly } from "../src/core/websocket";
import { configFromEnv } from "../src/core/env-config";
import { errorResponse } from "../src/http/error-response";
import { McpEndpoint } from "../src/mcp/mcp-endpoint";
import { log } from "../src/observability/log";
import { recordSessionEvent, recordToolCall } from "../src/observability/metrics";
import { loggedResult } from "../src/observability/tool-call-log";
import { deviceInitializeParams, envelope, Envelope } from "../src/sources/device/device-protocol";
import { DeviceTools } from "../src/sources/device/device-tools";
import { StoredNames } from "../src/tools/naming";
import { FrameFaultLog, readFrame } from "../src/tools/peer/frame-intake";
import { PeerClient } from "../src/tools/peer/peer-client";
import { PeerState } from "../src/tools/peer/peer-state";
import { externalTools } from "../src/sources/external";
import { LocalTools } from "../src/sources/local/local-tools";
import type { ToolProvider } from "../src/tools/tool-source";
import { RelayChannel, relayTag } from "../src/sources/device/relay-channel";
import { SessionRecord } from "../src/session/session-record";
import { storedValue, type StoredValue } from "../src/core/stored-value";
import { SessionService, type ToolCallEvent, type ToolExecution } from "../src/session/session-service";
import { VERSION } from "../src/version";

const RECORD_KEY = "session";
const DEVICE_KEY = "device";
const DEVICE_NAMES_KEY = "device-names";
const EXTERNAL_NAMES_KEY = "external-names";

/** The RPC surface of a session object, as the Worker calls it. */
export interface SessionRpc {
  bind(input: BindSessionInput): Promise<Result<SessionView>>;
  view(ref: SessionRef): Promise<Result<SessionView>>;
  tools(ref: SessionRef): Promise<Result<ToolList>>;
  /** The caller writes the `tool.call` log line of the returned `call` (observability/tool-call-log.ts). */
  execute(input: ExecuteToolInput, requestId?: string): Promise<ToolExecution>;
  unbind(ref: SessionRef): Promise<Result<{ session_id: string; deleted: true }>>;
  frames(input: FramesInput): Promise<Result<FramesOutcome>>;
  fetch(request: Request): Promise<Response>;
  toolsChanged(): Promise<void>;
  /** A device reply relayed over HTTP was over the body limit: fail the call it answers. */
  oversizedFrame(limitBytes: number): Promise<void>;
}

interface Ready {
  config: ServiceConfig;
  service: SessionService;
  device: PeerClient;
  deviceTools: DeviceTools;
  mcp: McpEndpoint;
  faults: FrameFaultLog;
}

/**
 * The object behind `/mcp` (no session), one per agent: never a valid session id, so no gateway can bind it
 * by accident.
 */
export function sharedSessionName(agentId: string): string {
  return agentId === "" ? "@shared" : `@agent:${agentId}`;
}

const AGENT_RPC_TIMEOUT_MS = 2_000;

export class SessionObject extends DurableObject<Env> implements SessionRpc {
  readonly #ready: Result<Ready>;
  readonly #relay: RelayChannel;
  readonly #record: StoredValue<SessionRecord>;
  readonly #deviceState: StoredValue<PeerState>;
  readonly #deviceNames: StoredValue<StoredNames>;
  readonly #externalNames: StoredValue<StoredNames>;
  /** When the alarm is set for, as this instance last armed or read it; unknown after a fire or eviction. */
  #armedAt: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#record = storedValue(ctx.storage.kv, RECORD_KEY, SessionRecord);
    this.#deviceState = storedValue(ctx.storage.kv, DEVICE_KEY, PeerState);
    this.#deviceNames = storedValue(ctx.storage.kv, DEVICE_NAMES_KEY, StoredNames);
    this.#externalNames = storedValue(ctx.storage.kv, EXTERNAL_NAMES_KEY, StoredNames);
    this.#relay = new RelayChannel(ctx, (generation) => this.#relayGone(generation, "SSE relay stream closed"));
    const config = configFromEnv(env);
    this.#ready = config.ok ? ok(this.#assemble(config.value)) : config;
    this.#reconcile();
  }

  /**
   * Storage says what the object had before it slept or the runtime restarted; only `getWebSockets()` says
   * which sockets are still alive. A relay that did not survive is detached now, before anything is served,
   * so its tools are neither shown nor offered. An SSE relay never outlives the instance that streams it.
   */
  #reconcile(): void {
    if (!this.#ready.ok) return;
    const { device } = this.#ready.value;
    if (!device.state().attached) return;
    const relay = this.#relay.current();
    const alive = relay?.channel === "websocket" && this.ctx.getWebSockets(relayTag(relay.generation)).length > 0;
    if (alive) return;
    device.detach("The device relay did not survive a restart");
    log("info", "relay.reconciled", { session_id: this.#sessionId(), channel: relay?.channel ?? "none" });
  }

  #assemble(config: ServiceConfig): Ready {
    const naming = { keepCjk: config.naming.keep_cjk };
    const logFields = (fields: Record<string, unknown> | undefined) => ({ session_id: this.#sessionId(), ...fields });
    const device = new PeerClient({
      load: this.#deviceState.load,
      save: this.#deviceState.save,
      send: (message) => this.#relay.send(envelope(this.#sessionId(), message)),
      now: Date.now,
      callTimeoutMs: config.device.call_timeout_ms,
      listTimeoutMs: config.device.list_timeout_ms,
      log: (level, event, fields) => log(level, event, logFields(fields) as never),
      onToolsChanged: () => this.#toolsChanged(),
      // The firmware ignores notifications, and today's servers never send `notifications/initialized`.
      sendInitialized: false,
      unavailableMessage: "No device relay is attached to this session",
    });
    const deviceTools = new DeviceTools(device, this.#deviceNames, naming);
    const local = new LocalTools({ config: config.local_tools, timezone: config.timezone });
    const external = externalTools(config, this.env, this.#externalNames);
    const agents = this.env.AGENTS as unknown as DurableObjectNamespace;
    const service = new SessionService({
      store: this.#record,
      idleTtlMs: config.sessions.idle_ttl_seconds * 1000,
      now: Date.now,
      providers: (record): ToolProvider[] =>
        record.agent_id === ""
          ? [deviceTools, local, external]
          : [deviceTools, local, external, agentTools(agents, record.agent_id, config.providers.call_timeout_ms)],
      relayStatus: () => device.status(),
      onToolCall: (event) => this.#observe(event),
    });
    const mcp = new McpEndpoint(
      {
        tools: () => service.tools(),
        execute: async (tool_name, args) => loggedResult(await service.execute({ session_id: this.#sessionId(), tool_name, arguments: args })),
      },
      { name: "xiaozhi-mcp-service", version: VERSION },
    );
    const faults = new FrameFaultLog((level, event, fields) => log(level, event, logFields(fields) as never));
    return { config, service, device, deviceTools, mcp, faults };
  }

  async bind(input: BindSessionInput): Promise<Result<SessionView>> {
    if (!this.#ready.ok) return this.#ready;
    const { service, device, deviceTools } = this.#ready.value;
    const previous = service.record();
    // Another device on the same session id must never reach its predecessor's tools.
    if (previous.ok && previous.value.device_id !== input.device_id) deviceTools.forget();
    const view = await service.bind(input);
    recordSessionEvent(this.ctx, this.env, input.session_id, "bound");
    await this.#follow(previous.ok ? previous.value.agent_id : "", input.agent_id, input.session_id);
    const bound = service.record();
    // The device learns a new vision endpoint only through initialize: send it again when (and only when) it changed.
    const visionChanged = bound.ok && (!previous.ok || previous.value.vision_url !== bound.value.vision_url || previous.value.token !== bound.value.token);
    if (bound.ok && visionChanged && device.state().attached) {
      device.rehandshake(deviceInitializeParams({ url: bound.value.vision_url, token: bound.value.token }));
    }
    await this.#rearm();
    return previous.ok || !view.ok ? view : service.view();
  }

  async view(_ref: SessionRef): Promise<Result<SessionView>> {
    return this.#ready.ok ? this.#ready.value.service.view() : this.#ready;
  }

  async tools(_ref: SessionRef): Promise<Result<ToolList>> {
    return this.#ready.ok ? this.#ready.value.service.tools() : this.#ready;
  }

  async execute(input: ExecuteToolInput, requestId = ""): Promise<ToolExecution> {
    return this.#ready.ok ? this.#ready.value.service.execute(input, requestId) : this.#ready;
  }

  async oversizedFrame(limitBytes: number): Promise<void> {
    if (!this.#ready.ok) return;
    const { device, faults } = this.#ready.value;
    faults.record("oversized");
    device.rejectReply(undefined, appError("upstream_error", `The device's reply exceeds the relay's body limit (${limitBytes} bytes)`));
  }

  /** Nudge from the agent object: its providers' tools changed, so MCP clients should list again. */
  async toolsChanged(): Promise<void> {
    this.#toolsChanged();
  }

  async unbind(ref: SessionRef): Promise<Result<{ session_id: string; deleted: true }>> {
    if (!this.#ready.ok) return this.#ready;
    const record = this.#ready.value.service.record();
    if (!record.ok) return record;
    await this.#destroy("unbound");
    return ok({ session_id: ref.session_id, deleted: true });
  }

  /** Device frames relayed over HTTP: each is handled exactly as if it came over the relay WebSocket. */
  async frames(input: FramesInput): Promise<Result<FramesOutcome>> {
    if (!this.#ready.ok) return this.#ready;
    const record = this.#ready.value.service.record();
    if (!record.ok) return record;
    let accepted = 0;
    for (const frame of input.frames) if (this.#intake(typeof frame === "string" ? frame : JSON.stringify(frame))) accepted += 1;
    await this.#rearm();
    return ok({ success: true, result: { accepted, dropped: input.frames.length - accepted } });
  }

  /**
   * Streams and upgrades: `…/device` (relay WebSocket), `…/device/events` (relay SSE) and `…/mcp` (the
   * session's MCP endpoint, or the shared one at `/mcp`).
   */
  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (!this.#ready.ok) return refuse(request, this.#ready.error, path);
    if (path === "/mcp") await this.#bindShared(request.headers.get("x-shared-agent") ?? "");
    const record = this.#ready.value.service.record();
    if (!record.ok) return refuse(request, record.error, path);
    const initialize = deviceInitializeParams({ url: record.value.vision_url, token: record.value.token });
    const device = this.#ready.value.device;
    const generation = device.state().generation + 1;

    if (path.endsWith("/mcp")) return this.#ready.value.mcp.handle(request);

    if (path.endsWith("/device/events")) {
      const lastEventId = parseEventId(request.headers.get("last-event-id"));
      const current = this.#relay.current();
      const resuming = lastEventId !== undefined && current?.channel === "sse" && device.state().attached;
      const stream = this.#relay.openStream(resuming && current ? current.generation : generation, lastEventId);
      if (!resuming) device.attach(initialize);
      recordSessionEvent(this.ctx, this.env, record.value.session_id, "relay_attached");
      await this.#rearm();
      return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
    }

    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(appError("invalid_request", "Expected a WebSocket upgrade (Upgrade: websocket)"), path);
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.#relay.acceptSocket(server, generation);
    device.attach(initialize);
    await this.#rearm();
    log("info", "relay.attached", { session_id: record.value.session_id, channel: "websocket", generation });
    recordSessionEvent(this.ctx, this.env, record.value.session_id, "relay_attached");
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (!this.#relay.isCurrentSocket(ws)) return; // a replaced relay's late frames
    if (this.#intake(typeof message === "string" ? message : new TextDecoder().decode(message))) await this.#rearm();
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake the gateway started, or it waits for our close frame.
    closeQuietly(ws, 1000, "closed");
    if (!this.#relay.isCurrentSocket(ws)) return;
    this.#relayGone(this.#relay.current()?.generation ?? 0, `Device relay disconnected (${code}${reason ? ` ${reason}` : ""})`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    if (!this.#relay.isCurrentSocket(ws)) return;
    this.#relayGone(this.#relay.current()?.generation ?? 0, `Device relay failed: ${String(error)}`);
  }

  /** One alarm serves two deadlines: the device handshake's, and the session's idle expiry. */
  override async alarm(): Promise<void> {
    this.#armedAt = undefined;
    if (!this.#ready.ok) return;
    const { service, device } = this.#ready.value;
    const record = service.record();
    if (!record.ok) return;
    device.expireHandshake();
    const idle = Date.now() >= service.expiresAtMs(record.value);
    if (idle && !device.state().attached) {
      log("info", "session.expired", { session_id: record.value.session_id });
      await this.#destroy("expired");
      return;
    }
    // An attached relay keeps the session alive: its conversation is still going.
    if (idle) service.touch();
    await this.#rearm();
  }

  /**
   * Size-, depth- and shape-checks one frame and hands it to the device client. Bad frames cost constant
   * work (no storage write, one aggregated warning per window); an oversized reply fails its call at once.
   */
  #intake(frame: string): boolean {
    if (!this.#ready.ok) return false;
    const { config, device, faults } = this.#ready.value;
    const read = readFrame(frame, { maxBytes: config.limits.max_frame_bytes, maxDepth: config.limits.max_json_depth });
    if (read.kind === "oversized") {
      faults.record("oversized");
      device.count("dropped_frames");
      const message = `The device's reply (${read.bytes} bytes) exceeds limits.max_frame_bytes (${config.limits.max_frame_bytes})`;
      device.rejectReply(read.id, appError("upstream_error", message));
      return false;
    }
    const frameEnvelope = read.kind === "json" ? Envelope.safeParse(read.value) : undefined;
    if (!frameEnvelope?.success) {
      faults.record(read.kind === "json" ? "not_a_message" : read.kind);
      device.count("malformed_frames");
      return false;
    }
    device.receive(frameEnvelope.data.payload);
    return true;
  }

  #relayGone(generation: number, reason: string): void {
    if (!this.#ready.ok || this.#relay.current()?.generation !== generation) return;
    this.#ready.value.device.detach(reason);
    log("info", "relay.detached", { session_id: this.#sessionId(), reason });
    recordSessionEvent(this.ctx, this.env, this.#sessionId(), "relay_detached");
  }

  async #rearm(): Promise<void> {
    if (!this.#ready.ok) return;
    const { service, device } = this.#ready.value;
    const record = service.record();
    if (!record.ok) return;
    const deadlines = [service.expiresAtMs(record.value), device.handshakeDeadline()].filter((t): t is number => t !== undefined);
    const next = Math.min(...deadlines);
    // Activity only moves the idle deadline later, and alarm() re-checks every deadline and re-arms, so an
    // alarm still due before `next` is kept: no alarm write on every call and every device frame. The time
    // this instance armed spares even the read (alarm() forgets it: a fired alarm is gone).
    const keeps = (armed: number | null | undefined): armed is number => armed != null && armed > Date.now() && armed <= next;
    if (keeps(this.#armedAt)) return;
    const current = await this.ctx.storage.getAlarm();
    if (keeps(current)) {
      this.#armedAt = current;
      return;
    }
    await this.ctx.storage.setAlarm(next);
    this.#armedAt = next;
  }

  /** The metrics of every tool execution; its log line is the caller's (observability/tool-call-log.ts). */
  #observe(event: ToolCallEvent): void {
    recordToolCall(this.env, event, (promise) => this.ctx.waitUntil(promise));
  }

  #toolsChanged(): void {
    if (this.#ready.ok) void this.#ready.value.mcp.toolsChanged();
  }

  /** The shared endpoint is a session without a device, bound on first use and kept alive by use. */
  async #bindShared(agentId: string): Promise<void> {
    if (!this.#ready.ok || this.#ready.value.service.record().ok) return;
    const session_id = sharedSessionName(agentId);
    await this.bind({ session_id, device_id: "mcp-shared", client_id: "", enabled_tools: [], agent_id: agentId });
  }

  /** Keeps the agent's subscriber list right, so its provider changes reach this session's MCP clients. */
  async #follow(previousAgent: string, agent: string, sessionId: string): Promise<void> {
    if (previousAgent === agent) return;
    const agents = this.env.AGENTS as unknown as DurableObjectNamespace;
    if (previousAgent !== "") await withDeadline(agentRpc(agents, previousAgent).unsubscribe(sessionId), AGENT_RPC_TIMEOUT_MS, "agent");
    if (agent !== "") await withDeadline(agentRpc(agents, agent).subscribe(sessionId), AGENT_RPC_TIMEOUT_MS, "agent");
  }

  async #destroy(reason: string): Promise<void> {
    recordSessionEvent(this.ctx, this.env, this.#sessionId(), "ended");
    const record = this.#ready.ok ? this.#ready.value.service.record() : undefined;
    if (record?.ok) await this.#follow(record.value.agent_id, "", record.value.session_id);
    if (this.#ready.ok) {
      this.#ready.value.device.detach(`Session ${reason}`);
      await this.#ready.value.mcp.closeAll();
    }
    this.#relay.closeAll(4000, `session ${reason}`);
    await this.ctx.storage.deleteAlarm();
    this.#armedAt = undefined;
    await this.ctx.storage.deleteAll();
    this.#record.forget();
    this.#deviceState.forget();
    this.#deviceNames.forget();
    this.#externalNames.forget();
  }

  #sessionId(): string {
    return this.#record.load()?.session_id ?? "";
  }
}

/** Answers an error without leaving the request body unread (the runtime would fail writing it later). */
async function refuse(request: Request, error: AppError, path: string): Promise<Response> {
  await request.arrayBuffer().catch(() => undefined);
  return errorResponse(error, path);
}

function parseEventId(header: string | null): number | undefined {
  const id = Number(header);
  return header !== null && Number.isInteger(id) && id >= 0 ? id : undefined;
}
