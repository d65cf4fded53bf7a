/**
 * One Durable Object per agent: the meeting point of its dial-in tool providers (src/sources/dial-in/providers.ts)
 * and of the consumers of their tools (src/sources/dial-in/consumers.ts), whose WebSockets it holds with the
 * hibernation API. A thin shell: RPC surface, sockets, alarm; the rules live in those modules.
 *
 * Public RPC methods return Results: errors lose their fields across Durable Object RPC.
 */
import { DurableObject } from "cloudflare:workers";
import { withDeadline } from "../src/core/deadline";
import type { ServiceConfig } from "../src/core/config";
import { configFromEnv, varsOf } from "../src/core/env-config";
import { ok, type Result } from "../src/core/errors";
import { objectRequestOf } from "../src/core/object-request";
import type { ToolDescriptor } from "../src/core/schemas";
import { storedValue } from "../src/core/stored-value";
import { closeQuietly } from "../src/core/websocket";
import { errorResponse } from "../src/http/error-response";
import { appError } from "../src/core/errors";
import { countObjectRequest } from "../src/observability/object-traffic";
import { sessionStub } from "../src/session/session-directory";
import { externalTools } from "../src/sources/external";
import type { ExternalTools } from "../src/sources/external/external-tools";
import type { AgentRpc, ProviderStatus } from "../src/sources/dial-in/agent-rpc";
import { Consumers } from "../src/sources/dial-in/consumers";
import { Providers } from "../src/sources/dial-in/providers";
import { StoredNames } from "../src/tools/naming";
import type { PeerResponse } from "../src/tools/peer/jsonrpc";
import type { ToolArgs } from "../src/tools/tool-source";
import type { SessionRpc } from "../src/session/session-rpc";
import type { SentAgentConfig, StoredAgentConfig } from "../src/tenants/agent-config";
import type { MintedToken, TokenInfo, TokenRecord } from "../src/tenants/agent-tokens";
import { rateLimitsOf } from "../src/tenants/rate-limits";
import { Tenant } from "../src/tenants/tenant";
import { hostOf } from "./host";

/** A session's notification must not hold the agent up. */
const NOTIFY_TIMEOUT_MS = 2_000;

export class AgentObject extends DurableObject<Env> implements AgentRpc {
  readonly #providers: Providers;
  readonly #consumers: Consumers;
  #external: { config: ServiceConfig; tools: ExternalTools } | undefined;
  readonly #tenant: Tenant;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const host = hostOf(ctx);
    const config = configFromEnv(env);
    const tell = (subscribers: readonly string[], change: (session: SessionRpc) => Promise<void>) => {
      for (const id of subscribers) ctx.waitUntil(withDeadline(change(sessionStub(env.SESSIONS, id)).then(() => ok(true)), NOTIFY_TIMEOUT_MS, "session"));
    };
    this.#providers = new Providers(host, config, (subscribers) => tell(subscribers, (session) => session.toolsChanged()));
    this.#tenant = new Tenant(ctx.storage.kv, () => tell(this.#providers.subscribers(), (session) => session.configChanged()));
    this.#consumers = new Consumers(host, config, this.#providers, () => {
      if (!config.ok || !config.value.xiaozhi_endpoint.expose_external) return undefined;
      // The agent's own servers, when it has a config: rebuilt when its version changes.
      const effective = this.#tenant.effective(config.value, varsOf(env));
      if (this.#external?.config !== effective) {
        this.#external = { config: effective, tools: externalTools(effective, env, storedValue(ctx.storage.kv, "external-names", StoredNames)) };
      }
      return this.#external.tools;
    }, () => (config.ok ? this.#tenant.effective(config.value, varsOf(env)).tools : { deny: [] }), async () => {
      const limits = config.ok ? rateLimitsOf(env, config.value) : undefined;
      return limits ? limits.call(this.#providers.agentId()) : ok(undefined);
    });
  }

  config(): Promise<Result<StoredAgentConfig | null>> {
    countObjectRequest("agent");
    return this.#tenant.config();
  }

  putConfig(config: SentAgentConfig): Promise<Result<StoredAgentConfig>> {
    countObjectRequest("agent");
    return this.#tenant.putConfig(config);
  }

  deleteConfig(): Promise<Result<{ deleted: boolean }>> {
    countObjectRequest("agent");
    return this.#tenant.deleteConfig();
  }

  mintToken(agentId: string, ttlSeconds: number): Promise<Result<MintedToken>> {
    countObjectRequest("agent");
    return this.#tenant.mintToken(agentId, ttlSeconds);
  }

  listTokens(): Promise<Result<TokenInfo[]>> {
    countObjectRequest("agent");
    return this.#tenant.listTokens();
  }

  revokeToken(id: string): Promise<Result<{ revoked: boolean }>> {
    countObjectRequest("agent");
    return this.#tenant.revokeToken(id);
  }

  tokenRecord(id: string): Promise<Result<TokenRecord | null>> {
    countObjectRequest("agent");
    return this.#tenant.tokenRecord(id);
  }

  tools(): Promise<Result<ToolDescriptor[]>> {
    countObjectRequest("agent");
    return this.#providers.tools();
  }

  call(name: string, args: ToolArgs): Promise<Result<PeerResponse>> {
    countObjectRequest("agent");
    return this.#providers.call(name, args);
  }

  subscribe(sessionId: string): Promise<Result<{ providers: number }>> {
    countObjectRequest("agent");
    return this.#providers.subscribe(sessionId);
  }

  unsubscribe(sessionId: string): Promise<Result<{ removed: boolean }>> {
    countObjectRequest("agent");
    return this.#providers.unsubscribe(sessionId);
  }

  providers(): Promise<Result<ProviderStatus[]>> {
    countObjectRequest("agent");
    return this.#providers.providers();
  }

  /** A provider or a consumer connects; the Worker has verified its token and says which it is. */
  override async fetch(request: Request): Promise<Response> {
    countObjectRequest("agent");
    const call = objectRequestOf(request);
    if (call?.kind !== "provider" && call?.kind !== "consumer") return errorResponse(appError("route_not_found", "Not an agent endpoint"), new URL(request.url).pathname);
    const { 0: client, 1: server } = new WebSocketPair();
    this.#providers.adopt(call.agent_id);
    if (call.kind === "consumer") this.#consumers.accept(call.agent_id, server);
    else await this.#providers.attach(call.agent_id, call.provider, server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    return this.#consumers.isConsumer(ws) ? this.#consumers.message(ws, message) : this.#providers.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake the peer started, or it waits for our close frame.
    closeQuietly(ws, 1000, "closed");
    // A consumer's calls in flight end on their own: nothing to undo.
    if (!this.#consumers.isConsumer(ws)) this.#providers.closed(ws, `The tool provider disconnected (${code}${reason ? ` ${reason}` : ""})`);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    if (!this.#consumers.isConsumer(ws)) this.#providers.closed(ws, "The tool provider connection failed");
  }

  override alarm(): Promise<void> {
    return this.#providers.alarm();
  }
}
