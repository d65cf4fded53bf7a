/**
 * {@link McpService} over the session Durable Objects: each call goes to the object named by its
 * `session_id`. This is the only place the Worker touches the `SESSIONS` binding.
 */
import type { McpService } from "../core/service";
import { loggedResult } from "../observability/tool-call-log";
import type { SessionObject, SessionRpc } from "../../durable-objects/session-object";

type Sessions = DurableObjectNamespace<SessionObject>;

// The stub's generated Rpc types recurse without end over JSON values (TS2589); the object's own interface
// is the same contract, stated once.
const session = (namespace: Sessions, id: string) => namespace.getByName(id) as unknown as SessionRpc;

/** @param requestId carried into the per-tool-call log line, to correlate it with the request's. */
export function sessionDirectory(namespace: Sessions, requestId = ""): McpService {
  return {
    bindSession: (input) => session(namespace, input.session_id).bind(input),
    getSession: (input) => session(namespace, input.session_id).view(input),
    unbindSession: (input) => session(namespace, input.session_id).unbind(input),
    getTools: (input) => session(namespace, input.session_id).tools(input),
    // The tool.call line is written here, in the request's own invocation (observability/tool-call-log.ts).
    executeTool: async (input) => loggedResult(await session(namespace, input.session_id).execute(input, requestId)),
    handleDeviceFrames: (input) => session(namespace, input.session_id).frames(input),
  };
}

/** Hands a relay attachment (WebSocket upgrade or SSE stream) to the session's object. */
export function relayToSession(namespace: Sessions, sessionId: string, request: Request): Promise<Response> {
  return session(namespace, sessionId).fetch(request);
}

/** Device frames relayed over HTTP were refused for their size: the call in flight they answer fails now. */
export function reportOversizedFrame(namespace: Sessions, sessionId: string, limitBytes: number): Promise<void> {
  return session(namespace, sessionId).oversizedFrame(limitBytes);
}
