/**
 * tRPC at `/trpc`: one Hono route hands every procedure to tRPC's fetch adapter, and each procedure is
 * documented in the OpenAPI document with the input schema the router itself validates with (read from the
 * router, never restated) and the output the core answers.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppException, ERROR_CODES } from "../core/errors";
import { FramesOutcome, SessionView, ToolList, ToolResult } from "../core/schemas";
import { log } from "../observability/log";
import { appRouter } from "../trpc/router";
import type { AppEnv } from "./app-env";
import { retryAfterOf } from "./error-response";
import { EXAMPLE_BIND, EXAMPLE_EXECUTE, EXAMPLE_FRAME, EXAMPLE_RESULT, EXAMPLE_SESSION, EXAMPLE_TOOL, EXAMPLE_VIEW } from "./examples";
import { defineRoute, documented, type AnyRouteSpec, type RouteDefinition } from "./openapi/spec";
import { checkDepth } from "./request";

/** tRPC v11 envelopes (no transformer: plain JSON). */
const trpcResult = <T extends z.ZodType>(data: T) => z.object({ result: z.object({ data }) });
export const TrpcErrorBody = z.object({
  error: z.object({
    message: z.string(),
    code: z.number().int().describe("JSON-RPC style tRPC error code, e.g. -32004 for NOT_FOUND"),
    data: z.object({
      code: z.string().describe("tRPC code, e.g. NOT_FOUND"),
      httpStatus: z.number().int(),
      app_code: z.enum(ERROR_CODES).describe("The service's stable error code, as in REST"),
      details: z.unknown().optional(),
    }),
  }),
});

type ProcedureName = keyof typeof appRouter._def.procedures;

/** The zod schema a procedure validates its input with: the one the document shows. */
export function procedureInput(name: ProcedureName): z.ZodType {
  const procedure = appRouter._def.procedures[name] as unknown as { _def: { inputs: unknown[] } };
  const [input] = procedure._def.inputs;
  if (!(input instanceof z.ZodType)) throw new Error(`tRPC procedure ${String(name)} has no zod input`);
  return input;
}

/** A query's input travels as JSON text in `?input=`. */
const queryOf = (name: ProcedureName) => z.object({ input: procedureInput(name).describe("The procedure input as JSON text") });

function procedure(name: ProcedureName, kind: "query" | "mutation", spec: Omit<AnyRouteSpec, "method" | "path" | "operationId" | "tags" | "protocol" | "summary"> & { summary?: string }): RouteDefinition {
  return documented(
    defineRoute({
      ...spec,
      method: kind === "query" ? "get" : "post",
      path: `/trpc/${name}`,
      operationId: `trpc${name.charAt(0).toUpperCase()}${name.slice(1)}`,
      summary: spec.summary ?? (kind === "query" ? `tRPC query ${name}: GET /trpc/${name}?input=<JSON>` : `tRPC mutation ${name}`),
      tags: ["trpc"],
      protocol: "trpc",
      ...(kind === "query" ? { query: queryOf(name) } : { body: procedureInput(name) }),
    }),
  );
}

export const trpcRoutes: RouteDefinition[] = [
  procedure("bindSession", "mutation", {
    response: { description: "`{result:{data: SessionView}}`", schema: trpcResult(SessionView) },
    errors: ["rate_limited"],
    examples: { body: { ...EXAMPLE_BIND, session_id: EXAMPLE_SESSION }, response: { result: { data: EXAMPLE_VIEW } } },
  }),
  procedure("getSession", "query", {
    response: { description: "`{result:{data: SessionView}}`", schema: trpcResult(SessionView) },
    errors: ["session_not_found"],
    examples: { query: { input: { session_id: EXAMPLE_SESSION } }, response: { result: { data: EXAMPLE_VIEW } } },
  }),
  procedure("unbindSession", "mutation", {
    response: { description: "`{result:{data:{session_id, deleted:true}}}`", schema: trpcResult(z.object({ session_id: z.string(), deleted: z.literal(true) })) },
    errors: ["session_not_found"],
    examples: { body: { session_id: EXAMPLE_SESSION }, response: { result: { data: { session_id: EXAMPLE_SESSION, deleted: true } } } },
  }),
  procedure("getTools", "query", {
    response: { description: "`{result:{data: ToolList}}`", schema: trpcResult(ToolList) },
    errors: ["session_not_found"],
    examples: { query: { input: { session_id: EXAMPLE_SESSION } }, response: { result: { data: { tools: [EXAMPLE_TOOL] } } } },
  }),
  procedure("executeTool", "mutation", {
    response: { description: "`{result:{data: ToolResult}}`", schema: trpcResult(ToolResult) },
    errors: ["session_not_found", "tool_not_found", "session_conflict", "upstream_error", "device_unavailable", "timeout", "rate_limited"],
    examples: { body: { ...EXAMPLE_EXECUTE, tool_name: "local_play_music" }, response: { result: { data: EXAMPLE_RESULT } } },
  }),
  procedure("handleXiaoZhiMessage", "mutation", {
    summary: "tRPC mutation handleXiaoZhiMessage: device frames, as POST …/messages",
    response: { description: "`{result:{data: FramesOutcome}}`", schema: trpcResult(FramesOutcome) },
    errors: ["session_not_found"],
    examples: { body: EXAMPLE_FRAME, response: { result: { data: { success: true, result: { accepted: 1, dropped: 0 } } } } },
  }),
];

/** Every procedure, through tRPC's own fetch adapter (batching included). */
export function mountTrpc(app: Hono<AppEnv>): void {
  app.all("/trpc/*", async (c) =>
    fetchRequestHandler({
      endpoint: "/trpc",
      req: await depthCheckedTrpcRequest(c),
      router: appRouter,
      maxBatchSize: 16,
      createContext: () => ({ service: c.get("service") }),
      // A rate-limited procedure says when to come back, as REST does.
      responseMeta: ({ errors }) => {
        const retryAfter = errors.map((error) => (error.cause instanceof AppException ? retryAfterOf(error.cause.error) : undefined)).find((seconds) => seconds !== undefined);
        return retryAfter === undefined ? {} : { headers: new Headers({ "retry-after": String(retryAfter) }) };
      },
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          log("error", "trpc.error", { request_id: c.get("requestId"), procedure: path, message: error.message });
        }
      },
    }),
  );
}

/** tRPC parses its own input (a POST body, or `?input=` of a query): its nesting depth is checked first. */
async function depthCheckedTrpcRequest(c: Context<AppEnv>): Promise<Request> {
  const input = c.req.query("input");
  if (input !== undefined) checkDepth(c, input);
  if (c.req.method !== "POST") return c.req.raw;
  const body = await c.req.text();
  checkDepth(c, body);
  return new Request(c.req.raw, { body });
}
