/**
 * The RPC surface of an agent's object (durable-objects/agent-object.ts), as sessions and the Worker call it.
 * Replies are Results: errors lose their fields across Durable Object RPC.
 */
import type { Result } from "../../core/errors";
import type { ToolDescriptor } from "../../core/schemas";
import type { PeerResponse } from "../../tools/peer/jsonrpc";
import type { ToolArgs } from "../../tools/tool-source";
import type { TenantRpc } from "../../tenants/tenant-rpc";

import type { ProviderStatus } from "./endpoint-schemas";

export type { ProviderStatus };

/** The RPC surface of an agent object, as sessions and the Worker call it. */
export interface AgentRpc extends TenantRpc {
  /** The providers' tools as the LLM sees them. */
  tools(): Promise<Result<ToolDescriptor[]>>;
  /** Runs a tool by its LLM name; the provider's raw JSON-RPC reply (mapped by the caller). */
  call(name: string, args: ToolArgs): Promise<Result<PeerResponse>>;
  subscribe(sessionId: string): Promise<Result<{ providers: number }>>;
  unsubscribe(sessionId: string): Promise<Result<{ removed: boolean }>>;
  providers(): Promise<Result<ProviderStatus[]>>;
  fetch(request: Request): Promise<Response>;
}

/** What a session object offers the agent: a nudge that its catalogue (or the agent's config) changed. */
export interface ToolsChangedRpc {
  toolsChanged(): Promise<void>;
  configChanged(): Promise<void>;
}

