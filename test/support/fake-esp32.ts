/**
 * The fake ESP32 (test/fixtures/fake-esp32.ts) connected to the Worker inside workerd, the two ways a gateway
 * can relay: the relay WebSocket, or server-sent events + POST /messages.
 */
import { exports } from "cloudflare:workers";
import { FakeEsp32Core, type Payload } from "../fixtures/fake-esp32";
import { BASE, TOKEN } from "./api";

export { standardTools, type Content, type FakeOptions, type FakeTool } from "../fixtures/fake-esp32";

export class FakeEsp32 extends FakeEsp32Core {
  /** Connects through the relay WebSocket, as a gateway forwarding frames verbatim would. */
  async attachWebSocket(sessionId: string, token = TOKEN): Promise<WebSocketRelay> {
    const response = await exports.default.fetch(
      new Request(`${BASE}/api/v1/mcp/sessions/${sessionId}/device`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
    );
    const ws = response.webSocket;
    if (!ws) throw new Error(`relay refused: ${response.status} ${await response.text()}`);
    const relay = new WebSocketRelay(ws);
    ws.accept();
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string; payload: Payload };
      void this.handle(frame.payload).then((reply) => {
        if (reply && relay.open) ws.send(JSON.stringify({ session_id: this.sessionId, type: "mcp", payload: reply }));
      });
    });
    return relay;
  }

  /** Connects through server-sent events + POST /messages, for gateways that cannot hold a WebSocket. */
  async attachSse(sessionId: string, options: { lastEventId?: number } = {}): Promise<SseRelay> {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
    if (options.lastEventId !== undefined) headers["last-event-id"] = String(options.lastEventId);
    const response = await exports.default.fetch(new Request(`${BASE}/api/v1/mcp/sessions/${sessionId}/device/events`, { headers }));
    if (!response.ok || !response.body) throw new Error(`relay refused: ${response.status} ${await response.text()}`);
    const relay = new SseRelay(response.body);
    void relay.pump(async (frame) => {
      const reply = await this.handle((JSON.parse(frame) as { payload: Payload }).payload);
      if (reply && relay.open) await postFrames(sessionId, [{ session_id: this.sessionId, type: "mcp", payload: reply }]);
    });
    return relay;
  }
}

export class WebSocketRelay {
  open = true;
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.addEventListener("close", (event) => {
        this.open = false;
        resolve({ code: event.code, reason: event.reason });
      }),
    );
  }
  /** Sends a raw frame as the gateway would forward it. */
  sendRaw(frame: string): void {
    this.ws.send(frame);
  }
  close(): void {
    this.open = false;
    this.ws.close(1000, "gateway closing");
  }
}

export class SseRelay {
  open = true;
  /** Every SSE event id received, in order. */
  readonly eventIds: number[] = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }
  async pump(onFrame: (frame: string) => Promise<void>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(event)?.[1];
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (id) this.eventIds.push(Number(id));
          if (data) await onFrame(data);
        }
      }
    } catch {
      // stream cancelled
    }
    this.open = false;
  }
  async close(): Promise<void> {
    this.open = false;
    await this.#reader.cancel().catch(() => undefined);
  }
}

export async function postFrames(sessionId: string, frames: unknown[]): Promise<Response> {
  return exports.default.fetch(
    new Request(`${BASE}/api/v1/mcp/sessions/${sessionId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ frames }),
    }),
  );
}

