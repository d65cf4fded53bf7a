/**
 * Who a bearer token acts for: one of the service tokens (`MCP_SERVICE_TOKEN`), or a valid agent token
 * (src/tenants/agent-tokens.ts), checked against its agent's object through the isolate's short cache.
 */
import type { Principal } from "../core/principal";
import { agentRpc } from "../sources/dial-in/agent-source";
import { verifyAgentToken } from "../tenants/token-verifier";
import { isAcceptedToken } from "./auth";

export const SERVICE_PRINCIPAL: Principal = { kind: "service" };

/** The principal of a presented token, or undefined (no token, a wrong one, a revoked or expired agent token). */
export async function principalOf(presented: string | undefined, accepted: readonly string[], env: Env, cacheMs: number): Promise<Principal | undefined> {
  if (presented === undefined) return undefined;
  if (await isAcceptedToken(presented, accepted)) return SERVICE_PRINCIPAL;
  const agents = env.AGENTS as unknown as DurableObjectNamespace;
  return verifyAgentToken(presented, (agentId, id) => agentRpc(agents, agentId).tokenRecord(id), cacheMs);
}
