/**
 * The consumer side of an agent's MCP endpoint (接入点): what xiaozhi-esp32-server dials after its `/mcp/` →
 * `/call/` rewrite (../shared/spec/xiaozhi-endpoint.md). Raw JSON-RPC over one WebSocket, no envelope; the
 * service is the MCP server, answering from the agent's providers (and, by configuration, its external
 * servers). Pure: the agent object supplies the tools and the calls, and sends what this returns.
 *
 * - `initialize`, `notifications/initialized` and `tools/list` may arrive back to back; each is answered on its
 *   own. Protocol versions from 2024-11-05 on are accepted (the client's is echoed when known).
 * - Ids are the consumer's: echoed, never used as keys, so reused and overlapping ids are fine.
 * - `tools/list` pages with `cursor`; `tools/call` answers with the tool's MCP result as the tool gave it.
 * - The consumer is sent nothing but replies: no requests, no notifications (it ignores them anyway).
 * - A frame that is not JSON-RPC gets a JSON-RPC error; calls in flight per socket are bounded.
 */
import { z } from "zod";
import { appError, jsonRpcErrorOf, type AppError, type Result } from "../../core/errors";
import { readFrame, type FrameLimits } from "../../tools/peer/frame-intake";
import { VERSION } from "../../version";

export const SUPPORTED_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] as const;
const LATEST = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1];

export interface ConsumerTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** An MCP `CallToolResult` as a tool gave it (content, structuredContent, isError, and anything else). */
export type CallResult = Record<string, unknown> & { content?: unknown; isError?: boolean };

export interface ConsumerCore {
  tools(): Promise<ConsumerTool[]>;
  /** The tool's MCP result, or why there is none (unknown tool, provider gone, timeout, …). */
  call(name: string, args: Record<string, unknown>): Promise<Result<CallResult>>;
}

export interface ConsumerLimits extends FrameLimits {
  /** Tools per `tools/list` page. */
  pageSize: number;
  /** Calls one consumer socket may have in flight; past it, calls are answered with `rate_limited`. */
  maxCallsInFlight: number;
}

type Id = string | number;

const Request = z.object({
  jsonrpc: z.literal("2.0").optional(),
  id: z.union([z.string(), z.number()]).optional(),
  method: z.string(),
  params: z.unknown().optional(),
});

const CallParams = z.looseObject({
  name: z.string({ error: "params.name must be a string" }).min(1, "params.name must not be empty"),
  arguments: z.record(z.string(), z.json(), { error: "params.arguments must be an object" }).optional(),
});
const ListParams = z.object({ cursor: z.string().optional() }).loose().nullish();
const InitializeParams = z.looseObject({ protocolVersion: z.string().optional() }).nullish();

/** One consumer connection: only its count of calls in flight is kept (in memory, like the calls). */
export class ConsumerConnection {
  #inFlight = 0;

  constructor(
    private readonly core: ConsumerCore,
    private readonly limits: ConsumerLimits,
  ) {}

  /** Handles one frame; resolves to the reply to send, or undefined when nothing is answered. */
  async handle(text: string): Promise<string | undefined> {
    const read = readFrame(text, this.limits);
    if (read.kind === "oversized") return reply(null, { error: protocolError(-32600, appError("payload_too_large", `Frame over ${this.limits.maxBytes} bytes`)) });
    if (read.kind === "too_deep") return reply(null, { error: protocolError(-32600, appError("invalid_request", `JSON nests deeper than ${this.limits.maxDepth}`)) });
    if (read.kind === "malformed") return reply(null, { error: protocolError(-32700, appError("invalid_request", "Parse error: the frame is not JSON")) });
    if (Array.isArray(read.value)) return reply(null, { error: protocolError(-32600, appError("invalid_request", "Batches are not supported: send one message per frame")) });
    const value = read.value as Record<string, unknown> | null;
    if (typeof value === "object" && value !== null && !("method" in value) && ("result" in value || "error" in value)) return undefined; // a reply: we ask nothing
    const request = Request.safeParse(value);
    if (!request.success) {
      const id = typeof value === "object" && value !== null && (typeof value.id === "string" || typeof value.id === "number") ? value.id : null;
      return reply(id, { error: protocolError(-32600, appError("invalid_request", "Invalid Request: a JSON-RPC 2.0 request needs a string method")) });
    }
    const { id, method, params } = request.data;
    if (id === undefined) return undefined; // notifications (initialized, cancelled, …) need nothing
    return reply(id, await this.#answer(method, params));
  }

  async #answer(method: string, params: unknown): Promise<{ result: unknown } | { error: unknown }> {
    switch (method) {
      case "initialize": {
        const requested = InitializeParams.safeParse(params).data?.protocolVersion;
        const protocolVersion = (SUPPORTED_VERSIONS as readonly string[]).includes(requested ?? "") ? requested : LATEST;
        // `listChanged: false`: this endpoint never sends notifications (xiaozhi's consumer ignores them).
        return { result: { protocolVersion, capabilities: { tools: { listChanged: false } }, serverInfo: { name: "xiaozhi-mcp-service", version: VERSION } } };
      }
      case "ping":
        return { result: {} };
      case "tools/list":
        return this.#list(params);
      case "tools/call":
        return this.#call(params);
      default:
        return { error: protocolError(-32601, appError("route_not_found", `Method not found: ${method}`)) };
    }
  }

  async #list(params: unknown): Promise<{ result: unknown } | { error: unknown }> {
    const parsed = ListParams.safeParse(params);
    if (!parsed.success) return { error: jsonRpcErrorOf(appError("invalid_request", "Invalid tools/list params")) };
    const cursor = parsed.data?.cursor;
    const start = cursor === undefined ? 0 : Number(cursor);
    const tools = await this.core.tools();
    if (!Number.isInteger(start) || start < 0 || start > tools.length) return { error: jsonRpcErrorOf(appError("invalid_request", `Unknown cursor: ${cursor}`)) };
    const end = Math.min(tools.length, start + this.limits.pageSize);
    const page = tools.slice(start, end);
    return { result: end < tools.length ? { tools: page, nextCursor: String(end) } : { tools: page } };
  }

  async #call(params: unknown): Promise<{ result: unknown } | { error: unknown }> {
    const parsed = CallParams.safeParse(params);
    if (!parsed.success) {
      return { error: jsonRpcErrorOf(appError("invalid_request", `Invalid tools/call params: ${parsed.error.issues[0]?.message ?? "invalid"}`)) };
    }
    if (this.#inFlight >= this.limits.maxCallsInFlight) {
      return { error: jsonRpcErrorOf(appError("rate_limited", `Too many calls in flight on this connection (at most ${this.limits.maxCallsInFlight})`)) };
    }
    this.#inFlight += 1;
    try {
      const called = await this.core.call(parsed.data.name, parsed.data.arguments ?? {});
      if (!called.ok) return { error: jsonRpcErrorOf(called.error) };
      return { result: forXiaozhi(called.value) };
    } finally {
      this.#inFlight -= 1;
    }
  }
}

/**
 * A failed tool's result also carries its text as a top-level `error` string: xiaozhi's consumer reads
 * `result.error` (not `content`) when `isError` is set, and would otherwise lose the reason.
 */
function forXiaozhi(result: CallResult): CallResult {
  if (result.isError !== true || typeof result.error === "string") return result;
  const texts = Array.isArray(result.content)
    ? result.content.filter((item): item is { type: "text"; text: string } => typeof item === "object" && item !== null && item.type === "text" && typeof item.text === "string")
    : [];
  return { ...result, error: texts.map((item) => item.text).join("\n") || "The tool reported an error without a message" };
}

/** A JSON-RPC-level error: the standard code the spec mandates, the service's code in `data.app_code`. */
function protocolError(code: number, error: AppError) {
  return { ...jsonRpcErrorOf(error), code };
}

function reply(id: Id | null, body: { result: unknown } | { error: unknown }): string {
  return JSON.stringify({ jsonrpc: "2.0", id, ...body });
}
