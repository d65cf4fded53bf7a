/**
 * The tools of an agent's dial-in providers, as one source of a session's catalogue. They live in the
 * agent's Durable Object; every call to it has a deadline of its own.
 */
import { withDeadline } from "../../core/deadline";
import { ok } from "../../core/errors";
import { log } from "../../observability/log";
import { callOutcome, genericResult } from "../../tools/peer/jsonrpc";
import type { ToolDescriptor } from "../../core/schemas";
import type { Source } from "../../tools/tool-source";
import type { AgentRpc } from "./agent-rpc";

/** Listing is on the path of every LLM turn: an agent that does not answer quickly is skipped. */
const LIST_TIMEOUT_MS = 2_000;

export function agentRpc(namespace: DurableObjectNamespace, agentId: string): AgentRpc {
  // The generated Rpc stub types recurse without end over JSON values (TS2589); same contract, stated once.
  return namespace.getByName(agentId) as unknown as AgentRpc;
}

export function agentTools(namespace: DurableObjectNamespace, agentId: string, callTimeoutMs: number): Source {
  const agent = () => agentRpc(namespace, agentId);
  return {
    kind: "provider",
    list: async (): Promise<ToolDescriptor[]> => {
      const tools = await withDeadline(agent().tools(), LIST_TIMEOUT_MS, "agent");
      if (tools.ok) return tools.value;
      // The catalogue goes on without the providers' tools: say so, or a slow agent object is invisible.
      log("warn", "agent.tools_late", { agent_id: agentId, code: tools.error.code, message: tools.error.message });
      return [];
    },
    // The provider's own call timeout fires first; this one only guards against a stuck agent object.
    call: async (name, args) => {
      const reply = await withDeadline(agent().call(name, args), callTimeoutMs + 1_000, "agent");
      return reply.ok ? ok(genericResult(callOutcome(reply.value))) : reply;
    },
  };
}
