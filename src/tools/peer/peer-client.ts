/**
 * Our MCP client of a peer that connected to us and acts as the MCP server — an ESP32 behind its gateway's
 * relay, or a tool provider dialing in. It runs the handshake (initialize, then every `tools/list` page),
 * matches replies to requests by integer id, and turns tool calls into action results. The protocol state
 * (phase, handshake, tools, the id reservation) lives in a store the Durable Object persists. Calls in flight
 * live in memory only: each belongs to a request that keeps the object alive while it waits, and a reply that
 * outlives its caller (an eviction meanwhile) has no one to go to — it is counted as ignored. So a tool call
 * writes nothing: ids come from a block reserved in storage once per {@link ID_BLOCK} ids.
 */
import { appError, fail, ok, type Result } from "../../core/errors";
import type { RelayStatus, ToolDescriptor, ToolResult, ToolSource } from "../../core/schemas";
import type { LogFields, LogLevel } from "../../observability/log";
import type { ToolArgs, ToolProvider } from "../tool-provider";
import {
  acceptTools,
  INITIALIZE_ID,
  InitializeResult,
  initializeRequest,
  PeerNotification,
  PeerResponse,
  toolsCallRequest,
  toolsListRequest,
  ToolsListResult,
  type JsonRpcOutbound,
  type PeerTool,
} from "./jsonrpc";
import { initialPeerState, PeerState } from "./peer-state";

/** A listing that never ends is a peer bug; stop after this many pages and keep what arrived. */
const MAX_PAGES = 64;
/** Ids reserved per storage write; an eviction skips at most this many (ids need only be unique integers). */
export const ID_BLOCK = 64;

/** What differs between kinds of peers: naming, result mapping, handshake manners. */
export interface PeerDialect {
  source: ToolSource;
  /** Send `notifications/initialized` after initialize, as MCP asks (xiaozhi firmware does not need it). */
  sendInitialized: boolean;
  /** The peer's tools as the LLM sees them, in peer order. */
  describe(tools: readonly PeerTool[]): ToolDescriptor[];
  toResult(toolName: string, reply: PeerResponse): ToolResult;
}

export interface PeerPorts {
  load(): PeerState | undefined;
  save(state: PeerState): void;
  /** Sends to the peer's current connection; false when there is none. */
  send(message: JsonRpcOutbound): boolean;
  now(): number;
  callTimeoutMs: number;
  listTimeoutMs: number;
  log(level: LogLevel, event: string, fields?: LogFields): void;
  /** The catalogue the LLM sees changed (handshake done, connection gone). */
  onToolsChanged?(): void;
}

interface PendingCall {
  /** The peer's own tool name, for mapping the reply. */
  name: string;
  resolve(result: Result<ToolResult>): void;
  deadline_ms: number;
}

export class PeerClient implements ToolProvider {
  readonly source: ToolSource;
  /** Calls in flight, oldest first: every call gets the same timeout, so insertion order is deadline order. */
  readonly #pending = new Map<number, PendingCall>();
  /**
   * One timer for all calls in flight, set for the oldest one it knows; when it fires it times out that call if
   * still pending and moves on to the oldest remaining. A steady stream of calls thus costs a timer per timeout
   * period, not a set and a clear per call. It may outlive the last call by up to one timeout.
   */
  #sweep: { id: number; timer: ReturnType<typeof setTimeout> } | undefined;
  /** The LLM's view of the last tool list seen: the stored state is immutable, so its identity is the key. */
  #described: { tools: readonly PeerTool[]; descriptors: ToolDescriptor[] } | undefined;
  /** Next id to hand out; below the stored reservation `next_id`. Unknown until the state is first read. */
  #nextId: number | undefined;

  constructor(
    private readonly ports: PeerPorts,
    private readonly dialect: PeerDialect,
  ) {
    this.source = dialect.source;
  }

  state(): PeerState {
    return this.ports.load() ?? initialPeerState();
  }

  status(): RelayStatus {
    const state = this.state();
    return {
      attached: state.attached,
      phase: state.phase,
      server_info: state.server_info,
      tool_count: state.visible ? this.#describe(state.tools).length : 0,
      pending_calls: this.#pending.size,
    };
  }

  /** A new connection is now current: fail what the old one owed, and start a fresh handshake on it. */
  attach(initializeParams: Record<string, unknown>): number {
    const state = this.state();
    this.#failPending("Connection was replaced");
    const next: PeerState = { ...state, generation: state.generation + 1, attached: true, visible: false };
    this.#startHandshake(next, initializeParams);
    this.ports.onToolsChanged?.();
    return next.generation;
  }

  /** A fresh initialize on the same connection (a device must learn a new vision url/token). */
  rehandshake(initializeParams: Record<string, unknown>): void {
    const state = this.state();
    if (state.attached) this.#startHandshake({ ...state }, initializeParams);
  }

  /** The connection is gone: pending calls fail now, not after their timeout, and the tools leave the catalogue. */
  detach(reason: string): void {
    const state = this.state();
    this.#failPending(reason);
    this.ports.save({ ...state, attached: false, phase: "detached", visible: false, handshake: null, partial: [] });
    if (state.visible) this.ports.onToolsChanged?.();
  }

  /** Another peer took over: its predecessor's tool names must not resolve any more. */
  forgetTools(): void {
    const state = this.state();
    this.ports.save({ ...state, tools: [], partial: [], visible: false, server_info: null });
  }

  count(counter: keyof PeerState["counters"]): void {
    const state = this.state();
    this.ports.save({ ...state, counters: { ...state.counters, [counter]: state.counters[counter] + 1 } });
  }

  /** One JSON-RPC message from the peer. Never throws. */
  receive(payload: Record<string, unknown>): void {
    if ("method" in payload) {
      if (!("id" in payload)) this.#onNotification(payload);
      return; // peers never send requests we serve; consumed without reply
    }
    const reply = PeerResponse.safeParse(payload);
    if (!reply.success) {
      this.count("malformed_frames");
      this.ports.log("warn", "peer.malformed_reply", { id_type: typeof payload.id });
      return;
    }
    this.#onReply(reply.data);
  }

  /** When the handshake in progress gives up waiting, if one is in progress. */
  handshakeDeadline(): number | undefined {
    return this.state().handshake?.deadline_ms;
  }

  /** Called when the handshake deadline passes: keep what arrived and finish, never hang. */
  expireHandshake(): void {
    const state = this.state();
    if (!state.handshake || this.ports.now() < state.handshake.deadline_ms) return;
    this.ports.log("warn", "peer.handshake_timeout", { step: state.handshake.kind, tools: state.partial.length });
    this.#complete(state);
  }

  async list(): Promise<ToolDescriptor[]> {
    const state = this.state();
    return state.visible ? this.#describe(state.tools) : [];
  }

  claims(name: string): boolean {
    return this.#describe(this.state().tools).some((tool) => tool.name === name);
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    const state = this.state();
    const index = this.#describe(state.tools).findIndex((tool) => tool.name === name);
    const tool = state.tools[index];
    if (!tool) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    if (!state.attached || !state.visible) return fail("device_unavailable", this.#unavailable());
    const { id, reserved } = this.#allocate(state);
    if (reserved !== state.next_id) this.ports.save({ ...state, next_id: reserved });
    const reply = new Promise<Result<ToolResult>>((resolve) => {
      this.#pending.set(id, { name: tool.name, resolve, deadline_ms: this.ports.now() + this.ports.callTimeoutMs });
      if (!this.#sweep) this.#watch(id, this.ports.callTimeoutMs);
    });
    // Forwarded exactly as given: the peer validates its own arguments and says what is wrong.
    if (!this.ports.send(toolsCallRequest(id, tool.name, args))) this.#settle(id, fail("device_unavailable", this.#unavailable()));
    return reply;
  }

  #describe(tools: readonly PeerTool[]): ToolDescriptor[] {
    if (this.#described?.tools !== tools) this.#described = { tools, descriptors: this.dialect.describe(tools) };
    return this.#described.descriptors;
  }

  #unavailable(): string {
    return this.dialect.source === "device" ? "No device relay is attached to this session" : "The tool provider is not connected";
  }

  #watch(id: number, delayMs: number): void {
    this.#sweep = { id, timer: setTimeout(() => this.#expire(id), Math.max(0, delayMs)) };
  }

  /** The watched call's time is up: time it out if it is still pending, then watch the oldest remaining one. */
  #expire(id: number): void {
    this.#sweep = undefined;
    const call = this.#pending.get(id);
    if (call) this.#timeOut(id, call.name);
    const [next] = this.#pending;
    if (next) this.#watch(next[0], next[1].deadline_ms - this.ports.now());
  }

  #timeOut(id: number, name: string): void {
    this.ports.log("warn", "peer.call_timeout", { id, tool: name, timeout_ms: this.ports.callTimeoutMs });
    this.#settle(id, fail("timeout", `No answer to ${name} within ${this.ports.callTimeoutMs} ms`));
  }

  /**
   * The next id, and the reservation to store with the next save: unchanged while the block lasts, one block
   * further when it runs out.
   */
  #allocate(state: PeerState): { id: number; reserved: number } {
    const id = this.#nextId ?? state.next_id;
    this.#nextId = id + 1;
    return { id, reserved: id < state.next_id ? state.next_id : id + ID_BLOCK };
  }

  /** Resolves a call once and forgets it, so a late or duplicate reply finds nothing to resolve. */
  #settle(id: number, result: Result<ToolResult>): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.resolve(result);
  }

  #failPending(reason: string): void {
    clearTimeout(this.#sweep?.timer);
    this.#sweep = undefined;
    for (const [id, pending] of this.#pending) {
      pending.resolve({ ok: false, error: appError("device_unavailable", reason) });
      this.#pending.delete(id);
    }
  }

  #onNotification(payload: Record<string, unknown>): void {
    const notification = PeerNotification.safeParse(payload);
    if (!notification.success || notification.data.method !== "notifications/tools/list_changed") return;
    const state = this.state();
    if (!state.attached || state.handshake) return; // a listing already in progress will see the change
    this.ports.log("info", "peer.tools_list_changed");
    this.#requestPage({ ...state, phase: "listing", partial: [] }, undefined, 0);
  }

  #onReply(reply: PeerResponse): void {
    const state = this.state();
    const handshake = state.handshake;
    if (handshake?.kind === "initialize" && reply.id === INITIALIZE_ID) return this.#onInitialized(state, reply);
    if (handshake?.kind === "list" && reply.id === handshake.id) return this.#onPage(state, reply);
    const call = this.#pending.get(reply.id);
    if (call) return this.#settle(reply.id, ok(this.dialect.toResult(call.name, reply)));
    // Late (timed out), duplicate, unknown, or its caller is gone (the object was evicted meanwhile).
    this.count("ignored_replies");
  }

  #onInitialized(state: PeerState, reply: PeerResponse): void {
    const serverInfo = "result" in reply ? (InitializeResult.safeParse(reply.result).data?.serverInfo ?? null) : null;
    if ("error" in reply) this.ports.log("warn", "peer.initialize_error", { message: reply.error.message });
    if (this.dialect.sendInitialized) this.ports.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    this.#requestPage({ ...state, phase: "listing", server_info: serverInfo, partial: [] }, undefined, 0);
  }

  #onPage(state: PeerState, reply: PeerResponse): void {
    const pages = (state.handshake?.pages ?? 0) + 1;
    if ("error" in reply) {
      // Keep what arrived: one bad page must not cost the peer all its tools.
      this.ports.log("warn", "peer.list_page_error", { message: reply.error.message, pages });
      return this.#complete(state);
    }
    const page = ToolsListResult.safeParse(reply.result);
    if (!page.success) {
      this.ports.log("warn", "peer.list_page_malformed", { pages });
      return this.#complete(state);
    }
    const next = { ...state, partial: [...state.partial, ...acceptTools(page.data.tools)] };
    const cursor = page.data.nextCursor;
    if (!cursor || cursor === state.handshake?.cursor || pages >= MAX_PAGES) return this.#complete(next);
    this.#requestPage(next, cursor, pages);
  }

  #startHandshake(state: PeerState, params: Record<string, unknown>): void {
    const handshake = { kind: "initialize" as const, id: INITIALIZE_ID, pages: 0, deadline_ms: this.ports.now() + this.ports.listTimeoutMs };
    this.ports.save({ ...state, phase: "initializing", handshake, partial: [] });
    this.ports.send(initializeRequest(params));
  }

  #requestPage(state: PeerState, cursor: string | undefined, pages: number): void {
    const { id, reserved } = this.#allocate(state);
    const handshake = { kind: "list" as const, id, pages, deadline_ms: this.ports.now() + this.ports.listTimeoutMs, ...(cursor ? { cursor } : {}) };
    this.ports.save({ ...state, next_id: reserved, handshake });
    this.ports.send(toolsListRequest(id, cursor));
  }

  #complete(state: PeerState): void {
    this.ports.save({ ...state, phase: "ready", handshake: null, tools: state.partial, partial: [], visible: true });
    this.ports.log("info", "peer.tools_ready", { tools: state.partial.length });
    this.ports.onToolsChanged?.();
  }
}
