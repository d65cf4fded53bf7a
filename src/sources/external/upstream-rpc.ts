/**
 * The RPC surface of an upstream's object (durable-objects/upstream-object.ts), as session and agent objects
 * call it: requests and replies are plain data, every reply a Result (errors lose their fields across RPC).
 */
import type { z } from "zod";
import type { Result } from "../../core/errors";
import type { Health } from "./health";
import type { RawCallResult } from "./result-mapping";
import type { UpstreamTool } from "./upstream-client";

export interface UpstreamRef {
  /** The server's name in `mcpServers`. */
  server: string;
  /** {@link connectionDigest} as the caller computed it: both sides must read the same configuration. */
  digest: string;
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
}

export interface CallRequest extends UpstreamRef {
  tool: string;
  arguments: Record<string, z.core.util.JSONType>;
}

export interface UpstreamStatus {
  version: number;
  tool_count: number;
  visible: boolean;
  health: Health;
  server_info: { name: string; version: string } | null;
}

/** The RPC surface, as the session object calls it. */
export interface UpstreamRpc {
  catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>>;
  call(request: CallRequest): Promise<Result<RawCallResult>>;
  status(request: UpstreamRef): Promise<Result<UpstreamStatus>>;
}

