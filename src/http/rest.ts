/**
 * REST adapter: `/api/v1/mcp/...`. Validates with the shared zod schemas, calls the core, renders Results.
 */
import { Hono, type Context } from "hono";
import type { z } from "zod";
import { AppException, appError, type Result } from "../core/errors";
import { BindSessionBody, ExecuteToolBody, SessionId, ToolName } from "../core/schemas";
import type { AppEnv } from "./app-env";

export const restRoutes = new Hono<AppEnv>()
  .post("/sessions/:sessionId/bind", async (c) => {
    const session_id = parse(SessionId, c.req.param("sessionId"), "sessionId");
    const body = parse(BindSessionBody, await readJson(c), "body");
    const session = send(await c.var.service.bindSession({ ...body, session_id }));
    return c.json({ success: true, session });
  })
  .get("/sessions/:sessionId", async (c) => {
    const session_id = parse(SessionId, c.req.param("sessionId"), "sessionId");
    return c.json(send(await c.var.service.getSession({ session_id })));
  })
  .delete("/sessions/:sessionId", async (c) => {
    const session_id = parse(SessionId, c.req.param("sessionId"), "sessionId");
    return c.json({ success: true, ...send(await c.var.service.unbindSession({ session_id })) });
  })
  .get("/tools", async (c) => {
    const session_id = parse(SessionId, c.req.query("session_id"), "session_id");
    return c.json(send(await c.var.service.getTools({ session_id })));
  })
  .post("/tools/:toolName/execute", async (c) => {
    const tool_name = parse(ToolName, c.req.param("toolName"), "toolName");
    const body = parse(ExecuteToolBody, await readJson(c), "body");
    return c.json(send(await c.var.service.executeTool({ ...body, tool_name })));
  });

function send<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new AppException(result.error);
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const field = [where, ...(first?.path ?? [])].join(".");
  throw new AppException(appError("invalid_request", `Invalid ${field}: ${first?.message ?? "invalid"}`, { issues: parsed.error.issues }));
}

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppException(appError("invalid_request", "Request body is not valid JSON"));
  }
}
