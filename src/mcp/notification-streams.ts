/**
 * The 2025-era notification stream (a GET on the MCP endpoint, server-sent events): how a legacy client hears
 * `notifications/tools/list_changed`. The v2 SDK's stateless legacy mode answers that GET with 405 (it keeps no
 * connection state); the object that owns a catalogue's changes serves it here instead, beside the SDK's own
 * `subscriptions/listen` streams for 2026-07-28 clients.
 *
 * Each stream gets a keep-alive comment on one shared timer: it keeps idle-stream timeouts (about 5 minutes at
 * the edge) away, and a client that went away is noticed when that write fails (the runtime learns of a
 * closed HTTP connection only then).
 */
const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(": keepalive\n\n");

export class NotificationStreams {
  readonly #writers = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly keepAliveMs: number,
    private readonly limit: number,
  ) {}

  get size(): number {
    return this.#writers.size;
  }

  /** A new stream, or undefined when this object already holds `limit` of them. */
  open(): Response | undefined {
    if (this.#writers.size >= this.limit) return undefined;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    this.#writers.add(writer);
    // The client closing its end errors the writer: forget it then.
    writer.closed.catch(() => undefined).finally(() => this.#forget(writer));
    this.#arm();
    // The first bytes go out at once, so the client (and any proxy) sees the stream open.
    this.#write(writer, KEEP_ALIVE);
    return new Response(readable, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
  }

  /** Sends one JSON-RPC notification to every open stream. */
  broadcast(message: unknown): void {
    const frame = encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    for (const writer of this.#writers) this.#write(writer, frame);
  }

  closeAll(): void {
    for (const writer of [...this.#writers]) {
      this.#forget(writer);
      writer.close().catch(() => undefined);
    }
  }

  #write(writer: WritableStreamDefaultWriter<Uint8Array>, bytes: Uint8Array): void {
    writer.write(bytes).catch(() => this.#forget(writer));
  }

  #forget(writer: WritableStreamDefaultWriter<Uint8Array>): void {
    this.#writers.delete(writer);
    if (this.#writers.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(): void {
    this.#timer ??= setInterval(() => {
      for (const writer of this.#writers) this.#write(writer, KEEP_ALIVE);
    }, this.keepAliveMs);
  }
}
