/**
 * The RPC surface of a session's object (durable-objects/session-object.ts), as the Worker and agents call it.
 * `scope`: the agent a caller is confined to (it holds an agent token); such a caller reaches only sessions
 * bound to that agent, and the others answer as unbound sessions do.
 */
import type { Result } from "../core/errors";
import type { BindSessionInput, ExecuteToolInput, FramesInput, FramesOutcome, SessionRef, SessionView, ToolList } from "../core/schemas";
import type { ToolExecution } from "./session-service";

export interface SessionRpc {
  bind(input: BindSessionInput, scope?: string): Promise<Result<SessionView>>;
  view(ref: SessionRef, scope?: string): Promise<Result<SessionView>>;
  tools(ref: SessionRef, scope?: string): Promise<Result<ToolList>>;
  /** The caller writes the `tool.call` log line of the returned `call` (observability/tool-call-log.ts). */
  execute(input: ExecuteToolInput, requestId?: string, scope?: string): Promise<ToolExecution>;
  unbind(ref: SessionRef, scope?: string): Promise<Result<{ session_id: string; deleted: true }>>;
  frames(input: FramesInput, scope?: string): Promise<Result<FramesOutcome>>;
  /** Relays (WebSocket, SSE) and the MCP endpoint's streams; what the request is says its typed object request. */
  fetch(request: Request): Promise<Response>;
  /** Nudge from the agent object: its providers' tools changed, so MCP clients should list again. */
  toolsChanged(): Promise<void>;
  /** Nudge from the agent object: the agent's own configuration changed. */
  configChanged(): Promise<void>;
  /** A device reply relayed over HTTP was over the body limit: fail the call it answers. */
  oversizedFrame(limitBytes: number): Promise<void>;
}
