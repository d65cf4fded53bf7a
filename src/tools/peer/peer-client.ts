/**
 * Our MCP client of a peer that connected to us and acts as the MCP server — an ESP32 behind its gateway's
 * relay, or a tool provider dialing in. It runs the handshake (initialize, then every `tools/list` page),
 * matches replies to requests by integer id, and answers with the peer's raw tools and replies: naming them
 * for the LLM and mapping results is the tool source's business (tools/naming.ts, the sources).
 *
 * The protocol state (phase, handshake, tools, the id reservation) lives in a store the Durable Object
 * persists. Calls in flight live in memory only: each belongs to a request that keeps the object alive while
 * it waits, and a reply that outlives its caller (an eviction meanwhile) has no one to go to — it is counted as
 * ignored. So a tool call writes nothing: ids come from a block reserved in storage once per {@link ID_BLOCK}
 * ids. Counters of bad frames are kept in memory too: a flood of garbage must cost no storage write.
 */
import { appError, fail, ok, type AppError, type Result } from "../../core/errors";
import type { RelayStatus } from "../../core/schemas";
import type { LogFields, LogLevel } from "../../observability/log";
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

export interface PeerPorts {
  load(): PeerState | undefined;
  save(state: PeerState): void;
  /** Sends to the peer's current connection; false when there is none (or it is closing). */
  send(message: JsonRpcOutbound): boolean;
  now(): number;
  callTimeoutMs: number;
  listTimeoutMs: number;
  log(level: LogLevel, event: string, fields?: LogFields): void;
  /** The tools the peer offers changed (handshake done with other tools, connection gone). */
  onToolsChanged?(): void;
  /** Send `notifications/initialized` after initialize, as MCP asks (xiaozhi firmware does not need it). */
  sendInitialized: boolean;
  /** Whose connection is missing, for the error a call gets then. */
  unavailableMessage: string;
}

export type PeerCounter = "malformed_frames" | "dropped_frames" | "ignored_replies";

interface PendingCall {
  resolve(result: Result<PeerResponse>): void;
  deadline_ms: number;
  timeout_ms: number;
  /** The peer's tool name (or the request method), for messages. */
  what: string;
}

export class PeerClient {
  /** Calls in flight, oldest first: every call gets the same timeout, so insertion order is deadline order. */
  readonly #pending = new Map<number, PendingCall>();
  /**
   * One timer for all calls in flight, set for the oldest one it knows; when it fires it times out that call if
   * still pending and moves on to the oldest remaining. A steady stream of calls thus costs a timer per timeout
   * period, not a set and a clear per call. It may outlive the last call by up to one timeout.
   */
  #sweep: { id: number; timer: ReturnType<typeof setTimeout> } | undefined;
  /** Next id to hand out; below the stored reservation `next_id`. Unknown until the state is first read. */
  #nextId: number | undefined;
  readonly #counters: Record<PeerCounter, number> = { malformed_frames: 0, dropped_frames: 0, ignored_replies: 0 };
  /** When the peer last sent anything (this instance's knowledge; unknown after an eviction). */
  #lastHeardMs: number | undefined;

  constructor(private readonly ports: PeerPorts) {}

  state(): PeerState {
    return this.ports.load() ?? initialPeerState();
  }

  status(): RelayStatus {
    const state = this.state();
    return {
      attached: state.attached,
      phase: state.phase,
      server_info: state.server_info,
      tool_count: state.visible ? state.tools.length : 0,
      pending_calls: this.#pending.size,
    };
  }

  /** Bad frames seen by this instance (in memory only). */
  counters(): Readonly<Record<PeerCounter, number>> {
    return this.#counters;
  }

  /** The peer's tools the LLM may see now: empty while not attached or before the listing is complete. */
  tools(): readonly PeerTool[] {
    const state = this.state();
    return state.visible ? state.tools : [];
  }

  /** The last complete tool list, also while the peer is away (a call then fails with 503, not 404). */
  knownTools(): readonly PeerTool[] {
    return this.state().tools;
  }

  lastHeardMs(): number | undefined {
    return this.#lastHeardMs;
  }

  /** A new connection is now current: fail what the old one owed, and start a fresh handshake on it. */
  attach(initializeParams: Record<string, unknown>): number {
    const state = this.state();
    this.#failPending("Connection was replaced");
    const next: PeerState = { ...state, generation: state.generation + 1, attached: true, visible: false };
    this.#startHandshake(next, initializeParams);
    if (state.visible && state.tools.length > 0) this.ports.onToolsChanged?.();
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
    this.#lastHeardMs = undefined;
    if (!state.attached && !state.visible && state.handshake === null) return;
    this.ports.save({ ...state, attached: false, phase: "detached", visible: false, handshake: null, partial: [] });
    if (state.visible && state.tools.length > 0) this.ports.onToolsChanged?.();
  }

  /** Another peer took over: its predecessor's tools must not resolve any more. */
  forgetTools(): void {
    const state = this.state();
    this.ports.save({ ...state, tools: [], partial: [], visible: false, server_info: null });
  }

  count(counter: PeerCounter): void {
    this.#counters[counter] += 1;
  }

  /** One JSON-RPC message from the peer. Never throws. */
  receive(payload: Record<string, unknown>): void {
    this.#lastHeardMs = this.ports.now();
    if ("method" in payload) {
      if (!("id" in payload)) this.#onNotification(payload);
      return; // peers never send requests we serve; consumed without reply
    }
    const reply = PeerResponse.safeParse(payload);
    if (!reply.success) {
      this.count("malformed_frames");
      return;
    }
    this.#onReply(reply.data);
  }

  /**
   * A reply that cannot be read (over the frame limit): the call it answers fails now with `error`, instead
   * of waiting out its timeout. Without a readable id, the call is known only when it is the one in flight.
   */
  rejectReply(id: number | undefined, error: AppError): boolean {
    this.#lastHeardMs = this.ports.now();
    const target = id !== undefined && this.#pending.has(id) ? id : this.#pending.size === 1 ? [...this.#pending.keys()][0] : undefined;
    if (target === undefined) return false;
    this.#settle(target, { ok: false, error });
    return true;
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

  /** `tools/call` with the peer's own tool name and the caller's arguments, untouched; the raw reply. */
  callTool(tool: string, args: Record<string, unknown>): Promise<Result<PeerResponse>> {
    const state = this.state();
    if (!state.attached || !state.visible) return Promise.resolve(fail("device_unavailable", this.ports.unavailableMessage));
    return this.#request(state, tool, this.ports.callTimeoutMs, (id) => toolsCallRequest(id, tool, args));
  }

  /**
   * Whether the peer answers a `ping` within `timeoutMs`. Any reply counts, an error included (xiaozhi
   * firmware answers "Method not implemented": it is alive).
   */
  async ping(timeoutMs: number): Promise<boolean> {
    const state = this.state();
    if (!state.attached) return false;
    const reply = await this.#request(state, "ping", timeoutMs, (id) => ({ jsonrpc: "2.0", id, method: "ping" }));
    return reply.ok;
  }

  #request(state: PeerState, what: string, timeoutMs: number, message: (id: number) => JsonRpcOutbound): Promise<Result<PeerResponse>> {
    const { id, reserved } = this.#allocate(state);
    if (reserved !== state.next_id) this.ports.save({ ...state, next_id: reserved });
    const reply = new Promise<Result<PeerResponse>>((resolve) => {
      this.#pending.set(id, { what, resolve, deadline_ms: this.ports.now() + timeoutMs, timeout_ms: timeoutMs });
      if (!this.#sweep) this.#watch(id, timeoutMs);
      else if (timeoutMs < this.ports.callTimeoutMs) this.#rewatch();
    });
    if (!this.ports.send(message(id))) this.#settle(id, fail("device_unavailable", this.ports.unavailableMessage));
    return reply;
  }

  #watch(id: number, delayMs: number): void {
    this.#sweep = { id, timer: setTimeout(() => this.#expire(id), Math.max(0, delayMs)) };
  }

  /** A shorter deadline than the watched one arrived (a ping): watch the earliest again. */
  #rewatch(): void {
    clearTimeout(this.#sweep?.timer);
    this.#sweep = undefined;
    const earliest = this.#earliest();
    if (earliest) this.#watch(earliest[0], earliest[1].deadline_ms - this.ports.now());
  }

  #earliest(): [number, PendingCall] | undefined {
    let best: [number, PendingCall] | undefined;
    for (const entry of this.#pending) if (!best || entry[1].deadline_ms < best[1].deadline_ms) best = entry;
    return best;
  }

  /** The watched call's time is up: time it (and any other now due) out, then watch the earliest remaining one. */
  #expire(watched: number): void {
    this.#sweep = undefined;
    const now = this.ports.now();
    for (const [id, call] of [...this.#pending]) if (id === watched || call.deadline_ms <= now) this.#timeOut(id, call);
    const next = this.#earliest();
    if (next) this.#watch(next[0], next[1].deadline_ms - now);
  }

  #timeOut(id: number, call: PendingCall): void {
    this.ports.log("warn", "peer.call_timeout", { id, tool: call.what, timeout_ms: call.timeout_ms });
    this.#settle(id, fail("timeout", `No answer to ${call.what} within ${call.timeout_ms} ms`));
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
  #settle(id: number, result: Result<PeerResponse>): void {
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
    if (this.#pending.has(reply.id)) return this.#settle(reply.id, ok(reply));
    // Late (timed out), duplicate, unknown, or its caller is gone (the object was evicted meanwhile).
    this.count("ignored_replies");
  }

  #onInitialized(state: PeerState, reply: PeerResponse): void {
    const serverInfo = "result" in reply ? (InitializeResult.safeParse(reply.result).data?.serverInfo ?? null) : null;
    if ("error" in reply) this.ports.log("warn", "peer.initialize_error", { message: reply.error.message });
    if (this.ports.sendInitialized) this.ports.send({ jsonrpc: "2.0", method: "notifications/initialized" });
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
    const tools = uniqueByName(state.partial);
    const wasOffered = state.visible ? state.tools : [];
    this.ports.save({ ...state, phase: "ready", handshake: null, tools, partial: [], visible: true });
    this.ports.log("info", "peer.tools_ready", { tools: tools.length });
    // Only a real change is news: a reconnect that lists the same tools again changes nothing for the LLM.
    if (!sameTools(wasOffered, tools)) this.ports.onToolsChanged?.();
  }
}

/** A peer listing one name twice is answered by the first. */
function uniqueByName(tools: readonly PeerTool[]): PeerTool[] {
  const seen = new Set<string>();
  return tools.filter((tool) => (seen.has(tool.name) ? false : (seen.add(tool.name), true)));
}

function sameTools(a: readonly PeerTool[], b: readonly PeerTool[]): boolean {
  return a === b || (a.length === b.length && JSON.stringify(a) === JSON.stringify(b));
}
