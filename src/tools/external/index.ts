/**
 * External MCP servers (issue 4) — public surface used by the session Durable Object and the HTTP layer.
 * PLACEHOLDER until the external-server work lands: no servers, no issues.
 */
import type { ServiceConfig } from "../../core/config";
import type { AppError } from "../../core/errors";
import type { ToolDescriptor } from "../../core/schemas";
import type { ToolProvider } from "../tool-provider";

export interface ExternalServerState {
  name: string;
  state: "starting" | "healthy" | "unhealthy" | "disabled" | "misconfigured";
  transport: string;
  tool_count: number;
  last_error: string | null;
  last_success: string | null;
}

/** The tool provider of every configured external server, for one session's catalogue. */
export function externalTools(_config: ServiceConfig, _env: Env): ToolProvider {
  return {
    source: "external",
    list: async (): Promise<ToolDescriptor[]> => [],
    call: async (name) => ({ ok: false, error: { code: "tool_not_found", message: `Tool '${name}' is not available in this session` } }),
  };
}

/** Configuration problems (e.g. stdio `command` entries), reported by /healthz; never throws. */
export function externalConfigIssues(_config: ServiceConfig): AppError[] {
  return [];
}

/** Live state of each configured server, for /api/v1/mcp/servers and /readyz. */
export async function externalServerStates(_config: ServiceConfig, _env: Env): Promise<ExternalServerState[]> {
  return [];
}
