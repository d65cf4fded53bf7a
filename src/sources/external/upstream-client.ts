/**
 * The one module that imports the MCP SDK client (v2, `@modelcontextprotocol/client`): the upstream object's
 * long-lived connection (discovery, list_changed, probes, and the calls of legacy SSE upstreams) and the
 * callers' direct `tools/call` on a route from the catalogue, with failures sorted into kinds the recovery
 * rules act on.
 *
 * Runtime rules honoured here:
 * - every Client gets the cfworker JSON Schema validator. Under workerd the SDK's export condition picks it
 *   anyway; saying so keeps Node (the unit guard) on the same path, and Ajv, which generates code that workerd
 *   refuses (EvalError), out everywhere;
 * - every fetch has a deadline (upstream-fetch.ts), and every await on the SDK is raced against one.
 */
import {
  Client,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  isSpecType,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type PriorDiscovery,
  type Tool,
  type Transport as SdkTransport,
} from "@modelcontextprotocol/client";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";
import { z } from "zod";
import { VERSION } from "../../version";
import { DEFAULT_ANSWER_LIMITS, readCallResult, type AnswerLimits, type CallUpstream, type RawCallResult } from "./result-mapping";
import { boundedFetch, connectionPolicy, directPolicy, type FetchState } from "./upstream-fetch";
import { failure, oversized, UpstreamTool, type ListedTools, type Outcome, type ProtocolInfo, type UpstreamRoute, type UpstreamTarget } from "./upstream-model";

export interface ConnectionHooks {
  /** `notifications/tools/list_changed` arrived (legacy GET stream, SSE stream, or a modern `subscriptions/listen`). */
  onToolsChanged(): void;
  /** The connection died on its own (stream dropped, session gone); the owner should forget it. */
  onDead(reason: string): void;
}

/** A stored legacy session the object's connection resumes without initialize. */
export type LegacyResume = { session_id: string; protocol_version: string };

/** What the SDK reports when a started reply or notification stream broke. */
const BROKEN_STREAM = /SSE stream disconnected|Failed to reconnect|Maximum reconnection/;
/** The JSON-RPC error of a 2026-07-28 server that does not speak the protocol version we sent. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** tools/list pages followed at most; a server paging forever is cut off here. */
const MAX_PAGES = 50;
const MAX_TOOLS = 1000;

/** Stateless (it holds only options), so one instance serves every Client of the isolate. */
const validator = new CfWorkerJsonSchemaValidator();

function newClient(onToolsChanged?: () => void): Client {
  // `auto`: a 2026-07-28 server is spoken to in 2026-07-28, anything else falls back to initialize. Callers
  // with a route connect with `prior` instead, which skips the probe.
  return new Client(
    { name: "xiaozhi-mcp-service", version: VERSION },
    {
      versionNegotiation: { mode: "auto" },
      jsonSchemaValidator: validator,
      // The object's connection: on 2026-07-28 the SDK opens a `subscriptions/listen` stream for it, on a
      // 2025 session it listens on the GET stream. The object re-lists itself (no refresh by the SDK).
      ...(onToolsChanged && { listChanged: { tools: { onChanged: () => onToolsChanged(), autoRefresh: false, debounceMs: 0 } } }),
    },
  );
}

const TtlHint = z.object({ ttlMs: z.number().int().nonnegative().optional() });
const JsonObject = z.record(z.string(), z.json());

export class UpstreamConnection {
  #dead = false;
  #deathReason = "";
  #closed = false;

  private constructor(
    private readonly target: UpstreamTarget,
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport | SingleDelivery,
    private readonly state: FetchState,
    private readonly resumed: LegacyResume | undefined,
    private readonly limits: AnswerLimits,
  ) {}

  /**
   * Connects: `auto` negotiation for Streamable HTTP (a `server/discover` probe, falling back to initialize),
   * the legacy handshake for HTTP+SSE (which 2026-07-28 removed). A legacy `resume` skips initialize (one round
   * trip less after a Durable Object wake); if the upstream forgot that session, the first request says so as
   * `session_expired`.
   * @param connectTimeoutMs what is left of the caller's own deadline, when shorter than `connect_timeout_ms`
   */
  static async open(
    target: UpstreamTarget,
    hooks: ConnectionHooks,
    resume?: LegacyResume,
    connectTimeoutMs = target.connect_timeout_ms,
    limits: AnswerLimits = DEFAULT_ANSWER_LIMITS,
  ): Promise<Outcome<UpstreamConnection>> {
    const state: FetchState = { sessionExpired: false };
    const fetchImpl = boundedFetch(target, state, connectionPolicy(target, limits.maxBytes));
    const headers = { ...target.headers };
    const sse = target.transport === "sse";
    const transport = sse
      ? new SingleDelivery(new SSEClientTransport(new URL(target.url), { requestInit: { headers }, fetch: fetchImpl }))
      : new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers }, fetch: fetchImpl, sessionId: resume?.session_id });
    const client = newClient(() => hooks.onToolsChanged());
    const connection = new UpstreamConnection(target, client, transport, state, sse ? undefined : resume, limits);
    // For a resumed session (no initialize, so no capabilities and no listChanged wiring of the SDK's own);
    // a fresh connection's listChanged wiring replaces it.
    client.setNotificationHandler("notifications/tools/list_changed", () => hooks.onToolsChanged());
    client.onerror = (error) => {
      if (connection.#closed) return;
      // Legacy SSE: the event stream *is* the session; once it errors, replies can no longer arrive.
      if (sse) connection.#die(hooks, `SSE stream failed: ${messageOf(error)}`);
      else if (state.sessionExpired) connection.#die(hooks, "upstream session expired");
      // Streamable HTTP: a reply or notification stream broke after it had started (the server died or was cut
      // off). The SDK would wait out each call's timeout for replies that can no longer come; closing fails them
      // now. A request that could not be sent at all fails on its own.
      else if (BROKEN_STREAM.test(messageOf(error))) connection.#die(hooks, `connection to ${target.name} lost: ${messageOf(error)}`);
    };
    client.onclose = () => {
      if (!connection.#closed) connection.#die(hooks, "connection closed");
    };

    if (resume && transport instanceof StreamableHTTPClientTransport) transport.setProtocolVersion(resume.protocol_version);
    const prior: PriorDiscovery | undefined = sse || resume ? { kind: "legacy" } : undefined;
    const connected = await settle(client.connect(transport, { timeout: connectTimeoutMs, ...(prior && { prior }) }), connectTimeoutMs, `connecting to ${target.name}`);
    if (!connected.ok) {
      await connection.close();
      // Alive, but its handshake answer is longer than we read: a protocol failure, not a server that is down.
      return state.oversized ? oversized(`connecting to ${target.name}`, limits.maxBytes) : connected;
    }
    if (resume && transport instanceof StreamableHTTPClientTransport) {
      // A resumed session gets no initialize, so the SDK opens no notification stream: open it ourselves.
      // An empty event id means "no replay". Failure is harmless: the cache TTL still refreshes the list.
      transport.resumeStream("").catch(() => undefined);
    }
    // 2026-07-28: list_changed arrives on the `subscriptions/listen` stream the SDK opened; when the upstream
    // ends it (a restart), this connection can no longer hear changes: let the owner open a new one.
    void client.autoOpenedSubscription?.closed.then((how) => {
      if (how !== "local" && !connection.#closed) connection.#die(hooks, `notification subscription to ${target.name} ended (${how})`);
    });
    return { ok: true, value: connection };
  }

  /** The negotiated era and protocol version (a resumed session keeps the version it was made with). */
  get protocol(): ProtocolInfo | undefined {
    const version = this.client.getNegotiatedProtocolVersion() ?? this.resumed?.protocol_version;
    return version === undefined ? undefined : { era: this.client.getProtocolEra() ?? "legacy", protocol_version: version };
  }

  /** How a caller reaches the upstream directly; undefined for HTTP+SSE, whose replies only this connection hears. */
  get route(): UpstreamRoute | undefined {
    const protocol = this.protocol;
    if (!(this.transport instanceof StreamableHTTPClientTransport) || !protocol) return undefined;
    const discover = this.client.getDiscoverResult();
    if (protocol.era === "modern" && discover) {
      // Instructions are prose for a model; callers only need what `connect({ prior })` validates.
      const { instructions: _instructions, ...rest } = discover;
      return { era: "modern", protocol_version: protocol.protocol_version, discover: JsonObject.parse(JSON.parse(JSON.stringify(rest))) };
    }
    return { era: "legacy", protocol_version: protocol.protocol_version, session_id: this.transport.sessionId ?? null };
  }

  get serverInfo(): { name: string; version: string } | undefined {
    const info = this.client.getServerVersion();
    return info ? { name: info.name, version: info.version } : undefined;
  }

  get alive(): boolean {
    return !this.#dead && !this.#closed && !this.state.sessionExpired;
  }

  /**
   * Every page of tools/list, within one deadline for the whole walk. Pages are requested one by one (not
   * `listTools()`): a resumed session has no capabilities on record, for which the SDK would answer "no tools".
   */
  async listTools(deadlineMs: number): Promise<Outcome<ListedTools>> {
    const deadline = Date.now() + deadlineMs;
    const tools: UpstreamTool[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    let ttlMs: number | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return failure("timeout", `listing tools of ${this.target.name} took longer than ${deadlineMs} ms`);
      const params = cursor === undefined ? {} : { cursor };
      const listed = await this.#request(() => this.client.request({ method: "tools/list", params }, { timeout: remaining, maxTotalTimeout: remaining }), remaining, `tools/list on ${this.target.name}`);
      if (!listed.ok) return listed;
      if (page === 0) ttlMs = TtlHint.safeParse(listed.value).data?.ttlMs;
      for (const tool of listed.value.tools) {
        // Tools that must run as tasks cannot be called with a plain tools/call: never offer them.
        if (tool.execution?.taskSupport === "required") continue;
        const parsed = UpstreamTool.safeParse({
          name: tool.name,
          description: tool.description ?? tool.title ?? "",
          inputSchema: tool.inputSchema,
          ...(tool.outputSchema && { outputSchema: tool.outputSchema }),
        });
        if (parsed.success) tools.push(parsed.data);
      }
      cursor = listed.value.nextCursor;
      if (cursor === undefined || tools.length >= MAX_TOOLS || seenCursors.has(cursor)) break;
      seenCursors.add(cursor);
    }
    return { ok: true, value: { tools: tools.slice(0, MAX_TOOLS), ...(ttlMs !== undefined && { ttl_ms: ttlMs }) } };
  }

  /** tools/call with the upstream's own tool and the caller's arguments, untouched (HTTP+SSE upstreams). */
  async callTool(tool: UpstreamTool, args: Record<string, unknown>, timeoutMs: number): Promise<Outcome<RawCallResult>> {
    const called = await this.#request(
      () => this.client.callTool({ name: tool.name, arguments: args }, { timeout: timeoutMs, maxTotalTimeout: timeoutMs, toolDefinition: definitionOf(tool) }),
      timeoutMs,
      `tools/call ${tool.name} on ${this.target.name}`,
    );
    return called.ok ? readCallResult(called.value, this.target.name, this.limits.maxDepth) : called;
  }

  /** Liveness: `ping` for legacy servers, `server/discover` for 2026-07-28 ones (which removed ping). */
  async probe(timeoutMs: number): Promise<Outcome<void>> {
    const modern = this.client.getProtocolEra() === "modern";
    const probed = await this.#request<unknown>(
      () => (modern ? this.client.discover({ timeout: timeoutMs }) : this.client.ping({ timeout: timeoutMs })),
      timeoutMs,
      `${modern ? "server/discover" : "ping"} ${this.target.name}`,
    );
    return probed.ok ? { ok: true, value: undefined } : probed;
  }

  /** Closes streams and aborts in-flight fetches. Never throws, never ends the upstream session (callers share it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.client.close();
    } catch {
      // already closed
    }
  }

  async #request<T>(run: () => Promise<T>, timeoutMs: number, what: string): Promise<Outcome<T>> {
    if (!this.alive) return failure(this.state.sessionExpired ? "session_expired" : "not_sent", `${what}: connection is closed`);
    const outcome = await settle(run(), timeoutMs, what);
    if (!outcome.ok && this.state.sessionExpired) return failure("session_expired", `${what}: the upstream no longer knows this MCP session`);
    if (!outcome.ok && this.state.oversized) {
      this.state.oversized = false;
      return oversized(what, this.limits.maxBytes);
    }
    if (!outcome.ok && this.#dead && outcome.failure.kind === "unreachable") return failure("lost", `${what}: ${this.#deathReason}`);
    return outcome;
  }

  #die(hooks: ConnectionHooks, reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#deathReason = reason;
    hooks.onDead(reason);
    void this.close();
  }
}

/**
 * One `tools/call` straight to the upstream on a route from the catalogue, by a Client built for this call and
 * closed after it: `connect({ prior })` costs no round trip (modern: the discover result; legacy: the shared
 * session, so initialize is skipped), and `toolDefinition` spares the SDK a tools/list of its own. Nothing
 * outlives the call, so a caller keeps no I/O object between requests. Measured in workerd (fake upstream):
 * about 0.13 ms of CPU per call (2026-07-28, JSON reply) and 0.3 ms (2025, SSE reply), against 0.015 ms for a
 * hand-written POST (docs/design/external-servers.md). Small next to a request's few ms, and it keeps the
 * SDK's handling of both eras, SSE replies, output schemas and errors: no hand-written protocol here.
 */
export const callDirect: CallUpstream = async (target, route, tool, args, timeoutMs, limits = DEFAULT_ANSWER_LIMITS) => {
  const what = `tools/call ${tool.name} on ${target.name}`;
  const state: FetchState = { sessionExpired: false };
  const transport = new StreamableHTTPClientTransport(new URL(target.url), {
    requestInit: { headers: { ...target.headers } },
    fetch: boundedFetch(target, state, directPolicy(timeoutMs, limits.maxBytes)),
    // The shared session. "" (sent as no header at all) makes a sessionless legacy server skip initialize too.
    ...(route.era === "legacy" && { sessionId: route.session_id ?? "" }),
  });
  const client = newClient();
  let lost: string | undefined;
  client.onerror = (error) => {
    // The reply stream broke after it had started: the call may have run. Closing fails it now, not at its timeout.
    if (lost !== undefined || !BROKEN_STREAM.test(messageOf(error))) return;
    lost = messageOf(error);
    void client.close().catch(() => undefined);
  };
  try {
    let prior: PriorDiscovery;
    if (route.era === "legacy") {
      transport.setProtocolVersion(route.protocol_version);
      prior = { kind: "legacy" };
    } else {
      if (!isSpecType.DiscoverResult(route.discover)) return failure("session_expired", `${what}: the stored discover result is unusable`);
      prior = { kind: "modern", discover: route.discover };
    }
    const connected = await settle(client.connect(transport, { prior, timeout: timeoutMs }), timeoutMs, `connecting to ${target.name}`);
    if (!connected.ok) return connected;
    const called = await settle(
      client.callTool({ name: tool.name, arguments: args }, { timeout: timeoutMs, maxTotalTimeout: timeoutMs, toolDefinition: definitionOf(tool) }),
      timeoutMs,
      what,
    );
    if (called.ok) return readCallResult(called.value, target.name, limits.maxDepth);
    if (state.oversized) return oversized(what, limits.maxBytes);
    if (state.sessionExpired) return failure("session_expired", `${what}: the upstream no longer knows this MCP session`);
    if (called.failure.mcp_code === UNSUPPORTED_PROTOCOL_VERSION) return failure("session_expired", `${what}: the upstream no longer speaks ${route.protocol_version}`);
    if (lost !== undefined && called.failure.kind === "unreachable") return failure("lost", `${what}: connection to ${target.name} lost: ${lost}`);
    return called;
  } finally {
    await client.close().catch(() => undefined);
  }
};


/**
 * The SDK's Tool for a stored one (SDK-checked when it was listed, so the guard passes), memoised per tool
 * object: plain data, safe to keep across requests.
 */
const definitions = new WeakMap<UpstreamTool, Tool | undefined>();
function definitionOf(tool: UpstreamTool): Tool | undefined {
  if (definitions.has(tool)) return definitions.get(tool);
  const candidate = { name: tool.name, description: tool.description, inputSchema: tool.inputSchema, ...(tool.outputSchema && { outputSchema: tool.outputSchema }) };
  const definition = isSpecType.Tool(candidate) ? candidate : undefined;
  definitions.set(tool, definition);
  return definition;
}

/**
 * Legacy SSE transport wrapper that delivers each message once. The `eventsource` package calls its
 * `onmessage` handler and then `dispatchEvent`s the same event; workerd's EventTarget also invokes `on<type>`
 * properties on dispatch, so under workerd every SSE message arrives twice (the SDK then reports "unknown
 * message ID" for the second copy of each response). Both copies are delivered synchronously in the same
 * task, so a copy is recognised as "the same message again before any microtask ran".
 */
class SingleDelivery implements SdkTransport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  #last: string | undefined;

  constructor(private readonly inner: SSEClientTransport) {
    inner.onmessage = (message: JSONRPCMessage) => {
      const key = JSON.stringify(message);
      if (key === this.#last) return;
      this.#last = key;
      queueMicrotask(() => {
        if (this.#last === key) this.#last = undefined;
      });
      this.onmessage?.(message);
    };
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => this.onclose?.();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion(version);
  }
}

/** Awaits with a deadline, turning whatever is thrown into a classified failure. */
async function settle<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve(failure("timeout", `${what} took longer than ${timeoutMs} ms`)), timeoutMs + 50);
  });
  try {
    return await Promise.race([promise.then((value): Outcome<T> => ({ ok: true, value }), (error: unknown) => classify<T>(error, what, timeoutMs)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** SDK codes of requests the server answered (or would have) with something this service cannot use. */
const ANSWERED = new Set<string>([
  SdkErrorCode.InvalidResult,
  SdkErrorCode.UnsupportedResultType,
  SdkErrorCode.MethodNotSupportedByProtocolVersion,
  SdkErrorCode.CapabilityNotSupported,
  SdkErrorCode.InputRequiredRoundsExceeded,
  SdkErrorCode.ListPaginationExceeded,
  SdkErrorCode.ClientHttpUnexpectedContent,
]);

/** Sorts what the SDK (or fetch under it) threw into the kinds recovery acts on. */
export function classify<T>(error: unknown, what: string, timeoutMs: number): Outcome<T> {
  if (error instanceof ProtocolError) return failure("protocol", `${what}: ${error.message}`, { mcp_code: error.code });
  if (error instanceof SdkHttpError) return failure("http", `${what}: HTTP ${error.status}`, { status: error.status });
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout) return failure("timeout", `${what} took longer than ${timeoutMs} ms`);
    if (error.code === SdkErrorCode.ConnectionClosed) return failure("unreachable", `${what}: connection closed`);
    if (error.code === SdkErrorCode.NotConnected) return failure("not_sent", `${what}: not connected`);
    // A negotiation probe that failed on the network carries the network error as its cause.
    if (error.code === SdkErrorCode.EraNegotiationFailed && error.cause !== undefined) return classify(error.cause, what, timeoutMs);
    if (ANSWERED.has(error.code)) return failure("protocol", `${what}: ${error.message}`);
    return failure("unreachable", `${what}: ${error.message}`);
  }
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  const message = messageOf(error);
  if (name === "TimeoutError" || name === "AbortError" || /timed? ?out/i.test(message)) return failure("timeout", `${what} took longer than ${timeoutMs} ms`);
  if (message === "Not connected") return failure("not_sent", `${what}: not connected`);
  return failure("unreachable", `${what}: ${message}`);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : "unknown error";
}
