/**
 * Typed client for gateways written in TypeScript.
 *
 * @example
 * ```ts
 * import { createClient } from "xiaozhi-mcp-service/client";
 * const mcp = createClient("http://127.0.0.1:8787", process.env.MCP_SERVICE_TOKEN!);
 * const { tools } = await mcp.getTools.query({ session_id: "s1" });
 * ```
 */
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { AppRouter } from "./router";

export type { AppRouter };

export function createClient(baseUrl: string, token: string, options: { fetch?: typeof fetch } = {}) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: new URL("/trpc", baseUrl).toString(),
        headers: { authorization: `Bearer ${token}` },
        maxItems: 16,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    ],
  });
}
