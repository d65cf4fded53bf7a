/**
 * The gateway's view of tools during the rollout: each session goes to the service or to the caller's local
 * executor (today's in-process manager) by {@link routeFor}, and a service outage falls back to the local
 * executor instead of failing the turn.
 *
 * Fallback fires on outages only (network error, timeout, 5xx): a 4xx is the caller's bug and surfaces as a
 * {@link ServiceError}. Note that an executeTool that timed out may have run on the service: falling back
 * runs it again locally. The device answers tool calls one at a time, so at worst an action repeats.
 */
import type { SessionRef, SessionView, ToolList, ToolResult } from "../core/schemas";
import { ServiceError } from "./errors";
import type { BindSessionRequest, CallOptions, ExecuteToolRequest, GatewayClient } from "./gateway-client";
import { RolloutConfig, routeFor, type RoutePath } from "./rollout";

/** The local path: the same shapes as the service's getTools/executeTool. */
export interface LocalExecutor {
  getTools(input: SessionRef): Promise<ToolList>;
  executeTool(input: ExecuteToolRequest): Promise<ToolResult>;
}

export interface RolloutOptions extends RolloutConfig {
  /** Required unless every session goes to the service (use_service and traffic_split 100). */
  fallback?: LocalExecutor;
}

export type GatewayOperation = "bindSession" | "unbindSession" | "getTools" | "executeTool";

export interface FallbackEvent {
  operation: GatewayOperation;
  session_id: string;
  error: ServiceError;
}

export interface RolloutGatewayOptions {
  /** Called on every fallback, for metrics and logs. */
  onFallback?: (event: FallbackEvent) => void;
  /** How many conversations whose bind fell back are remembered (oldest forgotten first). */
  maxPinnedSessions?: number;
}

export class RolloutGateway {
  readonly #rollout: RolloutConfig;
  readonly #local: LocalExecutor | undefined;
  readonly #onFallback: (event: FallbackEvent) => void;
  readonly #maxPinned: number;
  /** Conversations whose bind could not reach the service: they stay local until unbind, never half here, half there. */
  readonly #pinned = new Set<string>();

  constructor(
    private readonly service: GatewayClient,
    rollout: RolloutOptions,
    options: RolloutGatewayOptions = {},
  ) {
    this.#rollout = RolloutConfig.parse({ use_service: rollout.use_service, traffic_split: rollout.traffic_split });
    this.#local = rollout.fallback;
    const everyoneOnService = this.#rollout.use_service && this.#rollout.traffic_split === 100;
    if (!this.#local && !everyoneOnService) {
      throw new TypeError("A rollout that keeps sessions local (use_service false or traffic_split < 100) needs a fallback executor");
    }
    this.#onFallback = options.onFallback ?? (() => undefined);
    this.#maxPinned = options.maxPinnedSessions ?? 10_000;
  }

  /** Where this session's tool calls go. Stable for a session id, whatever process asks. */
  pathFor(sessionId: string): RoutePath {
    return this.#pinned.has(sessionId) ? "local" : routeFor(sessionId, this.#rollout);
  }

  /**
   * At device connect. Returns the bound session, or undefined when the session is on the local path (there
   * is nothing to bind) or its bind fell back (the conversation then stays local).
   */
  async bindSession(input: BindSessionRequest, options?: CallOptions): Promise<SessionView | undefined> {
    if (this.pathFor(input.session_id) === "local") return undefined;
    try {
      return await this.service.bindSession(input, options);
    } catch (error) {
      this.#fallBackOrThrow("bindSession", input.session_id, error);
      this.#pin(input.session_id);
      return undefined;
    }
  }

  /** At device disconnect. An outage is not worth failing a hang-up for: the session expires on its own. */
  async unbindSession(input: SessionRef, options?: CallOptions): Promise<void> {
    const wasPinned = this.#pinned.delete(input.session_id);
    if (wasPinned || this.pathFor(input.session_id) === "local") return;
    try {
      await this.service.unbindSession(input, options);
    } catch (error) {
      this.#fallBackOrThrow("unbindSession", input.session_id, error);
    }
  }

  async getTools(input: SessionRef, options?: CallOptions): Promise<ToolList> {
    const local = this.#localFor(input.session_id);
    if (local) return local.getTools(input);
    try {
      return await this.service.getTools(input, options);
    } catch (error) {
      return this.#fallBackOrThrow("getTools", input.session_id, error).getTools(input);
    }
  }

  async executeTool(input: ExecuteToolRequest, options?: CallOptions): Promise<ToolResult> {
    const local = this.#localFor(input.session_id);
    if (local) return local.executeTool(input);
    try {
      return await this.service.executeTool(input, options);
    } catch (error) {
      return this.#fallBackOrThrow("executeTool", input.session_id, error).executeTool(input);
    }
  }

  #localFor(sessionId: string): LocalExecutor | undefined {
    return this.pathFor(sessionId) === "local" ? this.#local : undefined;
  }

  /** The local executor if `error` is an outage and there is one; otherwise rethrows `error`. */
  #fallBackOrThrow(operation: GatewayOperation, sessionId: string, error: unknown): LocalExecutor {
    if (!(error instanceof ServiceError) || !error.isOutage || !this.#local) throw error;
    this.#onFallback({ operation, session_id: sessionId, error });
    return this.#local;
  }

  #pin(sessionId: string): void {
    this.#pinned.add(sessionId);
    if (this.#pinned.size > this.#maxPinned) {
      const oldest = this.#pinned.values().next().value;
      if (oldest !== undefined) this.#pinned.delete(oldest);
    }
  }
}
