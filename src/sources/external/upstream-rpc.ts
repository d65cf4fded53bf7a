/**
 * The RPC surface of an upstream's object (durable-objects/upstream-object.ts), as session objects, agent
 * objects and Worker isolates call it: requests and replies are plain data, every reply a Result (errors lose
 * their fields across RPC). None of it is on a tool call's path in steady state: callers call the upstream
 * directly on the route a catalogue reply gave them, and come back only to renew a refused route or to
 * report a change of health. `call` remains for HTTP+SSE upstreams, whose replies arrive on the object's stream.
 */
import { z } from "zod";
import type { Result } from "../../core/errors";
import type { Health } from "./health";
import type { RawCallResult } from "./result-mapping";
import { ServerDefinition, type ExternalServer } from "./server-config";
import { FAILURE_KINDS, type ProtocolInfo, type UpstreamRoute, type UpstreamTool } from "./upstream-model";

export interface UpstreamRef {
  /** The server's name in `mcpServers`. */
  server: string;
  /** {@link connectionDigest} as the caller computed it: both sides must read the same configuration. */
  digest: string;
  /** The server as the caller's configuration defines it (an agent's own servers are not in the service's). */
  definition?: ExternalServer;
}

export interface CatalogueRequest extends UpstreamRef {
  /** The catalogue version the caller already holds; when current, the tools are not sent again. */
  known_version?: number;
}

export interface CatalogueReply {
  /** Epoch ms of the discovery that produced the tools; 0 = never discovered. */
  version: number;
  /** Absent when the caller's `known_version` is current. */
  tools?: UpstreamTool[];
  visible: boolean;
  health: Health;
  /** How to call the upstream directly (Streamable HTTP upstreams, once connected); always sent, it is small. */
  route?: UpstreamRoute;
  /** How long the upstream itself says its tool list stays fresh (a 2026-07-28 tools/list `ttlMs`). */
  ttl_ms?: number;
}

export interface FollowRequest extends UpstreamRef {
  /** The name of the session-class object to tell (a shared endpoint's stream object). */
  follower: string;
}

export interface CallRequest extends UpstreamRef {
  tool: string;
  arguments: Record<string, z.core.util.JSONType>;
}

export const RenewRequest = z.object({
  server: z.string(),
  digest: z.string(),
  definition: ServerDefinition.optional(),
  /** {@link routeKey} of the route the upstream refused. */
  stale: z.string().max(8_192),
  /** What is left of the caller's deadline: the reply is due within it. */
  budget_ms: z.number().int().min(0).max(600_000),
});
export type RenewRequest = z.infer<typeof RenewRequest>;

/**
 * What a caller saw on a direct call, sent only when it changes something: a failure, a timeout (the object
 * probes before judging), or a success while the caller's copy of the health was not healthy.
 */
export const ReportRequest = z.object({
  server: z.string(),
  digest: z.string(),
  definition: ServerDefinition.optional(),
  outcome: z.discriminatedUnion("type", [
    z.object({ type: z.literal("success") }),
    z.object({ type: z.literal("timeout") }),
    z.object({ type: z.literal("failure"), kind: z.enum(FAILURE_KINDS), message: z.string().max(2_000) }),
  ]),
});
export type ReportRequest = z.infer<typeof ReportRequest>;

export interface UpstreamStatus {
  version: number;
  tool_count: number;
  visible: boolean;
  health: Health;
  server_info: { name: string; version: string } | null;
  /** The protocol era and version the last connection negotiated (null before the first). */
  protocol: ProtocolInfo | null;
}

/** The RPC surface, as callers see it. */
export interface UpstreamRpc {
  catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>>;
  /** A tools/call through the object: HTTP+SSE upstreams, and callers holding no route. */
  call(request: CallRequest): Promise<Result<RawCallResult>>;
  renew(request: RenewRequest): Promise<Result<UpstreamRoute>>;
  /** Tell `follower` when the tool list changes (see Upstream.follow). */
  follow(request: FollowRequest): Promise<Result<{ followers: number }>>;
  /** Returns the health after the report, for the caller's copy. */
  report(request: ReportRequest): Promise<Result<Health>>;
  status(request: UpstreamRef): Promise<Result<UpstreamStatus>>;
}
