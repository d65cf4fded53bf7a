/**
 * Who a request acts for, as the bearer token says: the service (an operator or a trusted gateway, holding a
 * `MCP_SERVICE_TOKEN`) or one agent (a tenant, holding one of its agent tokens). Routes allow agents
 * explicitly, and everything an agent reaches is scoped to its own agent (docs: README "Multi-tenant
 * deployments").
 */
export type Principal = { kind: "service" } | { kind: "agent"; agent_id: string; token_id: string };

/** The agent a principal is confined to; undefined for the service, which reaches every agent. */
export function agentScope(principal: Principal): string | undefined {
  return principal.kind === "agent" ? principal.agent_id : undefined;
}
