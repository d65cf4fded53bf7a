/**
 * REST client of the service for gateways written in TypeScript: per-call timeouts, retries with backoff for
 * idempotent calls only, and typed errors ({@link ServiceError}). Responses are checked against the same zod
 * schemas the service is documented with, so a caller gets the inferred types or an error, never a guess.
 *
 * Idempotency, decided per call:
 * - getTools, getSession: reads. Retried.
 * - bindSession: binding again overwrites the context with the same values (created_at is kept), so a retry
 *   after a lost answer leaves the same state. Retried.
 * - unbindSession: DELETE; a retry after a lost answer may see `session_not_found` (the first try worked).
 *   Retried; callers at disconnect can treat `session_not_found` as done.
 * - executeTool: runs a tool on a device or upstream, with side effects. Never retried.
 * - putAgentConfig, deleteAgentConfig, revokeAgentToken: the same request leaves the same state. Retried.
 * - mintAgentToken, mintProviderEndpoint: each call makes a new token. Never retried.
 * - listProviders: a read. Retried.
 * Retries happen only on outages (network error, timeout, 5xx), never on a 4xx.
 */
import { z } from "zod";
import { BindSessionResponse, ExecuteToolBody, SessionView, ToolList, ToolResult, UnbindSessionResponse, type BindSessionInput, type ExecuteToolInput, type SessionRef } from "../core/schemas";
import { AgentConfigView, DeletedConfig, MintedToken, MintTokenBody, RevokedToken, SentAgentConfig, TokenListView } from "../tenants/tenant-schemas";
import { MintEndpointBody, MintEndpointResponse, ProviderList } from "../sources/dial-in/endpoint-schemas";
import { errorFromBody, ServiceError } from "./errors";
import { DEFAULT_RETRY, sleep as realSleep, withRetries, type RetryPolicy, type Sleep } from "./retry";

/**
 * The envelopes of bind and unbind, read tolerantly (only what the client returns). Not imported from
 * src/http: that layer pulls in Worker-side modules, and this client also runs in Node gateways.
 */

/** What callers pass: the inputs before defaults, as in the tRPC client. */
export type BindSessionRequest = z.input<typeof BindSessionInput>;
export type ExecuteToolRequest = z.input<typeof ExecuteToolInput>;
export type UnbindResult = { session_id: string; deleted: true };
/** An agent's config as sent: `mcpServers` (null removes an inherited server), `local_tools`, `tools`. */
export type AgentConfigRequest = z.input<typeof SentAgentConfig>;

/** What minting a provider URL takes: `provider` (names its tools `<provider>__<tool>`), `ttl_seconds`. */
export type MintEndpointRequest = z.input<typeof MintEndpointBody>;
export type ProviderEndpoint = z.output<typeof MintEndpointResponse>["endpoint"];
export type ProviderListView = z.output<typeof ProviderList>;

function agentPath(agentId: string, part: "config" | "tokens" | "endpoint" | "providers"): string {
  return `/api/v1/mcp/agents/${encodeURIComponent(agentId)}/${part}`;
}

export interface GatewayClientOptions {
  /** e.g. `https://mcp.example.com`; paths are appended (`/api/v1/...`). */
  baseUrl: string;
  /** One of the service's MCP_SERVICE_TOKEN tokens. */
  token: string;
  /** Defaults to the global fetch; tests pass the worker's own. */
  fetch?: (input: Request) => Promise<Response>;
  /** Per attempt, for every call but executeTool. Default 5 s. */
  timeoutMs?: number;
  /** executeTool waits for the device or upstream: keep it above the service's `device.call_timeout_ms` (30 s). Default 35 s. */
  executeTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Injectable for tests. */
  random?: () => number;
  sleep?: Sleep;
}

export interface CallOptions {
  /** Cancels the call; the signal's reason is thrown as is (no ServiceError, no retry, no fallback). */
  signal?: AbortSignal;
  /** Overrides the per-attempt timeout of this call. */
  timeoutMs?: number;
  /** Sent as `x-request-id`, which the service logs: correlate a turn across gateway and service. */
  requestId?: string;
}

interface Call<S extends z.ZodType> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  body?: unknown;
  schema: S;
  idempotent: boolean;
  timeoutMs: number;
}

export class GatewayClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #fetch: (input: Request) => Promise<Response>;
  readonly #timeoutMs: number;
  readonly #executeTimeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #random: () => number;
  readonly #sleep: Sleep;

  constructor(options: GatewayClientOptions) {
    this.#base = new URL(options.baseUrl);
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#executeTimeoutMs = options.executeTimeoutMs ?? 35_000;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? realSleep;
  }

  /** At device connect. Returns the bound session. */
  async bindSession(input: BindSessionRequest, options: CallOptions = {}): Promise<SessionView> {
    const { session_id, ...body } = input;
    const path = `/api/v1/mcp/sessions/${encodeURIComponent(session_id)}/bind`;
    const response = await this.#call({ method: "POST", path, body, schema: BindSessionResponse, idempotent: true, timeoutMs: this.#timeoutMs }, options);
    return response.session;
  }

  async getSession(input: SessionRef, options: CallOptions = {}): Promise<SessionView> {
    const path = `/api/v1/mcp/sessions/${encodeURIComponent(input.session_id)}`;
    return this.#call({ method: "GET", path, schema: SessionView, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  /** At device disconnect. */
  async unbindSession(input: SessionRef, options: CallOptions = {}): Promise<UnbindResult> {
    const path = `/api/v1/mcp/sessions/${encodeURIComponent(input.session_id)}`;
    const { session_id, deleted } = await this.#call(
      { method: "DELETE", path, schema: UnbindSessionResponse, idempotent: true, timeoutMs: this.#timeoutMs },
      options,
    );
    return { session_id, deleted };
  }

  /** Once per LLM turn: the tools to offer, in a stable order. */
  async getTools(input: SessionRef, options: CallOptions = {}): Promise<ToolList> {
    const path = `/api/v1/mcp/tools?session_id=${encodeURIComponent(input.session_id)}`;
    return this.#call({ method: "GET", path, schema: ToolList, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  /** A tool call of the LLM. A tool that ran and failed is a result (`action: "error"`), not a ServiceError. */
  async executeTool(input: ExecuteToolRequest, options: CallOptions = {}): Promise<ToolResult> {
    const { tool_name, ...body } = input;
    const path = `/api/v1/mcp/tools/${encodeURIComponent(tool_name)}/execute`;
    const checked: z.input<typeof ExecuteToolBody> = body; // the REST body is the input without tool_name
    return this.#call({ method: "POST", path, body: checked, schema: ToolResult, idempotent: false, timeoutMs: this.#executeTimeoutMs }, options);
  }

  // ── agents as tenants (service token only) ──────────────────────────────────────────────────────────

  /** Sets an agent's own configuration; the stored config comes back with its secrets masked. */
  async putAgentConfig(agentId: string, config: AgentConfigRequest, options: CallOptions = {}): Promise<AgentConfigView> {
    return this.#call({ method: "PUT", path: agentPath(agentId, "config"), body: config, schema: AgentConfigView, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  /** An agent's own configuration, secrets masked; a ServiceError `agent_not_found` when it has none. */
  async getAgentConfig(agentId: string, options: CallOptions = {}): Promise<AgentConfigView> {
    return this.#call({ method: "GET", path: agentPath(agentId, "config"), schema: AgentConfigView, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  async deleteAgentConfig(agentId: string, options: CallOptions = {}): Promise<{ agent_id: string; deleted: boolean }> {
    return this.#call({ method: "DELETE", path: agentPath(agentId, "config"), schema: DeletedConfig, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  /** A new agent token: shown once, keep it safe. */
  async mintAgentToken(agentId: string, input: z.input<typeof MintTokenBody> = {}, options: CallOptions = {}): Promise<MintedToken> {
    return this.#call({ method: "POST", path: agentPath(agentId, "tokens"), body: input, schema: MintedToken, idempotent: false, timeoutMs: this.#timeoutMs }, options);
  }

  async listAgentTokens(agentId: string, options: CallOptions = {}): Promise<TokenListView> {
    return this.#call({ method: "GET", path: agentPath(agentId, "tokens"), schema: TokenListView, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  async revokeAgentToken(agentId: string, tokenId: string, options: CallOptions = {}): Promise<{ agent_id: string; id: string; revoked: boolean }> {
    const path = `${agentPath(agentId, "tokens")}/${encodeURIComponent(tokenId)}`;
    return this.#call({ method: "DELETE", path, schema: RevokedToken, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  // ── dial-in providers (MCP 接入点); agent tokens may use these for their own agent ─────────────────────

  /**
   * A provider URL for the agent (`url`, for mcp_pipe or as xiaozhi-esp32-server's `mcp_endpoint`) and its
   * consumer form (`consumer_url`). Each call makes a new token: never retried.
   */
  async mintProviderEndpoint(agentId: string, input: MintEndpointRequest = {}, options: CallOptions = {}): Promise<ProviderEndpoint> {
    const minted = await this.#call({ method: "POST", path: agentPath(agentId, "endpoint"), body: input, schema: MintEndpointResponse, idempotent: false, timeoutMs: this.#timeoutMs }, options);
    return minted.endpoint;
  }

  /** The agent's dial-in providers and their state (attached, phase, responsive, tool count). */
  async listProviders(agentId: string, options: CallOptions = {}): Promise<ProviderListView> {
    return this.#call({ method: "GET", path: agentPath(agentId, "providers"), schema: ProviderList, idempotent: true, timeoutMs: this.#timeoutMs }, options);
  }

  #call<S extends z.ZodType>(call: Call<S>, options: CallOptions): Promise<z.output<S>> {
    const policy = call.idempotent ? this.#retry : { ...this.#retry, attempts: 1 };
    return withRetries(() => this.#attempt(call, options), {
      policy,
      shouldRetry: (error) => error instanceof ServiceError && error.isOutage,
      random: this.#random,
      sleep: this.#sleep,
      signal: options.signal,
    });
  }

  async #attempt<S extends z.ZodType>(call: Call<S>, options: CallOptions): Promise<z.output<S>> {
    const timeoutMs = options.timeoutMs ?? call.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: "application/json" };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    if (options.requestId) headers["x-request-id"] = options.requestId;
    const request = new Request(new URL(call.path, this.#base), {
      method: call.method,
      headers,
      signal,
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    });

    let status: number;
    let body: unknown;
    let requestId: string | undefined;
    let retryAfter: string | null = null;
    try {
      // Raced against the signal too: a fetch that ignores it (an in-process binding) still times out.
      const response = await abortable(this.#fetch(request), signal);
      status = response.status;
      requestId = response.headers.get("x-request-id") ?? undefined;
      retryAfter = response.headers.get("retry-after");
      body = await abortable(readJson(response), signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) {
        throw new ServiceError({ code: "timeout", status: 0, kind: "timeout", message: `No answer within ${timeoutMs} ms`, cause: error });
      }
      throw new ServiceError({ code: "upstream_error", status: 0, kind: "network", message: `Service unreachable: ${String(error)}`, cause: error });
    }

    if (status < 200 || status >= 300) throw errorFromBody(status, body, requestId, retryAfter);
    const parsed = call.schema.safeParse(body);
    if (!parsed.success) {
      throw new ServiceError({
        code: "internal",
        status,
        kind: "response",
        message: `Unexpected response shape from ${call.method} ${call.path.split("?")[0]}`,
        details: { issues: parsed.error.issues },
        ...(requestId ? { requestId } : {}),
      });
    }
    return parsed.data;
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
