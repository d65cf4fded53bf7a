/**
 * REST adapter: `/api/v1/mcp/...`. Validates with the shared zod schemas, calls the core, renders Results.
 */
import { Hono } from "hono";
import { BindSessionBody, ExecuteToolBody, SessionId, ToolName } from "../core/schemas";
import type { AppEnv } from "./app-env";
import { parseInput, readJson } from "./request";
import { unwrap } from "../core/errors";

export const restRoutes = new Hono<AppEnv>()
  .post("/sessions/:sessionId/bind", async (c) => {
    const session_id = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    const body = parseInput(BindSessionBody, await readJson(c), "body");
    const session = unwrap(await c.get("service").bindSession({ ...body, session_id }));
    return c.json({ success: true, session });
  })
  .get("/sessions/:sessionId", async (c) => {
    const session_id = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    return c.json(unwrap(await c.get("service").getSession({ session_id })));
  })
  .delete("/sessions/:sessionId", async (c) => {
    const session_id = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    return c.json({ success: true, ...unwrap(await c.get("service").unbindSession({ session_id })) });
  })
  .get("/tools", async (c) => {
    const session_id = parseInput(SessionId, c.req.query("session_id"), "session_id");
    return c.json(unwrap(await c.get("service").getTools({ session_id })));
  })
  .post("/tools/:toolName/execute", async (c) => {
    const tool_name = parseInput(ToolName, c.req.param("toolName"), "toolName");
    const body = parseInput(ExecuteToolBody, await readJson(c), "body");
    return c.json(unwrap(await c.get("service").executeTool({ ...body, tool_name })));
  });
