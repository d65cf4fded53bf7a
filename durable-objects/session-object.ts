/**
 * One Durable Object per session, named by `session_id`: a thin shell over src/session/session.ts, which
 * holds the bound context, is the MCP client of the session's device (through the relay the gateway attaches),
 * owns the session's catalogue and expires the session after `sessions.idle_ttl_seconds` without activity.
 *
 * Every public RPC method returns a Result: errors lose their fields across Durable Object RPC.
 */
import { DurableObject } from "cloudflare:workers";
import { configFromEnv } from "../src/core/env-config";
import { appError, type AppError, type Result } from "../src/core/errors";
import { objectRequestOf } from "../src/core/object-request";
import type { BindSessionInput, ExecuteToolInput, FramesInput, FramesOutcome, SessionRef, SessionView, ToolList } from "../src/core/schemas";
import { closeQuietly } from "../src/core/websocket";
import { errorResponse } from "../src/http/error-response";
import { countObjectRequest } from "../src/observability/object-traffic";
import { Session } from "../src/session/session";
import type { SessionRpc } from "../src/session/session-rpc";
import type { ToolExecution } from "../src/session/session-service";
import { hostOf } from "./host";

export class SessionObject extends DurableObject<Env> implements SessionRpc {
  /** The session, or why the service cannot run (an invalid configuration): every call answers that. */
  readonly #session: Result<Session>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = configFromEnv(env);
    this.#session = config.ok ? { ok: true, value: new Session(hostOf(ctx), env, config.value) } : config;
  }

  async bind(input: BindSessionInput, scope?: string): Promise<Result<SessionView>> {
    countObjectRequest("session");
    return this.#session.ok ? this.#session.value.bind(input, scope) : this.#session;
  }

  async view(_ref: SessionRef, scope?: string): Promise<Result<SessionView>> {
    countObjectRequest("session");
    return this.#session.ok ? this.#session.value.view(scope) : this.#session;
  }

  async tools(_ref: SessionRef, scope?: string): Promise<Result<ToolList>> {
    countObjectRequest("session");
    return this.#session.ok ? this.#session.value.tools(scope) : this.#session;
  }

  async execute(input: ExecuteToolInput, requestId = "", scope?: string): Promise<ToolExecution> {
    countObjectRequest("session");
    return this.#session.ok ? this.#session.value.execute(input, requestId, scope) : this.#session;
  }

  async unbind(ref: SessionRef, scope?: string): Promise<Result<{ session_id: string; deleted: true }>> {
    countObjectRequest("session");
    return this.#session.ok ? this.#session.value.unbind(ref.session_id, scope) : this.#session;
  }

  async frames(input: FramesInput, scope?: string): Promise<Result<FramesOutcome>> {
    countObjectRequest("session");
    return this.#session.ok ? this.#session.value.frames(input, scope) : this.#session;
  }

  async oversizedFrame(limitBytes: number): Promise<void> {
    countObjectRequest("session");
    if (this.#session.ok) this.#session.value.oversizedFrame(limitBytes);
  }

  async toolsChanged(): Promise<void> {
    countObjectRequest("session");
    if (this.#session.ok) this.#session.value.toolsChanged();
  }

  async configChanged(): Promise<void> {
    countObjectRequest("session");
    if (this.#session.ok) this.#session.value.configChanged();
  }

  /** Relays and MCP exchanges; the Worker says which in its typed object request. */
  override async fetch(request: Request): Promise<Response> {
    countObjectRequest("session");
    const path = new URL(request.url).pathname;
    const call = objectRequestOf(request);
    if (!call) return refuse(request, appError("route_not_found", "Not a session endpoint"), path);
    if (!this.#session.ok) return refuse(request, this.#session.error, path);
    const handled = await this.#session.value.handle(request, call);
    return handled.ok ? handled.response : refuse(request, handled.error, path);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.#session.ok) await this.#session.value.socketMessage(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake the gateway started, or it waits for our close frame.
    closeQuietly(ws, 1000, "closed");
    if (this.#session.ok) this.#session.value.socketClosed(ws, `Device relay disconnected (${code}${reason ? ` ${reason}` : ""})`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    if (this.#session.ok) this.#session.value.socketClosed(ws, `Device relay failed: ${String(error)}`);
  }

  override async alarm(): Promise<void> {
    if (this.#session.ok) await this.#session.value.alarm();
  }
}

/** Answers an error without leaving the request body unread (the runtime would fail writing it later). */
async function refuse(request: Request, error: AppError, path: string): Promise<Response> {
  await request.arrayBuffer().catch(() => undefined);
  return errorResponse(error, path);
}
