/**
 * Bench-only baseline worker (not part of the service, not type-checked by the project's tsconfig).
 *
 * Routes:
 * - `GET /healthz`  readiness probe for the bench runner.
 * - `POST /call`    `{"id": "<object name>", ...}`: parse JSON -> Durable Object RPC by name -> one
 *                   `ctx.storage.kv.put` of a small record -> JSON reply. Same shape as the service's
 *                   `local_get_time` execute (HTTP + JSON + DO RPC + one storage write), without its logic.
 * - `GET /ws?id=<object name>`  WebSocket echo through a Durable Object: the Worker forwards the upgrade to the
 *                   object, which accepts it with the hibernation API and echoes every message. Baseline for the
 *                   device round-trip suite.
 */
import { DurableObject } from "cloudflare:workers";

interface BaselineEnv {
  BASELINE: DurableObjectNamespace<BaselineObject>;
}

interface CallBody {
  id?: unknown;
  [key: string]: unknown;
}

export class BaselineObject extends DurableObject<BaselineEnv> {
  /** One synchronous KV write of a small record, like the session object's per-call `last_active_ms` update. */
  async hit(body: CallBody): Promise<{ ok: true; at: number }> {
    const at = Date.now();
    this.ctx.storage.kv.put("record", { body, last_active_ms: at });
    return { ok: true, at };
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    ws.send(message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed (auto-reply to close)
    }
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz" || url.pathname === "/") return Response.json({ status: "ok" });
    if (url.pathname === "/call" && request.method === "POST") {
      let body: CallBody;
      try {
        body = (await request.json()) as CallBody;
      } catch {
        return Response.json({ error: "invalid JSON" }, { status: 400 });
      }
      const id = typeof body.id === "string" && body.id !== "" ? body.id : "baseline";
      const result = await env.BASELINE.getByName(id).hit(body);
      return Response.json(result);
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
