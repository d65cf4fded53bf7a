/**
 * The channels a gateway can relay device frames over — a hibernatable WebSocket, or server-sent events
 * for gateways that cannot hold one — behind one `send`. Which relay is current is persisted (an evicted
 * object must still find its socket); SSE frames also go to a bounded outbox so a gateway that reconnects
 * with `Last-Event-ID` misses nothing.
 */
import { z } from "zod";
import type { ObjectHost } from "../../core/host";
import { storedValue, type StoredValue } from "../../core/stored-value";
import { closeQuietly, sendQuietly } from "../../core/websocket";

export const RelayRecord = z.object({
  channel: z.enum(["websocket", "sse"]),
  generation: z.int(),
  /** SSE only: the last event id used, and the frames not yet known to be delivered. */
  seq: z.int(),
  outbox: z.array(z.object({ id: z.int(), frame: z.string() })),
});
export type RelayRecord = z.infer<typeof RelayRecord>;

const RELAY_KEY = "relay";
const OUTBOX_LIMIT = 256;
/**
 * A comment line this often on an SSE relay. Its first purpose is to notice a gateway that went away: the
 * runtime learns of a closed HTTP connection only when a write to it fails (measured under wrangler dev: a
 * 15 s ping noticed a drop after 30 s; at 1 s, after about 2 s, where a WebSocket close takes ~50 ms). It also
 * keeps idle-stream timeouts of proxies (about 5 minutes at the edge) away.
 */
const SSE_PING_MS = 1_000;

export const relayTag = (generation: number) => `relay-${generation}`;

interface LiveStream {
  generation: number;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  ping: ReturnType<typeof setInterval>;
}

export class RelayChannel {
  readonly #encoder = new TextEncoder();
  readonly #record: StoredValue<RelayRecord>;
  #stream: LiveStream | undefined;

  constructor(
    private readonly host: Pick<ObjectHost, "kv" | "sockets">,
    private readonly onStreamGone: (generation: number) => void,
  ) {
    this.#record = storedValue(host.kv, RELAY_KEY, RelayRecord);
  }

  current(): RelayRecord | undefined {
    return this.#record.load();
  }

  isCurrentSocket(ws: WebSocket): boolean {
    const relay = this.current();
    return relay?.channel === "websocket" && this.host.sockets.tags(ws).includes(relayTag(relay.generation));
  }

  /** Makes `ws` the relay of `generation`, closing any socket it replaces. */
  acceptSocket(ws: WebSocket, generation: number): void {
    const previous = this.host.sockets.sockets();
    this.host.sockets.accept(ws, [relayTag(generation)]);
    this.#record.save({ channel: "websocket", generation, seq: 0, outbox: [] });
    this.#closeStream();
    for (const old of previous) closeQuietly(old, 4001, "replaced by a new relay");
  }

  /** Opens an SSE stream as the relay of `generation`, or resumes the current SSE relay after `lastEventId`. */
  openStream(generation: number, lastEventId: number | undefined): ReadableStream<Uint8Array> {
    const resumed = this.current();
    const resume = lastEventId !== undefined && resumed?.channel === "sse" && resumed.generation === generation;
    const record: RelayRecord = resume && resumed ? resumed : { channel: "sse", generation, seq: 0, outbox: [] };
    this.#record.save(record);
    for (const old of this.host.sockets.sockets()) closeQuietly(old, 4001, "replaced by a new relay");
    this.#closeStream();

    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const ping = setInterval(() => void writer.write(this.#encoder.encode(": ping\n\n")).catch(() => undefined), SSE_PING_MS);
    this.#stream = { generation, writer, ping };
    // A cancelled response body errors the writer: that is how a gone gateway shows up.
    writer.closed.catch(() => this.#streamGone(generation));
    void writer.write(this.#encoder.encode(": relay open\n\n")).catch(() => undefined);
    for (const entry of record.outbox) if (lastEventId === undefined || entry.id > lastEventId) this.#write(entry.id, entry.frame);
    return readable;
  }

  /** Sends one frame to the current relay; false if none can take it. */
  send(frame: string): boolean {
    const relay = this.current();
    if (!relay) return false;
    if (relay.channel === "websocket") {
      const [socket] = this.host.sockets.sockets(relayTag(relay.generation));
      return socket ? sendQuietly(socket, frame) : false;
    }
    const id = relay.seq + 1;
    const outbox = [...relay.outbox, { id, frame }].slice(-OUTBOX_LIMIT);
    this.#record.save({ ...relay, seq: id, outbox });
    if (this.#stream?.generation === relay.generation) this.#write(id, frame);
    return true;
  }

  /** Ends every relay of the session (unbind, expiry). */
  closeAll(code: number, reason: string): void {
    for (const socket of this.host.sockets.sockets()) closeQuietly(socket, code, reason);
    this.#closeStream();
    this.host.kv.delete(RELAY_KEY);
    this.#record.forget();
  }

  #write(id: number, frame: string): void {
    void this.#stream?.writer.write(this.#encoder.encode(`id: ${id}\nevent: mcp\ndata: ${frame}\n\n`)).catch(() => undefined);
  }

  #streamGone(generation: number): void {
    if (this.#stream?.generation !== generation) return;
    clearInterval(this.#stream.ping);
    this.#stream = undefined;
    this.onStreamGone(generation);
  }

  #closeStream(): void {
    if (!this.#stream) return;
    const stream = this.#stream;
    this.#stream = undefined;
    clearInterval(stream.ping);
    void stream.writer.close().catch(() => undefined);
  }
}
