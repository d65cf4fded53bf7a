/**
 * Dial-in tool providers (spec §7): plain MCP servers speaking raw JSON-RPC, whose tools are named
 * `<provider>__<tool>` within the 64 characters LLM APIs accept.
 */
import type { ToolDescriptor } from "../core/schemas";
import { callOutcome, genericResult, type PeerTool } from "../tools/peer/jsonrpc";
import type { PeerDialect } from "../tools/peer/peer-client";
import { sanitizeName, shorten } from "../tools/tool-names";

export const PROVIDER_PROTOCOL_VERSION = "2025-06-18";

export function providerInitializeParams(): Record<string, unknown> {
  return { protocolVersion: PROVIDER_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "xiaozhi-mcp-service", version: "1.0.0" } };
}

export function providerToolName(provider: string, tool: string): string {
  return shorten(`${sanitizeName(provider)}__${sanitizeName(tool)}`);
}

/** `name` is read when tools are described, so a provider renamed after its handshake is named right. */
export function providerDialect(name: () => string): PeerDialect {
  return {
    source: "provider",
    sendInitialized: true,
    describe: (tools: readonly PeerTool[]): ToolDescriptor[] => {
      const seen = new Set<string>();
      const out: ToolDescriptor[] = [];
      for (const tool of tools) {
        const llmName = providerToolName(name(), tool.name);
        if (seen.has(llmName)) continue;
        seen.add(llmName);
        out.push({ name: llmName, description: tool.description, input_schema: tool.inputSchema, source: "provider" });
      }
      return out;
    },
    toResult: (_tool, reply) => genericResult(callOutcome(reply)),
  };
}
