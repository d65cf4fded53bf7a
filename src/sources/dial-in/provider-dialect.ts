/**
 * Dial-in tool providers (spec §7): plain MCP servers speaking raw JSON-RPC. What we say to them on connect;
 * their tools are named `<provider>__<tool>` by the agent's naming scope (agent-object.ts).
 */
export const PROVIDER_PROTOCOL_VERSION = "2025-06-18";

export function providerInitializeParams(): Record<string, unknown> {
  return { protocolVersion: PROVIDER_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "xiaozhi-mcp-service", version: "1.0.0" } };
}
