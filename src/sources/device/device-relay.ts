/**
 * The device source's transport glue: the relay a gateway attaches (WebSocket or SSE + POST), our MCP client
 * of the ESP32 behind it ({@link PeerClient}), and the device's tools ({@link DeviceTools}). Frames are checked
 * (size, depth, shape) at constant cost; an oversized reply fails the call it answers at once; on wake the
 * stored relay is reconciled with the live sockets. Runs inside the session's object; knows its ports only.
 */
import type { ServiceConfig } from "../../core/config";
import { appError } from "../../core/errors";
import type { ObjectHost } from "../../core/host";
import { storedValue } from "../../core/stored-value";
import { log, type LogFields } from "../../observability/log";
import { StoredNames } from "../../tools/naming";
import { FrameFaultLog, readFrame } from "../../tools/peer/frame-intake";
import { PeerClient } from "../../tools/peer/peer-client";
import { PeerState } from "../../tools/peer/peer-state";
import { deviceInitializeParams, envelope, Envelope } from "./device-protocol";
import { DeviceTools } from "./device-tools";
import { RelayChannel, relayTag } from "./relay-channel";

const DEVICE_KEY = "device";
const DEVICE_NAMES_KEY = "device-names";

export interface Vision {
  url: string;
  token: string;
}

export interface DeviceRelayPorts {
  host: ObjectHost;
  config: ServiceConfig;
  /** The session id the envelope carries (the device ignores it on input). */
  sessionId(): string;
  /** The tools the LLM sees changed (handshake done, relay gone). */
  onToolsChanged(): void;
  /** A relay attached or detached (metrics). */
  onRelayEvent(kind: "relay_attached" | "relay_detached"): void;
}

export class DeviceRelay {
  readonly client: PeerClient;
  readonly tools: DeviceTools;
  readonly #state;
  readonly #names;
  readonly #relay: RelayChannel;
  readonly #faults: FrameFaultLog;

  constructor(private readonly ports: DeviceRelayPorts) {
    const { host, config } = ports;
    this.#state = storedValue(host.kv, DEVICE_KEY, PeerState);
    this.#names = storedValue(host.kv, DEVICE_NAMES_KEY, StoredNames);
    this.#relay = new RelayChannel(host, (generation) => this.#gone(generation, "SSE relay stream closed"));
    const fields = (extra?: LogFields): LogFields => ({ session_id: ports.sessionId(), ...extra });
    this.client = new PeerClient({
      load: this.#state.load,
      save: this.#state.save,
      send: (message) => this.#relay.send(envelope(ports.sessionId(), message)),
      now: Date.now,
      callTimeoutMs: config.device.call_timeout_ms,
      listTimeoutMs: config.device.list_timeout_ms,
      log: (level, event, extra) => log(level, event, fields(extra)),
      onToolsChanged: ports.onToolsChanged,
      // The firmware ignores notifications, and today's servers never send `notifications/initialized`.
      sendInitialized: false,
      unavailableMessage: "No device relay is attached to this session",
    });
    this.tools = new DeviceTools(this.client, this.#names, { keepCjk: config.naming.keep_cjk });
    this.#faults = new FrameFaultLog((level, event, extra) => log(level, event, fields(extra)));
  }

  /**
   * Storage says what the object had before it slept or the runtime restarted; only the live sockets say
   * which relay is still there. One that did not survive is detached now, before anything is served, so its
   * tools are neither shown nor offered. An SSE relay never outlives the instance that streams it.
   */
  reconcile(): void {
    if (!this.client.state().attached) return;
    const relay = this.#relay.current();
    if (relay?.channel === "websocket" && this.ports.host.sockets.sockets(relayTag(relay.generation)).length > 0) return;
    this.client.detach("The device relay did not survive a restart");
    log("info", "relay.reconciled", { session_id: this.ports.sessionId(), channel: relay?.channel ?? "none" });
  }

  /** The gateway's relay WebSocket: it replaces any relay before it (closed with 4001). */
  attachSocket(server: WebSocket, vision: Vision): void {
    const generation = this.client.state().generation + 1;
    this.#relay.acceptSocket(server, generation);
    this.client.attach(deviceInitializeParams(vision));
    log("info", "relay.attached", { session_id: this.ports.sessionId(), channel: "websocket", generation });
    this.ports.onRelayEvent("relay_attached");
  }

  /** The gateway's SSE relay, or the same one resumed after `Last-Event-ID` (nothing missed). */
  openStream(lastEventId: number | undefined, vision: Vision): ReadableStream<Uint8Array> {
    const current = this.#relay.current();
    const resuming = lastEventId !== undefined && current?.channel === "sse" && this.client.state().attached;
    const stream = this.#relay.openStream(resuming && current ? current.generation : this.client.state().generation + 1, lastEventId);
    if (!resuming) this.client.attach(deviceInitializeParams(vision));
    this.ports.onRelayEvent("relay_attached");
    return stream;
  }

  /** A frame from the relay WebSocket; false when it was not the current relay's or was refused. */
  socketMessage(ws: WebSocket, message: string | ArrayBuffer): boolean {
    if (!this.#relay.isCurrentSocket(ws)) return false; // a replaced relay's late frames
    return this.intake(typeof message === "string" ? message : new TextDecoder().decode(message));
  }

  socketClosed(ws: WebSocket, reason: string): void {
    if (this.#relay.isCurrentSocket(ws)) this.#gone(this.#relay.current()?.generation ?? 0, reason);
  }

  /**
   * Size-, depth- and shape-checks one frame and hands it to the device client. Bad frames cost constant
   * work (no storage write, one aggregated warning per window); an oversized reply fails its call at once.
   */
  intake(frame: string): boolean {
    const { limits } = this.ports.config;
    const read = readFrame(frame, { maxBytes: limits.max_frame_bytes, maxDepth: limits.max_json_depth });
    if (read.kind === "oversized") {
      this.#faults.record("oversized");
      this.client.count("dropped_frames");
      this.client.rejectReply(read.id, appError("upstream_error", `The device's reply (${read.bytes} bytes) exceeds limits.max_frame_bytes (${limits.max_frame_bytes})`));
      return false;
    }
    const frameEnvelope = read.kind === "json" ? Envelope.safeParse(read.value) : undefined;
    if (!frameEnvelope?.success) {
      this.#faults.record(read.kind === "json" ? "not_a_message" : read.kind);
      this.client.count("malformed_frames");
      return false;
    }
    this.client.receive(frameEnvelope.data.payload);
    return true;
  }

  /** A reply relayed over HTTP was refused for its size before it could be read. */
  oversized(limitBytes: number): void {
    this.#faults.record("oversized");
    this.client.rejectReply(undefined, appError("upstream_error", `The device's reply exceeds the relay's body limit (${limitBytes} bytes)`));
  }

  /** The device must learn a new vision endpoint: only `initialize` carries it. */
  rebound(vision: Vision): void {
    if (this.client.state().attached) this.client.rehandshake(deviceInitializeParams(vision));
  }

  /** Another device took the session over: its predecessor's tools and names must not carry over. */
  forget(): void {
    this.tools.forget();
  }

  /** The session ends: relays closed, calls in flight failed, stored state dropped with the rest. */
  close(reason: string): void {
    this.client.detach(`Session ${reason}`);
    this.#relay.closeAll(4000, `session ${reason}`);
    this.#state.forget();
    this.#names.forget();
  }

  #gone(generation: number, reason: string): void {
    if (this.#relay.current()?.generation !== generation) return;
    this.client.detach(reason);
    log("info", "relay.detached", { session_id: this.ports.sessionId(), reason });
    this.ports.onRelayEvent("relay_detached");
  }
}
