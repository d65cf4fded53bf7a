/**
 * A fake ESP32 written from ../shared/spec/xiaozhi-mcp.md §1–§2: an MCP server that speaks JSON-RPC inside the
 * xiaozhi envelope, drops requests whose id is missing or not an integer, answers errors with a message and
 * no code, cuts `tools/list` pages at about 8,000 bytes with `nextCursor` = the next tool's name, ignores
 * notifications, and runs tool calls one at a time. It is transport-free: `attachWebSocket` and `attachSse`
 * connect it to the service the two ways a gateway can relay.
 */
import { exports } from "cloudflare:workers";
import { BASE, TOKEN } from "./api";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Payload = Record<string, Json>;
export type Content = { type: string; [key: string]: Json };

export interface FakeTool {
  name: string;
  description: string;
  inputSchema: Payload;
  annotations?: Payload;
  run(args: Record<string, Json>, device: FakeEsp32): Content[] | { error: string };
}

export interface FakeOptions {
  /** Page budget in bytes of JSON; the firmware uses about 8,000. */
  pageBytes?: number;
  /** Never answer tools/call (a hung device). */
  silent?: boolean;
  /** How long each call takes; calls still run one at a time. */
  callDelayMs?: number;
  /** Answer this page number (1-based) of tools/list with an error. */
  failPage?: number;
  /** List user-only tools too, as a misbehaving firmware would. */
  leakUserTools?: boolean;
  /** Reply to tools/call with "Unknown tool" for these names, as if the device forgot them. */
  forget?: string[];
}

export class FakeEsp32 {
  /** Every JSON-RPC message the device received, in order. */
  readonly received: Payload[] = [];
  vision: { url: string; token: string } | undefined;
  /** The device puts its stored session id on output. */
  sessionId = "";
  #queue: Promise<unknown> = Promise.resolve();
  #listPages = 0;

  constructor(
    public tools: FakeTool[],
    public options: FakeOptions = {},
  ) {}

  /** Handles one incoming payload; resolves to the reply payload, or undefined when the device stays silent. */
  handle(payload: Payload): Promise<Payload | undefined> {
    this.received.push(payload);
    const id = payload.id;
    if (!("id" in payload)) return Promise.resolve(undefined); // notification: ignored
    if (typeof id !== "number" || !Number.isInteger(id)) return Promise.resolve(undefined); // dropped, no reply
    const method = payload.method;
    const params = (payload.params ?? undefined) as Payload | undefined;
    if (method === "initialize") return Promise.resolve(this.#initialize(id, params));
    if (method === "tools/list") return Promise.resolve(this.#list(id, params));
    if (method === "tools/call") return this.#serial(() => this.#call(id, params));
    return Promise.resolve(error(id, `Method not implemented: ${String(method)}`));
  }

  #initialize(id: number, params: Payload | undefined): Payload {
    const vision = (params?.capabilities as Payload | undefined)?.vision as Payload | undefined;
    if (vision) this.vision = { url: String(vision.url ?? ""), token: String(vision.token ?? "") };
    return {
      jsonrpc: "2.0",
      id,
      result: { protocolVersion: "2024-11-05", capabilities: { tools: {} }, serverInfo: { name: "fake-esp32-board", version: "2.0.0" } },
    };
  }

  #list(id: number, params: Payload | undefined): Payload {
    this.#listPages += 1;
    if (this.options.failPage === this.#listPages) return error(id, "Failed to list tools");
    const visible = this.tools.filter((tool) => this.options.leakUserTools || !isUserOnly(tool));
    const cursor = params?.cursor;
    let start = 0;
    if (typeof cursor === "string") {
      start = visible.findIndex((tool) => tool.name === cursor);
      if (start < 0) return error(id, `Unknown cursor: ${cursor}`);
    }
    const budget = this.options.pageBytes ?? 8000;
    const page: Payload[] = [];
    let size = 0;
    let next = start;
    for (; next < visible.length; next += 1) {
      const tool = visible[next]!;
      const json: Payload = { name: tool.name, description: tool.description, inputSchema: tool.inputSchema };
      if (tool.annotations) json.annotations = tool.annotations;
      const bytes = new TextEncoder().encode(JSON.stringify(json)).length;
      if (size + bytes > budget) break;
      page.push(json);
      size += bytes;
    }
    if (page.length === 0 && next < visible.length) return error(id, "Failed to add tool to page: too large");
    const result: Payload = { tools: page };
    if (next < visible.length) result.nextCursor = visible[next]!.name;
    return { jsonrpc: "2.0", id, result };
  }

  async #call(id: number, params: Payload | undefined): Promise<Payload | undefined> {
    if (this.options.callDelayMs) await new Promise((resolve) => setTimeout(resolve, this.options.callDelayMs));
    if (this.options.silent) return undefined;
    if (!params) return error(id, "Missing params");
    const name = String(params.name ?? "");
    const tool = this.tools.find((candidate) => candidate.name === name);
    if (!tool || this.options.forget?.includes(name)) return error(id, `Unknown tool: ${name}`);
    const args = (params.arguments ?? {}) as Record<string, Json>;
    const invalid = validate(tool.inputSchema, args);
    if (invalid) return error(id, invalid);
    const outcome = tool.run(args, this);
    if ("error" in outcome) return error(id, outcome.error);
    return { jsonrpc: "2.0", id, result: { content: outcome, isError: false } };
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

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

function error(id: number, message: string): Payload {
  return { jsonrpc: "2.0", id, error: { message } };
}

function isUserOnly(tool: FakeTool): boolean {
  const audience = tool.annotations?.audience;
  return Array.isArray(audience) && audience.includes("user");
}

/** The firmware's checks: required properties, integer ranges, and types. */
function validate(schema: Payload, args: Record<string, Json>): string | undefined {
  const properties = (schema.properties ?? {}) as Record<string, Payload>;
  const required = (schema.required ?? []) as string[];
  for (const name of required) if (!(name in args)) return `Missing valid argument: ${name}`;
  for (const [name, value] of Object.entries(args)) {
    const property = properties[name];
    if (!property) continue;
    if (property.type === "integer") {
      if (typeof value !== "number" || !Number.isInteger(value)) return "Invalid arguments";
      if (typeof property.maximum === "number" && value > property.maximum) return `Value exceeds maximum allowed: ${property.maximum}`;
      if (typeof property.minimum === "number" && value < property.minimum) return `Value is below minimum allowed: ${property.minimum}`;
    }
    if (property.type === "string" && typeof value !== "string") return "Invalid arguments";
    if (property.type === "boolean" && typeof value !== "boolean") return "Invalid arguments";
  }
  return undefined;
}

const longText = (label: string, bytes: number) => `${label}: ${"This board-specific tool has a long description. ".repeat(Math.ceil(bytes / 50))}`.slice(0, bytes);

/** Three tools that do not fit one 8,000-byte page, plus a user-only tool the LLM must never see. */
export function standardTools(): FakeTool[] {
  return [
    {
      name: "self.get_device_status",
      description: longText("Reports speaker, screen, battery and network status", 4500),
      inputSchema: { type: "object", properties: {} },
      run: (_args, device) => [{ type: "text", text: JSON.stringify({ audio_speaker: { volume: 50 }, board: device.sessionId }) }],
    },
    {
      name: "self.audio_speaker.set_volume",
      description: longText("Sets the speaker volume", 4500),
      inputSchema: { type: "object", properties: { volume: { type: "integer", minimum: 0, maximum: 100 } }, required: ["volume"] },
      run: () => [{ type: "text", text: "true" }],
    },
    {
      name: "self.camera.take_photo",
      description: "Takes a photo and explains it. Use when the user asks what you see.",
      inputSchema: { type: "object", properties: { question: { type: "string" } }, required: ["question"] },
      run: (args, device) =>
        device.vision?.url && device.vision.token
          ? [{ type: "text", text: JSON.stringify({ success: true, text: `I see a cup (asked: ${String(args.question)})` }) }]
          : { error: "Image explain URL or token is not set" },
    },
    {
      name: "self.system.reboot",
      description: "Reboots the device (user only).",
      inputSchema: { type: "object", properties: {} },
      annotations: { audience: ["user"] },
      run: () => [{ type: "text", text: "rebooting" }],
    },
  ];
}
