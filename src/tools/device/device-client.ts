/**
 * The session's MCP client of its ESP32 device, over whatever relay the gateway attached. It runs the
 * handshake (initialize with the vision capability, then every `tools/list` page), matches replies to
 * requests by integer id, and turns tool calls into action results. All protocol state lives in a store the
 * Durable Object persists; only the promises of calls in flight live in memory, and those belong to requests
 * that keep the object alive while they wait.
 */
import { appError, fail, ok, type Result } from "../../core/errors";
import type { RelayStatus, ToolDescriptor, ToolResult } from "../../core/schemas";
import type { LogFields, LogLevel } from "../../observability/log";
import type { ToolArgs, ToolProvider } from "../tool-provider";
import {
  acceptTools,
  DeviceNotification,
  DeviceResponse,
  describeTools,
  INITIALIZE_ID,
  InitializeResult,
  initializeRequest,
  llmName,
  toolsCallRequest,
  toolsListRequest,
  ToolsListResult,
  toToolResult,
  type JsonRpcRequest,
} from "./device-protocol";
import { DeviceState, initialDeviceState } from "./device-state";

/** A listing that never ends is a device bug; stop after this many pages and keep what arrived. */
const MAX_PAGES = 64;

export interface DevicePorts {
  load(): DeviceState | undefined;
  save(state: DeviceState): void;
  /** Sends to the current relay; false when none is attached. */
  send(request: JsonRpcRequest): boolean;
  now(): number;
  callTimeoutMs: number;
  listTimeoutMs: number;
  log(level: LogLevel, event: string, fields?: LogFields): void;
  /** The catalogue the LLM sees changed (handshake done, relay gone). */
  onToolsChanged?(): void;
}

export interface Vision {
  url: string;
  token: string;
}

interface PendingCall {
  resolve(result: Result<ToolResult>): void;
  timer: ReturnType<typeof setTimeout>;
}

export class DeviceClient implements ToolProvider {
  readonly source = "device" as const;
  readonly #pending = new Map<number, PendingCall>();

  constructor(private readonly ports: DevicePorts) {}

  state(): DeviceState {
    return this.ports.load() ?? initialDeviceState();
  }

  status(): RelayStatus {
    const state = this.state();
    return {
      attached: state.attached,
      phase: state.phase,
      server_info: state.server_info,
      tool_count: state.visible ? describeTools(state.tools).length : 0,
      pending_calls: Object.keys(state.calls).length,
    };
  }

  /** A new relay is now current: fail what the old one owed, and start a fresh handshake on the new one. */
  attach(vision: Vision): number {
    const state = this.state();
    this.#failPending("Device relay was replaced");
    const next: DeviceState = { ...state, generation: state.generation + 1, attached: true, visible: false, calls: {} };
    this.#startHandshake(next, vision);
    this.ports.onToolsChanged?.();
    return next.generation;
  }

  /** Rebinding while attached: the device needs a fresh initialize to learn the new vision url/token. */
  rehandshake(vision: Vision): void {
    const state = this.state();
    if (state.attached) this.#startHandshake({ ...state }, vision);
  }

  /** The relay is gone: pending calls fail now, not after their timeout, and device tools leave the catalogue. */
  detach(reason: string): void {
    const state = this.state();
    this.#failPending(reason);
    this.ports.save({ ...state, attached: false, phase: "detached", visible: false, handshake: null, partial: [], calls: {} });
    if (state.visible) this.ports.onToolsChanged?.();
  }

  /** Another device took the session: its predecessor's tool names must not resolve any more. */
  forgetTools(): void {
    const state = this.state();
    this.ports.save({ ...state, tools: [], partial: [], visible: false, server_info: null });
  }

  count(counter: keyof DeviceState["counters"]): void {
    const state = this.state();
    this.ports.save({ ...state, counters: { ...state.counters, [counter]: state.counters[counter] + 1 } });
  }

  /** One JSON-RPC message from the device (the envelope's payload). Never throws. */
  receive(payload: Record<string, unknown>): void {
    if ("method" in payload) {
      if (!("id" in payload)) this.#onNotification(payload);
      return; // the device never sends requests we serve; consumed without reply
    }
    const reply = DeviceResponse.safeParse(payload);
    if (!reply.success) {
      this.count("malformed_frames");
      this.ports.log("warn", "device.malformed_reply", { id: typeof payload.id === "string" ? "string" : typeof payload.id });
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
    this.ports.log("warn", "device.handshake_timeout", { step: state.handshake.kind, tools: state.partial.length });
    this.#complete(state);
  }

  async list(): Promise<ToolDescriptor[]> {
    const state = this.state();
    return state.visible ? describeTools(state.tools) : [];
  }

  claims(name: string): boolean {
    return describeTools(this.state().tools).some((tool) => tool.name === name);
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    const state = this.state();
    const tool = state.tools.find((candidate) => llmName(candidate.name) === name);
    if (!tool) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    if (!state.attached || !state.visible) return fail("device_unavailable", "No device relay is attached to this session");
    const id = state.next_id;
    const deadline = this.ports.now() + this.ports.callTimeoutMs;
    this.ports.save({ ...state, next_id: id + 1, calls: { ...state.calls, [id]: { name: tool.name, deadline_ms: deadline } } });
    const reply = new Promise<Result<ToolResult>>((resolve) => {
      const timer = setTimeout(() => this.#timeOut(id, tool.name), this.ports.callTimeoutMs);
      this.#pending.set(id, { resolve, timer });
    });
    // Forwarded exactly as given: the device validates its own arguments and says what is wrong.
    if (!this.ports.send(toolsCallRequest(id, tool.name, args))) this.#settle(id, fail("device_unavailable", "Device relay is gone"));
    return reply;
  }

  #timeOut(id: number, name: string): void {
    this.ports.log("warn", "device.call_timeout", { id, tool: name, timeout_ms: this.ports.callTimeoutMs });
    this.#settle(id, fail("timeout", `Device did not answer ${name} within ${this.ports.callTimeoutMs} ms`));
  }

  /** Resolves a call once and forgets it, so a late or duplicate reply finds nothing to resolve. */
  #settle(id: number, result: Result<ToolResult>): void {
    const state = this.state();
    if (String(id) in state.calls) {
      const { [String(id)]: _done, ...calls } = state.calls;
      this.ports.save({ ...state, calls });
    }
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(result);
  }

  #failPending(reason: string): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, error: appError("device_unavailable", reason) });
      this.#pending.delete(id);
    }
  }

  #onNotification(payload: Record<string, unknown>): void {
    const notification = DeviceNotification.safeParse(payload);
    if (!notification.success || notification.data.method !== "notifications/tools/list_changed") return;
    const state = this.state();
    if (!state.attached || state.handshake) return; // a listing already in progress will see the change
    this.ports.log("info", "device.tools_list_changed");
    this.#requestPage({ ...state, phase: "listing", partial: [] }, undefined, 0);
  }

  #onReply(reply: DeviceResponse): void {
    const state = this.state();
    const handshake = state.handshake;
    if (handshake?.kind === "initialize" && reply.id === INITIALIZE_ID) return this.#onInitialized(state, reply);
    if (handshake?.kind === "list" && reply.id === handshake.id) return this.#onPage(state, reply);
    const call = state.calls[String(reply.id)];
    // A call whose caller is gone (the object was evicted meanwhile) is simply forgotten by #settle.
    if (call) return this.#settle(reply.id, ok(toToolResult(call.name, reply)));
    this.count("ignored_replies");
  }

  #onInitialized(state: DeviceState, reply: DeviceResponse): void {
    const serverInfo = "result" in reply ? (InitializeResult.safeParse(reply.result).data?.serverInfo ?? null) : null;
    if ("error" in reply) this.ports.log("warn", "device.initialize_error", { message: reply.error.message });
    this.#requestPage({ ...state, phase: "listing", server_info: serverInfo, partial: [] }, undefined, 0);
  }

  #onPage(state: DeviceState, reply: DeviceResponse): void {
    const pages = (state.handshake?.pages ?? 0) + 1;
    if ("error" in reply) {
      // Keep what arrived: one bad page must not cost the device all its tools.
      this.ports.log("warn", "device.list_page_error", { message: reply.error.message, pages });
      return this.#complete(state);
    }
    const page = ToolsListResult.safeParse(reply.result);
    if (!page.success) {
      this.ports.log("warn", "device.list_page_malformed", { pages });
      return this.#complete(state);
    }
    const next = { ...state, partial: [...state.partial, ...acceptTools(page.data.tools)] };
    const cursor = page.data.nextCursor;
    if (!cursor || cursor === state.handshake?.cursor || pages >= MAX_PAGES) return this.#complete(next);
    this.#requestPage(next, cursor, pages);
  }

  #startHandshake(state: DeviceState, vision: Vision): void {
    const handshake = { kind: "initialize" as const, id: INITIALIZE_ID, pages: 0, deadline_ms: this.ports.now() + this.ports.listTimeoutMs };
    this.ports.save({ ...state, phase: "initializing", handshake, partial: [] });
    this.ports.send(initializeRequest(vision));
  }

  #requestPage(state: DeviceState, cursor: string | undefined, pages: number): void {
    const id = state.next_id;
    const handshake = { kind: "list" as const, id, pages, deadline_ms: this.ports.now() + this.ports.listTimeoutMs, ...(cursor ? { cursor } : {}) };
    this.ports.save({ ...state, next_id: id + 1, handshake });
    this.ports.send(toolsListRequest(id, cursor));
  }

  #complete(state: DeviceState): void {
    this.ports.save({ ...state, phase: "ready", handshake: null, tools: state.partial, partial: [], visible: true });
    this.ports.log("info", "device.tools_ready", { tools: state.partial.length });
    this.ports.onToolsChanged?.();
  }
}
