/**
 * The one module that imports the MCP SDK client: a connection to one upstream server over Streamable HTTP
 * or legacy SSE, with deadlines on every request and failures sorted into kinds the recovery logic acts on.
 * Keeping the SDK here keeps a move to SDK v2 local.
 *
 * Runtime rules honoured here:
 * - every Client gets the cfworker JSON Schema validator (the default, Ajv, generates code, which the
 *   Workers runtime forbids; see docs/design/external-servers.md);
 * - every fetch has a deadline: POST/DELETE for the whole exchange, the GET streams for their headers (the
 *   stream itself lives as long as the connection, which its owner closes when idle).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport as SdkTransport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type JSONRPCMessage, type MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { z } from "zod";
import { VERSION } from "../../version";
import { RawCallResult } from "./result-mapping";
import type { Transport } from "./server-config";

export interface UpstreamTarget {
  name: string;
  url: string;
  transport: Transport;
  headers: Readonly<Record<string, string>>;
  timeout_ms: number;
  connect_timeout_ms: number;
}

/** What lets a Streamable HTTP session be reused by a later connection (after eviction) without initialize. */
export const ResumeState = z.object({ session_id: z.string(), protocol_version: z.string() });
export type ResumeState = z.infer<typeof ResumeState>;

/** The part of an upstream tool this service keeps: what the LLM needs and what routing needs. */
export const UpstreamTool = z.object({
  name: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.json()),
});
export type UpstreamTool = z.infer<typeof UpstreamTool>;

export type FailureKind =
  /** The deadline passed. */
  | "timeout"
  /** The upstream does not know our MCP session (it restarted): re-initialize; the request was not run. */
  | "session_expired"
  /** The connection was already closed: the request never left. */
  | "not_sent"
  /** The network failed (refused, reset, DNS). */
  | "unreachable"
  /** An HTTP error status other than a session miss. */
  | "http"
  /** The server answered with a JSON-RPC error or an invalid result: it is alive, the request failed. */
  | "protocol"
  /**
   * The connection broke while the request was out (the server died mid-call): it may have run, so it is
   * never retried; the caller is told at once instead of at its timeout.
   */
  | "lost";

export interface UpstreamFailure {
  kind: FailureKind;
  message: string;
  status?: number;
  mcp_code?: number;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: UpstreamFailure };

export interface ConnectionHooks {
  /** `notifications/tools/list_changed` arrived. */
  onToolsChanged(): void;
  /** The connection died on its own (stream dropped, session gone); the owner should forget it. */
  onDead(reason: string): void;
}

/** What the SDK reports when a started reply or notification stream broke. */
const BROKEN_STREAM = /SSE stream disconnected|Failed to reconnect|Maximum reconnection/;

/** tools/list pages followed at most; a server paging forever is cut off here. */
const MAX_PAGES = 50;
const MAX_TOOLS = 1000;

export class UpstreamConnection {
  #dead = false;
  #deathReason = "";
  #closed = false;

  private constructor(
    private readonly target: UpstreamTarget,
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport | SingleDelivery,
    private readonly state: FetchState,
  ) {}

  /**
   * Connects. A Streamable HTTP `resume` skips initialize (one round trip less after a Durable Object
   * wake); if the upstream forgot that session, the first request says so as `session_expired`.
   */
  /** @param connectTimeoutMs what is left of the caller's own deadline, when shorter than `connect_timeout_ms` */
  static async open(target: UpstreamTarget, hooks: ConnectionHooks, resume?: ResumeState, connectTimeoutMs = target.connect_timeout_ms): Promise<Outcome<UpstreamConnection>> {
    const state: FetchState = { sessionExpired: false };
    const fetchImpl = boundedFetch(target, state);
    const headers = { ...target.headers };
    const transport =
      target.transport === "sse"
        ? new SingleDelivery(new SSEClientTransport(new URL(target.url), { requestInit: { headers }, fetch: fetchImpl }))
        : new StreamableHTTPClientTransport(new URL(target.url), {
            requestInit: { headers },
            fetch: fetchImpl,
            sessionId: resume?.session_id,
          });
    const client = new Client(
      { name: "xiaozhi-mcp-service", version: VERSION },
      // Never Ajv: it compiles schemas with `new Function`, which workerd refuses (EvalError) in production.
      { capabilities: {}, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
    );
    const connection = new UpstreamConnection(target, client, transport, state);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => hooks.onToolsChanged());
    client.onerror = (error) => {
      if (connection.#closed) return;
      // Legacy SSE: the event stream *is* the session; once it errors, replies can no longer arrive.
      if (target.transport === "sse") connection.#die(hooks, `SSE stream failed: ${messageOf(error)}`);
      else if (state.sessionExpired) connection.#die(hooks, "upstream session expired");
      // Streamable HTTP: a reply or notification stream broke after it had started (the server died or was cut
      // off). The SDK would wait out each call's timeout for replies that can no longer come; closing fails them
      // now. A request that could not be sent at all fails on its own, and is retried on a fresh connection.
      else if (BROKEN_STREAM.test(messageOf(error))) connection.#die(hooks, `connection to ${target.name} lost: ${messageOf(error)}`);
    };
    client.onclose = () => {
      if (!connection.#closed) connection.#die(hooks, "connection closed");
    };

    if (resume && transport instanceof StreamableHTTPClientTransport) transport.setProtocolVersion(resume.protocol_version);
    const connected = await settle(client.connect(transport, { timeout: connectTimeoutMs }), connectTimeoutMs, `connecting to ${target.name}`);
    if (!connected.ok) {
      await connection.close();
      return connected;
    }
    if (resume && transport instanceof StreamableHTTPClientTransport) {
      // A resumed session gets no initialize, so the SDK opens no notification stream: open it ourselves.
      // An empty event id means "no replay". Failure is harmless: the cache TTL still refreshes the list.
      transport.resumeStream("").catch(() => undefined);
    }
    return { ok: true, value: connection };
  }

  /** Session id and protocol version to persist, for Streamable HTTP sessions. */
  get resumeState(): ResumeState | undefined {
    if (!(this.transport instanceof StreamableHTTPClientTransport)) return undefined;
    const session_id = this.transport.sessionId;
    const protocol_version = this.transport.protocolVersion;
    return session_id && protocol_version ? { session_id, protocol_version } : undefined;
  }

  get serverInfo(): { name: string; version: string } | undefined {
    const info = this.client.getServerVersion();
    return info ? { name: info.name, version: info.version } : undefined;
  }

  get alive(): boolean {
    return !this.#dead && !this.#closed && !this.state.sessionExpired;
  }

  /** Every page of tools/list, within one deadline for the whole walk. */
  async listTools(deadlineMs: number): Promise<Outcome<UpstreamTool[]>> {
    const deadline = Date.now() + deadlineMs;
    const tools: UpstreamTool[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return failure("timeout", `listing tools of ${this.target.name} took longer than ${deadlineMs} ms`);
      const listed = await this.#request(
        () => this.client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: remaining, maxTotalTimeout: remaining }),
        remaining,
        `tools/list on ${this.target.name}`,
      );
      if (!listed.ok) return listed;
      for (const tool of listed.value.tools) {
        // Tools that must run as tasks cannot be called with a plain tools/call: never offer them.
        if (tool.execution?.taskSupport === "required") continue;
        const parsed = UpstreamTool.safeParse({ name: tool.name, description: tool.description ?? tool.title ?? "", inputSchema: tool.inputSchema });
        if (parsed.success) tools.push(parsed.data);
      }
      cursor = listed.value.nextCursor;
      if (cursor === undefined || tools.length >= MAX_TOOLS || seenCursors.has(cursor)) break;
      seenCursors.add(cursor);
    }
    return { ok: true, value: tools.slice(0, MAX_TOOLS) };
  }

  /** tools/call with the upstream's own tool name and the caller's arguments, untouched. */
  async callTool(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<Outcome<RawCallResult>> {
    const called = await this.#request(
      () => this.client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs, maxTotalTimeout: timeoutMs }),
      timeoutMs,
      `tools/call ${name} on ${this.target.name}`,
    );
    if (!called.ok) return called;
    const parsed = RawCallResult.safeParse(called.value);
    if (!parsed.success) return failure("protocol", `${this.target.name} returned a tool result this service cannot read`);
    return { ok: true, value: parsed.data };
  }

  async ping(timeoutMs: number): Promise<Outcome<void>> {
    const pinged = await this.#request(() => this.client.ping({ timeout: timeoutMs }), timeoutMs, `ping ${this.target.name}`);
    return pinged.ok ? { ok: true, value: undefined } : pinged;
  }

  /** Closes streams and aborts in-flight fetches. Never throws. */
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

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion(version);
  }
}

interface FetchState {
  /** Set when the upstream answers a request carrying our session id with "unknown session". */
  sessionExpired: boolean;
}

/**
 * The transports' fetch: adds deadlines and notices session misses. POST/DELETE get one deadline for the
 * whole exchange (a streamed reply included); GET (the notification / SSE stream) only for its headers.
 */
function boundedFetch(target: UpstreamTarget, state: FetchState): typeof fetch {
  const exchangeMs = Math.max(target.timeout_ms, target.connect_timeout_ms) + 1_000;
  return async (input, init) => {
    const method = (init?.method ?? "GET").toUpperCase();
    // Requests that belong to an MCP session: Streamable HTTP carries it in a header, legacy SSE in the
    // POST endpoint's query string.
    const inSession = target.transport === "sse" ? method === "POST" : new Headers(init?.headers).has("mcp-session-id");
    const signals: AbortSignal[] = init?.signal ? [init.signal] : [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (method === "GET") {
      const headersDeadline = new AbortController();
      timer = setTimeout(
        () => headersDeadline.abort(new DOMException(`no response from ${target.name} within ${target.connect_timeout_ms} ms`, "TimeoutError")),
        target.connect_timeout_ms,
      );
      signals.push(headersDeadline.signal);
    } else {
      signals.push(AbortSignal.timeout(exchangeMs));
    }
    try {
      const response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
      if (inSession && (response.status === 404 || (response.status === 400 && /session/i.test(await response.clone().text())))) {
        // The spec says 404; several popular servers (server-everything among them) answer 400 "No valid session ID".
        state.sessionExpired = true;
      }
      return response;
    } finally {
      clearTimeout(timer);
    }
  };
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

export function classify<T>(error: unknown, what: string, timeoutMs: number): Outcome<T> {
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) return failure("timeout", `${what} took longer than ${timeoutMs} ms`);
    if (error.code === ErrorCode.ConnectionClosed) return failure("unreachable", `${what}: connection closed`);
    return { ok: false, failure: { kind: "protocol", message: `${what}: ${stripMcpPrefix(error.message)}`, mcp_code: error.code } };
  }
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  const message = messageOf(error);
  if (name === "TimeoutError" || name === "AbortError" || /timed? ?out/i.test(message)) {
    return failure("timeout", `${what} took longer than ${timeoutMs} ms`);
  }
  const status = httpStatusOf(error);
  if (status !== undefined) return { ok: false, failure: { kind: "http", message: `${what}: HTTP ${status}`, status } };
  if (message === "Not connected") return failure("not_sent", `${what}: not connected`);
  return failure("unreachable", `${what}: ${message}`);
}

function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number" && code >= 100 && code < 600) return code;
  const match = /\(HTTP (\d{3})\)|Non-200 status code \((\d{3})\)/.exec(messageOf(error));
  const text = match?.[1] ?? match?.[2];
  return text ? Number(text) : undefined;
}

function stripMcpPrefix(message: string): string {
  return message.replace(/^MCP error -?\d+: /, "");
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : "unknown error";
}

function failure<T>(kind: FailureKind, message: string): Outcome<T> {
  return { ok: false, failure: { kind, message } };
}
