/** `/api/v1/mcp/servers`: the configured external MCP servers with their live state (behind auth). */
import { z } from "zod";
import { ExternalServerState, externalServerStates } from "../sources/external";
import { route } from "./openapi/spec";

export const ServerList = z.object({ servers: z.array(ExternalServerState) });

export const serverRoutes = [
  route(
    {
      method: "get",
      path: "/api/v1/mcp/servers",
      operationId: "listServers",
      summary: "External MCP servers and their live state (config order)",
      tags: ["servers"],
      response: { description: "The configured servers", schema: ServerList },
      errors: [],
      examples: {
        response: {
          servers: [
            {
              name: "calculator",
              state: "healthy",
              transport: "streamable-http",
              tool_count: 2,
              last_error: null,
              last_success: "2026-11-25T08:00:00.000Z",
              url: "https://tools.example.com/mcp",
              visible: true,
              consecutive_failures: 0,
              next_retry_at: null,
            },
          ],
        },
      },
    },
    async (c) => ({ servers: await externalServerStates(c.get("config"), c.env) }),
  ),
];
