/**
 * The vocabulary of talking to an upstream MCP server, without the SDK: what is called (a target), what is
 * kept of its tools, how a caller reaches it directly (a route), and how a request failed (kinds the
 * recovery rules act on). The SDK itself stays in upstream-client.ts.
 */
import { z } from "zod";
import type { Transport } from "./server-config";

export interface UpstreamTarget {
  name: string;
  url: string;
  transport: Transport;
  headers: Readonly<Record<string, string>>;
  timeout_ms: number;
  connect_timeout_ms: number;
}

const JsonObject = z.record(z.string(), z.json());

/** The part of an upstream tool this service keeps: what the LLM needs, what routing and result checks need. */
export const UpstreamTool = z.object({
  name: z.string(),
  description: z.string(),
  inputSchema: JsonObject,
  /** Checked against the result's `structuredContent` by the SDK, as it would after its own tools/list. */
  outputSchema: JsonObject.optional(),
});
export type UpstreamTool = z.infer<typeof UpstreamTool>;

/**
 * What a caller needs to send `tools/call` straight to the upstream, with no handshake of its own:
 * - `modern` (2026-07-28): stateless; the `server/discover` result is handed to `connect({ prior })`;
 * - `legacy` (2025 Streamable HTTP): the one MCP session the upstream object holds, shared by every caller
 *   (`session_id` null: the server keeps no sessions).
 * Legacy HTTP+SSE has no route: its replies arrive on the object's event stream, so calls go through it.
 */
export const UpstreamRoute = z.discriminatedUnion("era", [
  z.object({ era: z.literal("modern"), protocol_version: z.string(), discover: JsonObject }),
  z.object({ era: z.literal("legacy"), protocol_version: z.string(), session_id: z.string().nullable() }),
]);
export type UpstreamRoute = z.infer<typeof UpstreamRoute>;

/** The era and protocol version a connection negotiated. */
export const ProtocolInfo = z.object({ era: z.enum(["modern", "legacy"]), protocol_version: z.string() });
export type ProtocolInfo = z.infer<typeof ProtocolInfo>;

/** What tells two routes apart for a renewal: the session (legacy) and the protocol version. */
export function routeKey(route: UpstreamRoute): string {
  return route.era === "legacy" ? `legacy:${route.protocol_version}:${route.session_id ?? ""}` : `modern:${route.protocol_version}`;
}

export type FailureKind =
  /** The deadline passed. */
  | "timeout"
  /**
   * The upstream no longer accepts the route used (it forgot our MCP session, i.e. it restarted, or it no
   * longer speaks that protocol version): renew the route; the request was not run.
   */
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

export const FAILURE_KINDS = ["timeout", "session_expired", "not_sent", "unreachable", "http", "protocol", "lost"] as const satisfies readonly FailureKind[];

export interface UpstreamFailure {
  kind: FailureKind;
  message: string;
  status?: number;
  mcp_code?: number;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: UpstreamFailure };

export function failure<T>(kind: FailureKind, message: string, extra: Pick<UpstreamFailure, "status" | "mcp_code"> = {}): Outcome<T> {
  return { ok: false, failure: { kind, message, ...extra } };
}

/** What tools/list gave: the tools, and how long the upstream says the list stays fresh (2026-07-28 `ttlMs`). */
export interface ListedTools {
  tools: UpstreamTool[];
  ttl_ms?: number;
}

/** An answer longer than `limits.max_answer_bytes`: the call fails as a protocol error (the server is not down). */
export class OversizedAnswer extends Error {
  constructor(maxBytes: number) {
    super(`the answer is longer than ${maxBytes} bytes (limits.max_answer_bytes)`);
  }
}

/** The failure of a request whose answer ran past `limits.max_answer_bytes`, on every path. */
export function oversized<T>(what: string, maxBytes: number): Outcome<T> {
  return failure("protocol", `${what}: ${new OversizedAnswer(maxBytes).message}`);
}
