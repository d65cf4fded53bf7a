/**
 * {@link McpService} over the session Durable Objects: each call goes to the object named by its
 * `session_id`. This is the only place the Worker touches the `SESSIONS` binding.
 */
import { fail, ok } from "../core/errors";
import type { McpService } from "../core/service";
import type { AgentRateLimits } from "../tenants/rate-limits";
import type { ToolCallEvent } from "../observability/tool-call";
import { loggedResult } from "../observability/tool-call-log";
import { forObject, type ObjectRequest } from "../core/object-request";
import type { SessionRpc } from "./session-rpc";

/** The `SESSIONS` binding, as far as this module needs it. */
type Sessions = { getByName(name: string): unknown };

/**
 * The object of a session. The stub's generated Rpc types recurse without end over JSON values (TS2589); the
 * object's own interface is the same contract, stated once (session-rpc.ts).
 */
export function sessionStub(namespace: Sessions, id: string): SessionRpc {
  return namespace.getByName(id) as unknown as SessionRpc;
}
const session = sessionStub;

/** What confines a caller and what limits it. */
export interface CallerPolicy {
  /** The agent an agent token confines the caller to; undefined: the service (every agent). */
  scope?: string | undefined;
  /** Per-agent limits on binds (tool calls are limited where they run, in the session object). */
  limits?: AgentRateLimits | undefined;
}

/**
 * @param requestId carried into the per-tool-call log line, to correlate it with the request's.
 * @param onToolCall told of every tool execution (metrics), in the caller's invocation: a Worker isolate
 *   batches the calls of many sessions into one metrics write per window, where each session object would
 *   send its own (docs/scaling.md).
 */
export function sessionDirectory(namespace: Sessions, requestId = "", onToolCall?: (call: ToolCallEvent) => void, policy: CallerPolicy = {}): McpService {
  const { scope, limits } = policy;
  return {
    bindSession: async (input) => {
      // An agent token binds for its own agent only: a session without one would escape its confinement.
      if (scope !== undefined && input.agent_id !== scope) return fail("forbidden", "An agent token binds sessions of its own agent only (agent_id)");
      const allowed = (await limits?.bind(input.agent_id)) ?? ok(undefined);
      if (!allowed.ok) return allowed;
      return session(namespace, input.session_id).bind(input, scope);
    },
    getSession: (input) => session(namespace, input.session_id).view(input, scope),
    unbindSession: (input) => session(namespace, input.session_id).unbind(input, scope),
    getTools: (input) => session(namespace, input.session_id).tools(input, scope),
    executeTool: async (input) => {
      const execution = await session(namespace, input.session_id).execute(input, requestId, scope);
      if (execution.call) onToolCall?.(execution.call);
      return loggedResult(execution);
    },
    handleDeviceFrames: (input) => session(namespace, input.session_id).frames(input, scope),
  };
}

/** Hands a relay (WebSocket upgrade, SSE stream) or an MCP exchange to the session's object, saying which. */
export function relayToSession(namespace: Sessions, sessionId: string, request: Request, call: ObjectRequest): Promise<Response> {
  return session(namespace, sessionId).fetch(forObject(request, call));
}

/** Device frames relayed over HTTP were refused for their size: the call in flight they answer fails now. */
export function reportOversizedFrame(namespace: Sessions, sessionId: string, limitBytes: number): Promise<void> {
  return session(namespace, sessionId).oversizedFrame(limitBytes);
}
