/**
 * Bench-only baseline worker (not part of the service, not type-checked by the project's tsconfig).
 *
 * Routes:
 * - `GET /healthz`  readiness probe for the bench runner.
 * - `POST /call`    `{"id": "<object name>", ...}`: parse JSON -> Durable Object RPC by name -> one
 *                   `ctx.storage.kv.put` of a small record -> JSON reply. Same shape as the service's
 *                   `local_get_time` execute (HTTP + JSON + DO RPC + one storage write), without its logic.
 * - `POST /rpc`     the same without the storage write: parse JSON -> Durable Object RPC by name -> JSON reply. The
 *                   service stores session activity at most once a minute, so most of its calls write nothing;
 *                   this is the foundation suite's reference row for that (docs/benchmarks.md).
 * - `GET /ws?id=<object name>`  WebSocket echo through a Durable Object: the Worker forwards the upgrade to the
 *                   object, which accepts it with the hibernation API and echoes every message. Baseline for the
 *                   device round-trip suite (reference row).
 * - `GET /ws?id=<object name>&role=device`  the same, but the object does not echo: it keeps the socket as its
 *                   attached "device" for `/relay`.
 * - `POST /relay`   `{"id": "<object name>", "arguments": {...}}`: parse JSON -> Durable Object RPC by name -> the
 *                   object sends one JSON-RPC `tools/call` frame in the xiaozhi envelope over the attached device
 *                   WebSocket and awaits the frame with the same id -> JSON reply with its `result`. The raw
 *                   WebSocket round trip through a Durable Object, reached the way the service's device tool call
 *                   is (HTTP -> Worker -> DO -> WebSocket -> device -> back), without the service's logic.
 *                   Baseline of the device round-trip suite.
 */
import { DurableObject } from "cloudflare:workers";

interface BaselineEnv {
  BASELINE: DurableObjectNamespace<BaselineObject>;
}

interface CallBody {
  id?: unknown;
  [key: string]: unknown;
}

const DEVICE_TAG = "device";
const RELAY_DEADLINE_MS = 15_000;

export class BaselineObject extends DurableObject<BaselineEnv> {
  /** Replies awaited from the attached device, by JSON-RPC id (in memory: a pending call keeps the object awake). */
  private readonly pending = new Map<number, (payload: unknown) => void>();
  private nextId = 1;

  /** One `tools/call` frame to the attached device and its answer; the answer's JSON-RPC `result`. */
  async relay(body: CallBody): Promise<{ ok: true; result: unknown } | { ok: false; error: string }> {
    const [device] = this.ctx.getWebSockets(DEVICE_TAG);
    if (!device) return { ok: false, error: "no device attached" };
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("device did not answer"));
      }, RELAY_DEADLINE_MS);
      this.pending.set(id, (payload) => {
        clearTimeout(timer);
        resolve(payload);
      });
    });
    device.send(
      JSON.stringify({
        session_id: body.id,
        type: "mcp",
        payload: { jsonrpc: "2.0", id, method: "tools/call", params: { name: "self.audio_speaker.set_volume", arguments: body.arguments ?? {} } },
      }),
    );
    const payload = (await reply) as { result?: unknown };
    return { ok: true, result: payload.result };
  }

  /** One synchronous KV write of a small record, like the session object's per-call `last_active_ms` update. */
  async hit(body: CallBody): Promise<{ ok: true; at: number }> {
    const at = Date.now();
    this.ctx.storage.kv.put("record", { body, last_active_ms: at });
    return { ok: true, at };
  }

  /** Nothing but the RPC itself. */
  async ping(_body: CallBody): Promise<{ ok: true; at: number }> {
    return { ok: true, at: Date.now() };
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pair = new WebSocketPair();
    const role = new URL(request.url).searchParams.get("role") === DEVICE_TAG ? [DEVICE_TAG] : [];
    this.ctx.acceptWebSocket(pair[1], role);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (!this.ctx.getTags(ws).includes(DEVICE_TAG)) {
      ws.send(message);
      return;
    }
    const { payload } = JSON.parse(String(message)) as { payload?: { id?: unknown } };
    if (typeof payload?.id !== "number") return;
    this.pending.get(payload.id)?.(payload);
    this.pending.delete(payload.id);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed (auto-reply to close)
    }
  }
}

async function readBody(request: Request): Promise<CallBody | undefined> {
  try {
    return (await request.json()) as CallBody;
  } catch {
    return undefined;
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz" || url.pathname === "/") return Response.json({ status: "ok" });
    if ((url.pathname === "/call" || url.pathname === "/rpc" || url.pathname === "/relay") && request.method === "POST") {
      const body = await readBody(request);
      if (!body) return Response.json({ error: "invalid JSON" }, { status: 400 });
      const object = env.BASELINE.getByName(typeof body.id === "string" && body.id !== "" ? body.id : url.pathname === "/relay" ? "relay" : "baseline");
      if (url.pathname === "/call") return Response.json(await object.hit(body));
      if (url.pathname === "/rpc") return Response.json(await object.ping(body));
      const outcome = await object.relay(body);
      return Response.json(outcome, { status: outcome.ok ? 200 : 503 });
    }
    if (url.pathname === "/ws") {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("expected a WebSocket upgrade", { status: 426 });
      }
      return env.BASELINE.getByName(url.searchParams.get("id") || "ws").fetch(request);
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
} satisfies ExportedHandler<BaselineEnv>;
