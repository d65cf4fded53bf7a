/** Request parsing shared by the REST routes: JSON bodies and zod validation into stable error codes. */
import type { Context } from "hono";
import { z } from "zod";
import { AppException, appError, type Result } from "../core/errors";
import { exceedsJsonDepth } from "../core/json-depth";
import { SessionId } from "../core/schemas";
import type { AppEnv } from "./app-env";

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const field = [where, ...(first?.path ?? [])].filter((part) => part !== "").join(".");
  throw new AppException(appError("invalid_request", `Invalid ${field}: ${first?.message ?? "invalid"}`, { issues: parsed.error.issues }));
}

export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  checkDepth(c, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new AppException(appError("invalid_request", "Request body is not valid JSON"));
  }
}

/** Refuses JSON nested deeper than `limits.max_json_depth`, before anything recursive runs on it. */
export function checkDepth(c: Context<AppEnv>, text: string): void {
  const max = c.get("config").limits.max_json_depth;
  if (exceedsJsonDepth(text, max)) throw new AppException(appError("invalid_request", `JSON nests deeper than limits.max_json_depth (${max})`));
}

/** The `{sessionId}` of the session routes (REST, device relay, MCP). */
export const SessionParams = z.object({ sessionId: SessionId.describe("Conversation id chosen by the gateway (the voice server's session_id)") });
