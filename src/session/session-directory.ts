/**
 * {@link McpService} over the session Durable Objects: each call goes to the object named by its
 * `session_id`. This is the only place the Worker touches the `SESSIONS` binding.
 */
import type { McpService } from "../core/service";
import type { SessionObject, SessionRpc } from "./session-object";

export function sessionDirectory(namespace: DurableObjectNamespace<SessionObject>): McpService {
  // The stub's generated Rpc types recurse without end over JSON values (TS2589); the object's own
  // interface is the same contract, stated once.
  const session = (id: string) => namespace.getByName(id) as unknown as SessionRpc;
  return {
    bindSession: (input) => session(input.session_id).bind(input),
    getSession: (input) => session(input.session_id).view(input),
    unbindSession: (input) => session(input.session_id).unbind(input),
    getTools: (input) => session(input.session_id).tools(input),
    executeTool: (input) => session(input.session_id).execute(input),
  };
}
