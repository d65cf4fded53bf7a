/**
 * An agent's dial-in tool providers: their WebSockets (hibernatable, through the host's sockets), our MCP client
 * of each, their names, and their merged tools for the sessions bound to the agent. Run by the agent's object
 * (durable-objects/agent-object.ts); knows its ports, not Durable Objects.
 *
 * - Several providers aggregate. A provider connecting under an explicit name (token `prv` or `?name=`)
 *   replaces the connection that had it (closed with 4001); the name works after any sequence of connects and
 *   closes, because every connection has its own generation tag and events of replaced ones are ignored.
 * - Provider names are given once and kept: an explicit name, else the provider's serverInfo name made unique
 *   (`Calculator`, `Calculator_2`). Tool names are `<provider>__<tool>`, from one naming scope per agent
 *   (tools/naming.ts), stored, and routed by name, never by position.
 * - On wake, stored providers are reconciled with the live sockets: one that died with the runtime is dropped
 *   before anything is served.
 * - A provider silent for `providers.ping_after_ms` is pinged when its tools are next asked for; one that
 *   does not answer within `providers.ping_timeout_ms` is unresponsive, its tools hidden until it speaks
 *   again. Pings run only on demand: no timer keeps an idle object awake.
 */
import { z } from "zod";
import type { ServiceConfig } from "../../core/config";
import { appError, fail, ok, type Result } from "../../core/errors";
import type { ObjectHost } from "../../core/host";
import type { ToolDescriptor } from "../../core/schemas";
import { storedValue, type StoredValue } from "../../core/stored-value";
import { closeQuietly, sendQuietly } from "../../core/websocket";
import { log, type LogFields } from "../../observability/log";
import { EMPTY_NAMES, sanitizeName, StoredNames, type NamingOptions } from "../../tools/naming";
import { FrameFaultLog, readFrame } from "../../tools/peer/frame-intake";
import type { PeerResponse } from "../../tools/peer/jsonrpc";
import { PeerClient } from "../../tools/peer/peer-client";
import { describePeerTool, namePeerTools, type PeerNaming, type PeerToolGroup } from "../../tools/peer/peer-names";
import { PeerState } from "../../tools/peer/peer-state";
import type { ToolArgs } from "../../tools/tool-source";
import type { TenantRpc } from "../../tenants/tenant-rpc";
import type { AgentRpc, ProviderStatus } from "./agent-rpc";
import { providerInitializeParams } from "./provider-dialect";

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
const peerKey = (slot: number) => `peer:${slot}`;
const socketTag = (slot: Slot) => `slot-${slot.slot}-g${slot.generation}`;
/** Longest provider name (tools are `<provider>__<tool>` within 64 characters). */
const MAX_PROVIDER_NAME = 32;

interface Live {
  client: PeerClient;
  state: StoredValue<PeerState>;
  faults: FrameFaultLog;
  /** Did not answer its last ping: tools hidden until it speaks again. */
  unresponsive: boolean;
  /** A ping in flight (shared by concurrent listings). */
  pinging: Promise<boolean> | undefined;
}

export class Providers implements Omit<AgentRpc, "fetch" | keyof TenantRpc> {
  readonly #record: StoredValue<AgentRecord>;
  readonly #live = new Map<number, Live>();
  /** The last naming, and the provider groups it was computed from (stored tool lists are immutable). */
  #naming: { groups: PeerToolGroup[]; naming: PeerNaming; descriptors: ToolDescriptor[] } | undefined;

  constructor(
    private readonly host: ObjectHost,
    private readonly config: Result<ServiceConfig>,
    /** The tools offered changed: tell these subscribed sessions (their MCP clients list again). */
    private readonly notify: (subscribers: readonly string[]) => void,
  ) {
    this.#record = storedValue(host.kv, RECORD_KEY, AgentRecord);
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

  /** The agent this object serves (learned from the first connection). */
  agentId(): string {
    return this.#load().agent_id;
  }

  /** Remembers the agent this object serves, once (objects do not know their own name). */
  adopt(agentId: string): void {
    const record = this.#load();
    if (record.agent_id === "") this.#record.save({ ...record, agent_id: agentId });
  }

  /**
   * A provider dials in (the Worker has verified its token): `server` becomes its connection, replacing the one
   * that had its explicit name (closed with 4001), and the handshake starts.
   */
  async attach(agentId: string, explicitName: string | null, server: WebSocket): Promise<void> {
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

    const replaced = this.host.sockets.sockets().filter((ws) => this.#slotTagOf(ws)?.slot === slot.slot);
    this.host.sockets.accept(server, [socketTag(slot)]);
    for (const old of replaced) closeQuietly(old, 4001, "replaced by a new connection of the same provider");
    this.#liveOf(slot).unresponsive = false;
    this.#liveOf(slot).client.attach(providerInitializeParams());
    await this.#rearm();
    log("info", "provider.attached", { agent_id: record.agent_id, provider: slot.name ?? `#${slot.slot}`, generation: slot.generation });
  }

  /** One frame from a provider's connection. */
  async message(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
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

  /** A provider's connection closed or failed. */
  closed(ws: WebSocket, reason: string): void {
    this.#gone(ws, reason);
  }

  async alarm(): Promise<void> {
    for (const slot of this.#load().slots) this.#liveOf(slot).client.expireHandshake();
    await this.#rearm();
  }

  /** Drops stored providers whose connection did not survive (a runtime restart). */
  #reconcile(): void {
    const record = this.#load();
    const dead = record.slots.filter((slot) => this.host.sockets.sockets(socketTag(slot)).length === 0);
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
    this.host.kv.delete(peerKey(slot.slot));
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
    for (const tag of this.host.sockets.tags(ws)) {
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
    const config = this.config.ok ? this.config.value.providers : { call_timeout_ms: 30_000, list_timeout_ms: 10_000 };
    const state = storedValue(this.host.kv, peerKey(slot.slot), PeerState);
    const fields = (extra?: LogFields): LogFields => ({ agent_id: this.#load().agent_id, provider: this.#slot(slot.slot)?.name ?? `#${slot.slot}`, ...extra });
    const client = new PeerClient({
      load: state.load,
      save: state.save,
      send: (message) => {
        const current = this.#slot(slot.slot);
        const [socket] = current ? this.host.sockets.sockets(socketTag(current)) : [];
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
    if (!this.config.ok) return;
    const { ping_after_ms, ping_timeout_ms } = this.config.value.providers;
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
    return { keepCjk: this.config.ok ? this.config.value.naming.keep_cjk : false };
  }

  #limits() {
    const limits = this.config.ok ? this.config.value.limits : { max_frame_bytes: 1024 * 1024, max_json_depth: 64 };
    return { maxBytes: limits.max_frame_bytes, maxDepth: limits.max_json_depth };
  }

  #notifySubscribers(): void {
    this.#naming = undefined;
    this.notify(this.#load().subscribers);
  }

  /** The sessions that follow this agent (bound with its id), to be told of changes. */
  subscribers(): readonly string[] {
    return this.#load().subscribers;
  }

  async #rearm(): Promise<void> {
    const deadlines = this.#load()
      .slots.map((slot) => this.#liveOf(slot).client.handshakeDeadline())
      .filter((t): t is number => t !== undefined);
    if (deadlines.length > 0) await this.host.alarm.set(Math.min(...deadlines));
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
