/**
 * REST adapter: `/api/v1/mcp/...` sessions and tools. Each route is its spec and its handler (openapi/spec.ts):
 * the spec's schemas parse the input, the core answers, Results become JSON or the error shape.
 */
import { z } from "zod";
import { unwrap } from "../core/errors";
import { BindSessionBody, BindSessionResponse, ExecuteToolBody, SessionId, SessionView, ToolList, ToolName, ToolResult, UnbindSessionResponse } from "../core/schemas";
import { EXAMPLE_BIND, EXAMPLE_EXECUTE, EXAMPLE_RESULT, EXAMPLE_SESSION, EXAMPLE_TOOL, EXAMPLE_VIEW } from "./examples";
import { route } from "./openapi/spec";
import { SessionParams } from "./request";

const ToolParams = z.object({ toolName: ToolName.describe("The tool's LLM name, as listed by getTools") });
const ToolsQuery = z.object({ session_id: SessionId });

export const restRoutes = [
  route(
    {
      method: "post",
      path: "/api/v1/mcp/sessions/{sessionId}/bind",
      operationId: "bindSession",
      summary: "Bind (or rebind) a conversation's context",
      description:
        "Call at device connect. Binding again updates the context and keeps `created_at` (devices reconnect " +
        "for every conversation), so the call is idempotent and safe to retry.",
      tags: ["sessions"],
      agents: true,
      params: SessionParams,
      body: BindSessionBody,
      response: { description: "The bound session", schema: BindSessionResponse },
      errors: ["rate_limited"],
      examples: { params: { sessionId: EXAMPLE_SESSION }, body: EXAMPLE_BIND, response: { success: true, session: EXAMPLE_VIEW } },
    },
    async (c, { params, body }) => ({ success: true as const, session: unwrap(await c.get("service").bindSession({ ...body, session_id: params.sessionId })) }),
  ),
  route(
    {
      method: "get",
      path: "/api/v1/mcp/sessions/{sessionId}",
      operationId: "getSession",
      summary: "Read a session (its token is never returned)",
      tags: ["sessions"],
      agents: true,
      params: SessionParams,
      response: { description: "The session", schema: SessionView },
      errors: ["session_not_found"],
      examples: { params: { sessionId: EXAMPLE_SESSION }, response: EXAMPLE_VIEW },
    },
    async (c, { params }) => unwrap(await c.get("service").getSession({ session_id: params.sessionId })),
  ),
  route(
    {
      method: "delete",
      path: "/api/v1/mcp/sessions/{sessionId}",
      operationId: "unbindSession",
      summary: "Unbind a session at device disconnect",
      description: "Deletes the session's state and closes its device relay. A second call answers `session_not_found`.",
      tags: ["sessions"],
      agents: true,
      params: SessionParams,
      response: { description: "Deleted", schema: UnbindSessionResponse },
      errors: ["session_not_found"],
      examples: { params: { sessionId: EXAMPLE_SESSION }, response: { success: true, session_id: EXAMPLE_SESSION, deleted: true } },
    },
    async (c, { params }) => ({ success: true as const, ...unwrap(await c.get("service").unbindSession({ session_id: params.sessionId })) }),
  ),
  route(
    {
      method: "get",
      path: "/api/v1/mcp/tools",
      operationId: "getTools",
      summary: "The session's tools, as the LLM sees them",
      description: "Device tools (device order), then local, then external (config order): the same inputs give the same list.",
      tags: ["tools"],
      agents: true,
      query: ToolsQuery,
      response: { description: "The tool list", schema: ToolList },
      errors: ["session_not_found"],
      examples: { query: { session_id: EXAMPLE_SESSION }, response: { tools: [EXAMPLE_TOOL] } },
    },
    async (c, { query }) => unwrap(await c.get("service").getTools({ session_id: query.session_id })),
  ),
  route(
    {
      method: "post",
      path: "/api/v1/mcp/tools/{toolName}/execute",
      operationId: "executeTool",
      summary: "Run a tool; the result follows the ActionResponse contract",
      description:
        "A tool that ran and failed is a 200 with `success:false, action:\"error\"`; API errors are for calls that " +
        "could not run. Not idempotent: never retried by the client.",
      tags: ["tools"],
      agents: true,
      params: ToolParams,
      body: ExecuteToolBody,
      response: { description: "The tool's result", schema: ToolResult },
      errors: ["session_not_found", "tool_not_found", "session_conflict", "upstream_error", "device_unavailable", "timeout", "rate_limited"],
      examples: { params: { toolName: "local_play_music" }, body: EXAMPLE_EXECUTE, response: EXAMPLE_RESULT },
    },
    async (c, { params, body }) => unwrap(await c.get("service").executeTool({ ...body, tool_name: params.toolName })),
  ),
];
