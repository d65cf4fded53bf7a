/**
 * One Durable Object per agent: it holds the WebSockets of the agent's dial-in tool providers (hibernation
 * API), is the MCP client of each, and serves their merged tools to the sessions bound to the agent.
 * Several providers aggregate; a provider reconnecting under the same explicit name replaces its old socket.
 *
 * Public RPC methods return {@link Result}s: errors lose their fields across Durable Object RPC.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { ServiceConfig } from "../core/config";
import { withDeadline } from "../core/deadline";
import { fail, ok, type Result } from "../core/errors";
import type { ToolDescriptor, ToolResult } from "../core/schemas";
import { configFromEnv } from "../env-config";
import { log } from "../observability/log";
import { sanitizeName } from "../tools/tool-names";
import { PeerClient } from "../tools/peer/peer-client";
import { PeerState } from "../tools/peer/peer-state";
import type { ToolArgs } from "../tools/tool-provider";
import { providerDialect, providerInitializeParams } from "./provider-dialect";

const Slot = z.object({
  slot: z.int(),
  /** Name given by the token or the `name` query; otherwise the provider's serverInfo name is used. */
  explicit_name: z.string().nullable(),
});
type Slot = z.infer<typeof Slot>;

const AgentRecord = z.object({
  agent_id: z.string(),
  next_slot: z.int(),
  slots: z.array(Slot),
  subscribers: z.array(z.string()),
});
type AgentRecord = z.infer<typeof AgentRecord>;

const RECORD_KEY = "agent";
const peerKey = (slot: number) => `peer:${slot}`;
const slotTag = (slot: number) => `slot-${slot}`;
/** A session's notification must not hold the agent up. */
const NOTIFY_TIMEOUT_MS = 2_000;

export interface ProviderStatus {
  name: string;
  attached: boolean;
  phase: string;
  tool_count: number;
}

/** The RPC surface of an agent object, as sessions and the Worker call it. */
export interface AgentRpc {
  tools(): Promise<Result<ToolDescriptor[]>>;
  call(name: string, args: ToolArgs): Promise<Result<ToolResult>>;
  subscribe(sessionId: string): Promise<Result<{ providers: number }>>;
  unsubscribe(sessionId: string): Promise<Result<{ removed: boolean }>>;
  providers(): Promise<Result<ProviderStatus[]>>;
  fetch(request: Request): Promise<Response>;
}

/** What a session object offers the agent: a nudge that its catalogue changed. */
export interface ToolsChangedRpc {
  toolsChanged(): Promise<void>;
}

export class AgentObject extends DurableObject<Env> implements AgentRpc {
  readonly #config: Result<ServiceConfig>;
  readonly #clients = new Map<number, PeerClient>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = configFromEnv(env);
  }

  async tools(): Promise<Result<ToolDescriptor[]>> {
    const lists = await Promise.all(this.#record().slots.map((slot) => this.#client(slot.slot).list()));
    return ok(lists.flat());
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    for (const slot of this.#record().slots) {
      const client = this.#client(slot.slot);
      if ((await client.list()).some((tool) => tool.name === name)) return client.call(name, args);
    }
    return fail("tool_not_found", `Tool '${name}' is not available in this session`);
  }

  async subscribe(sessionId: string): Promise<Result<{ providers: number }>> {
    const record = this.#record();
    if (!record.subscribers.includes(sessionId)) this.#save({ ...record, subscribers: [...record.subscribers, sessionId] });
    return ok({ providers: record.slots.length });
  }

  async unsubscribe(sessionId: string): Promise<Result<{ removed: boolean }>> {
    const record = this.#record();
    const subscribers = record.subscribers.filter((id) => id !== sessionId);
    this.#save({ ...record, subscribers });
    return ok({ removed: subscribers.length !== record.subscribers.length });
  }

  async providers(): Promise<Result<ProviderStatus[]>> {
    return ok(
      this.#record().slots.map((slot) => {
        const status = this.#client(slot.slot).status();
        return { name: this.#displayName(slot.slot), attached: status.attached, phase: status.phase, tool_count: status.tool_count };
      }),
    );
  }

  /** A provider dials in. The Worker has verified its token and passes the agent and provider name. */
  override async fetch(request: Request): Promise<Response> {
    const agentId = request.headers.get("x-agent-id") ?? "";
    const explicitName = request.headers.get("x-provider-name") || null;
    let record = this.#record();
    if (record.agent_id === "") record = { ...record, agent_id: agentId };
    const existing = explicitName ? record.slots.find((slot) => slot.explicit_name === explicitName) : undefined;
    const slot = existing ?? { slot: record.next_slot, explicit_name: explicitName };
    if (!existing) record = { ...record, next_slot: record.next_slot + 1, slots: [...record.slots, slot] };
    this.#save(record);

    const { 0: client, 1: server } = new WebSocketPair();
    const replaced = this.ctx.getWebSockets(slotTag(slot.slot));
    this.ctx.acceptWebSocket(server, [slotTag(slot.slot)]);
    for (const old of replaced) closeQuietly(old, 4001, "replaced by a new connection of the same provider");
    this.#client(slot.slot).attach(providerInitializeParams());
    await this.#rearm();
    log("info", "provider.attached", { agent_id: record.agent_id, provider: explicitName ?? `slot ${slot.slot}` });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const slot = this.#slotOf(ws);
    if (slot === undefined) return;
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    const client = this.#client(slot);
    if (this.#config.ok && text.length > this.#config.value.limits.max_frame_bytes) {
      client.count("dropped_frames");
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      client.count("malformed_frames");
      return;
    }
    client.receive(payload as Record<string, unknown>);
    await this.#rearm();
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    this.#gone(ws, "The tool provider disconnected");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#gone(ws, "The tool provider connection failed");
  }

  override async alarm(): Promise<void> {
    for (const slot of this.#record().slots) this.#client(slot.slot).expireHandshake();
    await this.#rearm();
  }

  /** A provider that leaves takes its tools and its pending calls with it; its slot is forgotten. */
  #gone(ws: WebSocket, reason: string): void {
    const slot = this.#slotOf(ws);
    if (slot === undefined || this.ctx.getWebSockets(slotTag(slot)).some((other) => other !== ws)) return;
    this.#client(slot).detach(reason);
    const record = this.#record();
    this.#save({ ...record, slots: record.slots.filter((entry) => entry.slot !== slot) });
    this.ctx.storage.kv.delete(peerKey(slot));
    this.#clients.delete(slot);
    log("info", "provider.detached", { agent_id: record.agent_id, slot });
  }

  #slotOf(ws: WebSocket): number | undefined {
    const tag = this.ctx.getTags(ws).find((candidate) => candidate.startsWith("slot-"));
    const slot = tag ? Number(tag.slice(5)) : undefined;
    return slot !== undefined && this.#record().slots.some((entry) => entry.slot === slot) ? slot : undefined;
  }

  #client(slot: number): PeerClient {
    let client = this.#clients.get(slot);
    if (client) return client;
    const kv = this.ctx.storage.kv;
    const limits = this.#config.ok ? this.#config.value.device : { call_timeout_ms: 30_000, list_timeout_ms: 10_000 };
    client = new PeerClient(
      {
        load: () => PeerState.safeParse(kv.get(peerKey(slot))).data,
        save: (state) => kv.put(peerKey(slot), state),
        send: (message) => {
          const [socket] = this.ctx.getWebSockets(slotTag(slot));
          if (!socket) return false;
          socket.send(JSON.stringify(message));
          return true;
        },
        now: Date.now,
        callTimeoutMs: limits.call_timeout_ms,
        listTimeoutMs: limits.list_timeout_ms,
        log: (level, event, fields) => log(level, event, { agent_id: this.#record().agent_id, slot, ...fields }),
        onToolsChanged: () => this.#notifySubscribers(),
      },
      providerDialect(() => this.#displayName(slot)),
    );
    this.#clients.set(slot, client);
    return client;
  }

  /** Explicit name, else the provider's own serverInfo name, made unique by slot order. */
  #displayName(slot: number): string {
    const taken = new Set<string>();
    for (const entry of this.#record().slots) {
      const base = entry.explicit_name ?? this.#serverName(entry.slot) ?? `provider${entry.slot}`;
      const name = taken.has(base) ? `${base}_${entry.slot}` : base;
      taken.add(name);
      if (entry.slot === slot) return name;
    }
    return `provider${slot}`;
  }

  #serverName(slot: number): string | undefined {
    const info = this.#client(slot).state().server_info;
    const name = typeof info === "object" && info !== null && !Array.isArray(info) ? info.name : undefined;
    return typeof name === "string" && name !== "" ? sanitizeName(name).slice(0, 32) : undefined;
  }

  #notifySubscribers(): void {
    const sessions = this.env.SESSIONS as unknown as DurableObjectNamespace;
    for (const id of this.#record().subscribers) {
      const stub = sessions.getByName(id) as unknown as ToolsChangedRpc;
      const nudge = withDeadline(
        stub.toolsChanged().then(() => ok(true)),
        NOTIFY_TIMEOUT_MS,
        "session",
      );
      this.ctx.waitUntil(nudge);
    }
  }

  async #rearm(): Promise<void> {
    const deadlines = this.#record()
      .slots.map((slot) => this.#client(slot.slot).handshakeDeadline())
      .filter((t): t is number => t !== undefined);
    if (deadlines.length > 0) await this.ctx.storage.setAlarm(Math.min(...deadlines));
  }

  #record(): AgentRecord {
    return AgentRecord.safeParse(this.ctx.storage.kv.get(RECORD_KEY)).data ?? { agent_id: "", next_slot: 1, slots: [], subscribers: [] };
  }

  #save(record: AgentRecord): void {
    this.ctx.storage.kv.put(RECORD_KEY, record);
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
