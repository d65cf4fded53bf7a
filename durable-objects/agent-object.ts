/**
 * One Durable Object per agent: it holds the WebSockets of the agent's dial-in tool providers (hibernation
 * API), is the MCP client of each, and serves their merged tools to the sessions bound to the agent.
 *
 * - Several providers aggregate. A provider connecting under an explicit name (token `prv` or `?name=`)
 *   replaces the connection that had it (closed with 4001); the name works after any sequence of connects and
 *   closes, because every connection has its own generation tag and events of replaced ones are ignored.
 * - Provider names are given once and kept: an explicit name, else the provider's serverInfo name made unique
 *   (`Calculator`, `Calculator_2`). Tool names are `<provider>__<tool>`, from one naming scope per agent
 *   (tools/naming.ts), stored, and routed by name, never by position.
 * - On wake, stored providers are reconciled with `ctx.getWebSockets()`: one that died with the runtime is
 *   dropped before anything is served.
 * - A provider silent for `providers.ping_after_ms` is pinged when its tools are next asked for; one that
 *   does not answer within `providers.ping_timeout_ms` is unresponsive, its tools hidden until it speaks
 *   again. Pings run only on demand: no timer keeps an idle object awake.
 *
 * Public RPC methods return {@link Result}s: errors lose their fields across Durable Object RPC.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { ServiceConfig } from "../src/core/config";
import { withDeadline } from "../src/core/deadline";
import { appError, fail, ok, type Result } from "../src/core/errors";
import type { ToolDescriptor } from "../src/core/schemas";
import { closeQuietly, sendQuietly } from "../src/core/websocket";
import { configFromEnv } from "../src/core/env-config";
import { log, type LogFields } from "../src/observability/log";
import { storedValue, type StoredValue } from "../src/core/stored-value";
import { EMPTY_NAMES, sanitizeName, StoredNames, type NamingOptions } from "../src/tools/naming";
import { FrameFaultLog, readFrame } from "../src/tools/peer/frame-intake";
import type { PeerResponse } from "../src/tools/peer/jsonrpc";
import { PeerClient } from "../src/tools/peer/peer-client";
import { describePeerTool, namePeerTools, type PeerNaming, type PeerToolGroup } from "../src/tools/peer/peer-names";
import { PeerState } from "../src/tools/peer/peer-state";
import type { ToolArgs } from "../src/tools/tool-source";
import { externalTools } from "../src/sources/external";
import type { ExternalTools } from "../src/sources/external/external-tools";
import { ConsumerConnection, type CallResult, type ConsumerTool } from "../src/sources/dial-in/consumer-endpoint";
import { providerInitializeParams } from "../src/sources/dial-in/provider-dialect";

const Slot = z.object({
  slot: z.int(),
  /** Name given by the token or the `name` query: the provider's identity across reconnects. */
  explicit_name: z.string().nullable(),
  /** The name its tools carry, given once (explicit, or from serverInfo when the handshake answers). */
  name: z.string().nullable().default(null),
  /** Bumped by each connection under this slot's explicit name; sockets are tagged with it. */
  generation: z.int().default(0),
});
type Slot = z.infer<typeof Slot>;

const AgentRecord = z.object({
  agent_id: z.string(),
  next_slot: z.int(),
  slots: z.array(Slot),
  subscribers: z.array(z.string()),
  /** The agent's tool naming scope: `<provider>\0<tool>` → LLM name. */
  names: StoredNames.default(EMPTY_NAMES),
});
type AgentRecord = z.infer<typeof AgentRecord>;

const RECORD_KEY = "agent";
const EXTERNAL_NAMES_KEY = "external-names";
/** Tag of consumer sockets (xiaozhi-esp32-server's `/call/` connections). */
const CONSUMER_TAG = "consumer";
const peerKey = (slot: number) => `peer:${slot}`;
const socketTag = (slot: Slot) => `slot-${slot.slot}-g${slot.generation}`;
/** A session's notification must not hold the agent up. */
const NOTIFY_TIMEOUT_MS = 2_000;
/** Longest provider name (tools are `<provider>__<tool>` within 64 characters). */
const MAX_PROVIDER_NAME = 32;

export interface ProviderStatus {
  name: string;
  attached: boolean;
  phase: string;
  tool_count: number;
  /** False while the provider does not answer pings: its tools are hidden. */
  responsive: boolean;
}

/** The RPC surface of an agent object, as sessions and the Worker call it. */
export interface AgentRpc {
  /** The providers' tools as the LLM sees them. */
  tools(): Promise<Result<ToolDescriptor[]>>;
  /** Runs a tool by its LLM name; the provider's raw JSON-RPC reply (mapped by the caller). */
  call(name: string, args: ToolArgs): Promise<Result<PeerResponse>>;
  subscribe(sessionId: string): Promise<Result<{ providers: number }>>;
  unsubscribe(sessionId: string): Promise<Result<{ removed: boolean }>>;
  providers(): Promise<Result<ProviderStatus[]>>;
  fetch(request: Request): Promise<Response>;
}

/** What a session object offers the agent: a nudge that its catalogue changed. */
export interface ToolsChangedRpc {
  toolsChanged(): Promise<void>;
}

interface Live {
  client: PeerClient;
  state: StoredValue<PeerState>;
  faults: FrameFaultLog;
  /** Did not answer its last ping: tools hidden until it speaks again. */
  unresponsive: boolean;
  /** A ping in flight (shared by concurrent listings). */
  pinging: Promise<boolean> | undefined;
}

export class AgentObject extends DurableObject<Env> implements AgentRpc {
  readonly #config: Result<ServiceConfig>;
  readonly #record: StoredValue<AgentRecord>;
  readonly #live = new Map<number, Live>();
  /** Consumer connections' state (calls in flight), by socket: in memory, like the calls themselves. */
  readonly #consumers = new WeakMap<WebSocket, ConsumerConnection>();
  #external: ExternalTools | undefined;
  /** The last naming, and the provider groups it was computed from (stored tool lists are immutable). */
  #naming: { groups: PeerToolGroup[]; naming: PeerNaming; descriptors: ToolDescriptor[] } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = configFromEnv(env);
    this.#record = storedValue(ctx.storage.kv, RECORD_KEY, AgentRecord);
    this.#reconcile();
  }

  async tools(): Promise<Result<ToolDescriptor[]>> {
    await this.#probeSilent();
    const { naming, descriptors } = this.#named();
    const offered = this.#offeredProviders();
    return ok(descriptors.filter((_, i) => offered.has(naming.tools[i]!.peer)));
  }

  async call(name: string, args: ToolArgs): Promise<Result<PeerResponse>> {
    const named = this.#named().naming.byName.get(name);
    const slot = named ? this.#slotNamed(named.peer) : undefined;
    if (!named || !slot) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    const live = this.#liveOf(slot);
    if (live.unresponsive) return fail("device_unavailable", `The tool provider '${slot.name}' is not answering`);
    return live.client.callTool(named.tool.name, args);
  }

  async subscribe(sessionId: string): Promise<Result<{ providers: number }>> {
    const record = this.#load();
    if (!record.subscribers.includes(sessionId)) this.#record.save({ ...record, subscribers: [...record.subscribers, sessionId] });
    return ok({ providers: record.slots.length });
  }

  async unsubscribe(sessionId: string): Promise<Result<{ removed: boolean }>> {
    const record = this.#load();
    const subscribers = record.subscribers.filter((id) => id !== sessionId);
    if (subscribers.length !== record.subscribers.length) this.#record.save({ ...record, subscribers });
    return ok({ removed: subscribers.length !== record.subscribers.length });
  }

  async providers(): Promise<Result<ProviderStatus[]>> {
    return ok(
      this.#load().slots.map((slot) => {
        const live = this.#liveOf(slot);
        const status = live.client.status();
        return {
          name: slot.name ?? slot.explicit_name ?? `(connecting #${slot.slot})`,
          attached: status.attached,
          phase: status.phase,
          tool_count: status.tool_count,
          responsive: !live.unresponsive,
        };
      }),
    );
  }

  /**
   * A provider dials in, or a consumer (xiaozhi-esp32-server's `/call/` connection). The Worker has verified the
   * token and passes the agent, the role and the provider name.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("x-endpoint-role") === "consumer") return this.#acceptConsumer(request.headers.get("x-agent-id") ?? "");
    const agentId = request.headers.get("x-agent-id") ?? "";
    const explicitName = request.headers.get("x-provider-name") || null;
    let record = this.#load();
    if (record.agent_id === "") record = { ...record, agent_id: agentId };
    const existing = explicitName ? record.slots.find((slot) => slot.explicit_name === explicitName) : undefined;
    const slot: Slot = existing
      ? { ...existing, generation: existing.generation + 1 }
      : { slot: record.next_slot, explicit_name: explicitName, name: null, generation: 0 };
    if (slot.name === null && explicitName) slot.name = uniqueName(explicitName, record.slots);
    record = existing
      ? { ...record, slots: record.slots.map((entry) => (entry.slot === slot.slot ? slot : entry)) }
      : { ...record, next_slot: record.next_slot + 1, slots: [...record.slots, slot] };
    this.#record.save(record);

    const { 0: client, 1: server } = new WebSocketPair();
    const replaced = this.ctx.getWebSockets().filter((ws) => this.#slotTagOf(ws)?.slot === slot.slot);
    this.ctx.acceptWebSocket(server, [socketTag(slot)]);
    for (const old of replaced) closeQuietly(old, 4001, "replaced by a new connection of the same provider");
    this.#liveOf(slot).unresponsive = false;
    this.#liveOf(slot).client.attach(providerInitializeParams());
    await this.#rearm();
    log("info", "provider.attached", { agent_id: record.agent_id, provider: slot.name ?? `#${slot.slot}`, generation: slot.generation });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.ctx.getTags(ws).includes(CONSUMER_TAG)) return this.#consumerMessage(ws, message);
    const slot = this.#currentSlotOf(ws);
    if (!slot) return; // a replaced connection's late frames
    const live = this.#liveOf(slot);
    const limits = this.#limits();
    const read = readFrame(typeof message === "string" ? message : new TextDecoder().decode(message), limits);
    if (read.kind === "oversized") {
      live.faults.record("oversized");
      live.client.count("dropped_frames");
      const text = `The tool provider's reply (${read.bytes} bytes) exceeds limits.max_frame_bytes (${limits.maxBytes})`;
      live.client.rejectReply(read.id, appError("upstream_error", text));
      return;
    }
    if (read.kind !== "json" || typeof read.value !== "object" || read.value === null || Array.isArray(read.value)) {
      live.faults.record(read.kind === "json" ? "not_a_message" : read.kind);
      live.client.count("malformed_frames");
      return;
    }
    const wasUnresponsive = live.unresponsive;
    live.unresponsive = false;
    live.client.receive(read.value as Record<string, unknown>);
    if (wasUnresponsive) {
      log("info", "provider.responsive", { agent_id: this.#load().agent_id, provider: slot.name });
      this.#notifySubscribers();
    }
    if (this.#slot(slot.slot)?.name === null) this.#nameFromServerInfo(slot.slot);
    await this.#rearm();
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake the peer started, or it waits for our close frame.
    closeQuietly(ws, 1000, "closed");
    if (this.ctx.getTags(ws).includes(CONSUMER_TAG)) return; // its calls in flight end on their own; nothing to undo
    this.#gone(ws, `The tool provider disconnected (${code}${reason ? ` ${reason}` : ""})`);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#gone(ws, "The tool provider connection failed");
  }

  override async alarm(): Promise<void> {
    for (const slot of this.#load().slots) this.#liveOf(slot).client.expireHandshake();
    await this.#rearm();
  }

  #acceptConsumer(agentId: string): Response {
    const record = this.#load();
    if (record.agent_id === "") this.#record.save({ ...record, agent_id: agentId });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [CONSUMER_TAG]);
    log("info", "consumer.attached", { agent_id: agentId });
    return new Response(null, { status: 101, webSocket: client });
  }

  async #consumerMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    let connection = this.#consumers.get(ws);
    if (!connection) {
      connection = new ConsumerConnection(
        { tools: () => this.#consumerTools(), call: (name, args) => this.#consumerCall(name, args) },
        { ...this.#limits(), pageSize: this.#endpointConfig().page_size, maxCallsInFlight: this.#endpointConfig().max_calls_in_flight },
      );
      this.#consumers.set(ws, connection);
    }
    const answer = await connection.handle(typeof message === "string" ? message : new TextDecoder().decode(message));
    // The consumer may have gone meanwhile: its answer has no one to go to, and nobody else is affected.
    if (answer !== undefined) sendQuietly(ws, answer);
  }

  /** The agent's providers' tools, then (by configuration) the deployment's external servers' tools. */
  async #consumerTools(): Promise<ConsumerTool[]> {
    const listed = await this.tools();
    const tools: ConsumerTool[] = listed.ok ? listed.value.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.input_schema })) : [];
    const external = this.#externalTools();
    if (external) {
      const taken = new Set(tools.map((tool) => tool.name));
      for (const tool of await external.list()) {
        if (!taken.has(tool.name)) tools.push({ name: tool.name, description: tool.description, inputSchema: tool.input_schema });
      }
    }
    return tools;
  }

  async #consumerCall(name: string, args: Record<string, unknown>): Promise<Result<CallResult>> {
    const provided = await this.call(name, args as ToolArgs);
    if (provided.ok) {
      const reply = provided.value;
      if ("error" in reply) return fail("upstream_error", reply.error.message, { provider_code: reply.error.code ?? null });
      const result = reply.result;
      return typeof result === "object" && result !== null && !Array.isArray(result) ? ok(result as CallResult) : fail("upstream_error", "The tool provider returned a malformed result");
    }
    const external = provided.error.code === "tool_not_found" ? this.#externalTools() : undefined;
    if (!external) return provided;
    const called = await external.callRaw(name, args as ToolArgs);
    return called.ok ? ok(called.value as CallResult) : called;
  }

  #externalTools(): ExternalTools | undefined {
    if (!this.#config.ok || !this.#config.value.xiaozhi_endpoint.expose_external) return undefined;
    this.#external ??= externalTools(this.#config.value, this.env, storedValue(this.ctx.storage.kv, EXTERNAL_NAMES_KEY, StoredNames));
    return this.#external;
  }

  #endpointConfig() {
    return this.#config.ok ? this.#config.value.xiaozhi_endpoint : { expose_external: false, page_size: 100, max_calls_in_flight: 16 };
  }

  /** Drops stored providers whose connection did not survive (a runtime restart). */
  #reconcile(): void {
    const record = this.#load();
    const dead = record.slots.filter((slot) => this.ctx.getWebSockets(socketTag(slot)).length === 0);
    if (dead.length === 0) return;
    for (const slot of dead) this.#forget(slot);
    this.#record.save({ ...record, slots: record.slots.filter((slot) => !dead.includes(slot)) });
    log("info", "provider.reconciled", { agent_id: record.agent_id, dropped: dead.length });
  }

  /** A provider that leaves takes its tools and its pending calls with it; its slot is forgotten. */
  #gone(ws: WebSocket, reason: string): void {
    const slot = this.#currentSlotOf(ws);
    if (!slot) return; // a replaced connection closing: its successor keeps the slot
    const live = this.#liveOf(slot);
    const hadTools = live.client.tools().length > 0 && !live.unresponsive;
    live.client.detach(reason);
    this.#forget(slot);
    const record = this.#load();
    this.#record.save({ ...record, slots: record.slots.filter((entry) => entry.slot !== slot.slot) });
    log("info", "provider.detached", { agent_id: record.agent_id, provider: slot.name ?? `#${slot.slot}`, reason });
    if (hadTools) this.#notifySubscribers();
  }

  #forget(slot: Slot): void {
    this.ctx.storage.kv.delete(peerKey(slot.slot));
    this.#live.get(slot.slot)?.state.forget();
    this.#live.delete(slot.slot);
  }

  /** The slot a socket belongs to, if that socket is its current connection. */
  #currentSlotOf(ws: WebSocket): Slot | undefined {
    const tag = this.#slotTagOf(ws);
    const slot = tag ? this.#slot(tag.slot) : undefined;
    return slot && slot.generation === tag?.generation ? slot : undefined;
  }

  #slotTagOf(ws: WebSocket): { slot: number; generation: number } | undefined {
    for (const tag of this.ctx.getTags(ws)) {
      const match = /^slot-(\d+)-g(\d+)$/.exec(tag);
      if (match) return { slot: Number(match[1]), generation: Number(match[2]) };
    }
    return undefined;
  }

  #slot(id: number): Slot | undefined {
    return this.#load().slots.find((slot) => slot.slot === id);
  }

  #liveOf(slot: Slot): Live {
    let live = this.#live.get(slot.slot);
    if (live) return live;
    const config = this.#config.ok ? this.#config.value.providers : { call_timeout_ms: 30_000, list_timeout_ms: 10_000 };
    const state = storedValue(this.ctx.storage.kv, peerKey(slot.slot), PeerState);
    const fields = (extra?: LogFields): LogFields => ({ agent_id: this.#load().agent_id, provider: this.#slot(slot.slot)?.name ?? `#${slot.slot}`, ...extra });
    const client = new PeerClient({
      load: state.load,
      save: state.save,
      send: (message) => {
        const current = this.#slot(slot.slot);
        const [socket] = current ? this.ctx.getWebSockets(socketTag(current)) : [];
        return socket ? sendQuietly(socket, JSON.stringify(message)) : false;
      },
      now: Date.now,
      callTimeoutMs: config.call_timeout_ms,
      listTimeoutMs: config.list_timeout_ms,
      log: (level, event, extra) => log(level, event, fields(extra)),
      onToolsChanged: () => this.#notifySubscribers(),
      sendInitialized: true,
      unavailableMessage: "The tool provider is not connected",
    });
    live = { client, state, faults: new FrameFaultLog((level, event, extra) => log(level, event, fields(extra))), unresponsive: false, pinging: undefined };
    this.#live.set(slot.slot, live);
    return live;
  }

  /** The provider answered initialize: name it after its serverInfo, once, unique among the agent's providers. */
  #nameFromServerInfo(id: number): void {
    const record = this.#load();
    const slot = record.slots.find((entry) => entry.slot === id);
    if (!slot || slot.name !== null) return;
    const info = this.#liveOf(slot).client.state().server_info;
    const serverName = typeof info === "object" && info !== null && !Array.isArray(info) && typeof info.name === "string" ? info.name : "";
    if (serverName === "" && this.#liveOf(slot).client.state().phase === "initializing") return;
    const base = serverName === "" ? "provider" : sanitizeName(serverName).name.slice(0, MAX_PROVIDER_NAME);
    const name = uniqueName(base, record.slots);
    this.#record.save({ ...record, slots: record.slots.map((entry) => (entry.slot === id ? { ...entry, name } : entry)) });
  }

  /** Pings providers silent for too long, concurrently, before their tools are offered again. */
  async #probeSilent(): Promise<void> {
    if (!this.#config.ok) return;
    const { ping_after_ms, ping_timeout_ms } = this.#config.value.providers;
    const now = Date.now();
    const probes: Promise<unknown>[] = [];
    for (const slot of this.#load().slots) {
      const live = this.#liveOf(slot);
      if (live.client.tools().length === 0) continue;
      const heard = live.client.lastHeardMs();
      if (!live.unresponsive && heard !== undefined && now - heard < ping_after_ms) continue;
      live.pinging ??= live.client.ping(ping_timeout_ms).then((answered) => {
        live.pinging = undefined;
        if (answered === !live.unresponsive) return answered;
        live.unresponsive = !answered;
        log(answered ? "info" : "warn", answered ? "provider.responsive" : "provider.unresponsive", { agent_id: this.#load().agent_id, provider: slot.name });
        this.#notifySubscribers();
        return answered;
      });
      // An unresponsive provider is re-probed without holding the listing up; a silent one is waited for.
      if (!live.unresponsive) probes.push(live.pinging);
    }
    await Promise.all(probes);
  }

  /** Names of the providers whose tools are offered now: connected, listed, answering. */
  #offeredProviders(): Set<string> {
    const offered = new Set<string>();
    for (const slot of this.#load().slots) {
      const live = this.#liveOf(slot);
      if (slot.name !== null && !live.unresponsive && live.client.tools().length > 0) offered.add(slot.name);
    }
    return offered;
  }

  /**
   * The agent's naming over every named provider's last complete list, stored when it changes. Tools are
   * keyed by `<provider name>\0<tool>`, so a provider that reconnects under its name gets its names back.
   */
  #named(): { naming: PeerNaming; descriptors: ToolDescriptor[] } {
    const record = this.#load();
    const groups = record.slots
      .filter((slot) => slot.name !== null)
      .map((slot) => ({ peer: slot.name!, prefix: slot.name!, tools: this.#liveOf(slot).client.knownTools() }));
    if (this.#naming && this.#naming.groups.length === groups.length && this.#naming.groups.every((group, i) => sameGroup(group, groups[i]!))) {
      return this.#naming;
    }
    const naming = namePeerTools(record.names, groups, this.#namingOptions());
    if (naming.assignment.changed) this.#record.save({ ...record, names: naming.assignment.names });
    const descriptors = naming.tools.map((named) => describePeerTool(named, "provider", this.#namingOptions()));
    this.#naming = { groups, naming, descriptors };
    return this.#naming;
  }

  #slotNamed(name: string): Slot | undefined {
    return this.#load().slots.find((slot) => slot.name === name);
  }

  #namingOptions(): NamingOptions {
    return { keepCjk: this.#config.ok ? this.#config.value.naming.keep_cjk : false };
  }

  #limits() {
    const limits = this.#config.ok ? this.#config.value.limits : { max_frame_bytes: 1024 * 1024, max_json_depth: 64 };
    return { maxBytes: limits.max_frame_bytes, maxDepth: limits.max_json_depth };
  }

  #notifySubscribers(): void {
    this.#naming = undefined;
    const sessions = this.env.SESSIONS as unknown as DurableObjectNamespace;
    for (const id of this.#load().subscribers) {
      const stub = sessions.getByName(id) as unknown as ToolsChangedRpc;
      this.ctx.waitUntil(withDeadline(stub.toolsChanged().then(() => ok(true)), NOTIFY_TIMEOUT_MS, "session"));
    }
  }

  async #rearm(): Promise<void> {
    const deadlines = this.#load()
      .slots.map((slot) => this.#liveOf(slot).client.handshakeDeadline())
      .filter((t): t is number => t !== undefined);
    if (deadlines.length > 0) await this.ctx.storage.setAlarm(Math.min(...deadlines));
  }

  #load(): AgentRecord {
    return this.#record.load() ?? { agent_id: "", next_slot: 1, slots: [], subscribers: [], names: EMPTY_NAMES };
  }
}

/** `base`, else `base_2`, `base_3`…: the first not held by another provider of the agent. */
function uniqueName(base: string, slots: readonly Slot[]): string {
  const taken = new Set(slots.map((slot) => slot.name));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) {
    const candidate = `${base.slice(0, MAX_PROVIDER_NAME - String(n).length - 1)}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function sameGroup(a: PeerToolGroup, b: PeerToolGroup): boolean {
  return a.peer === b.peer && a.prefix === b.prefix && a.tools === b.tools;
}
