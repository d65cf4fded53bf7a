/**
 * The typed RPC surface (tRPC v11). Same zod schemas and same core as REST; plain JSON on the wire (no
 * transformer), so any language can call it. Errors carry the service's stable code in `error.data.app_code`.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { AppException, isErrorCode, TRPC_CODE, unwrap, type AppError, type ErrorCode } from "../core/errors";
import { BindSessionInput, ExecuteToolInput, HandleMessageInput, SessionRef } from "../core/schemas";
import type { McpService } from "../core/service";

export interface TrpcContext {
  service: McpService;
}

const t = initTRPC.context<TrpcContext>().create({
  // tRPC reads NODE_ENV, unset in workerd, and would otherwise put stack traces in error bodies.
  isDev: false,
  errorFormatter({ shape, error }) {
    const appCode = appCodeOf(error);
    const details = error.cause instanceof ZodError ? { issues: error.cause.issues } : undefined;
    const message = appCode === "internal" ? "Internal error" : shape.message;
    return { ...shape, message, data: { code: shape.data.code, httpStatus: shape.data.httpStatus, app_code: appCode, details } };
  },
});

function appCodeOf(error: TRPCError): ErrorCode {
  if (error.cause instanceof AppException) return error.cause.error.code;
  switch (error.code) {
    case "BAD_REQUEST":
    case "PARSE_ERROR":
      return "invalid_request";
    case "NOT_FOUND":
      return "route_not_found";
    case "METHOD_NOT_SUPPORTED":
    case "UNSUPPORTED_MEDIA_TYPE":
      return "invalid_request";
    case "PAYLOAD_TOO_LARGE":
      return "payload_too_large";
    case "UNAUTHORIZED":
      return "unauthorized";
    default:
      return isErrorCode(error.message) ? error.message : "internal";
  }
}

/** A core error as the procedure throws it: a TRPCError that keeps the AppError as its cause. */
const trpcError = (error: AppError) => new TRPCError({ code: TRPC_CODE[error.code], message: error.message, cause: new AppException(error) });

export const appRouter = t.router({
  bindSession: t.procedure.input(BindSessionInput).mutation(async ({ ctx, input }) => unwrap(await ctx.service.bindSession(input), trpcError)),
  getSession: t.procedure.input(SessionRef).query(async ({ ctx, input }) => unwrap(await ctx.service.getSession(input), trpcError)),
  unbindSession: t.procedure.input(SessionRef).mutation(async ({ ctx, input }) => unwrap(await ctx.service.unbindSession(input), trpcError)),
  getTools: t.procedure.input(SessionRef).query(async ({ ctx, input }) => unwrap(await ctx.service.getTools(input), trpcError)),
  executeTool: t.procedure.input(ExecuteToolInput).mutation(async ({ ctx, input }) => unwrap(await ctx.service.executeTool(input), trpcError)),
  /** Device frames for gateways without a relay WebSocket: one xiaozhi envelope, or `{session_id, frames}`. */
  handleXiaoZhiMessage: t.procedure.input(HandleMessageInput).mutation(async ({ ctx, input }) => {
    const { session_id, frames, ...frame } = input;
    return unwrap(await ctx.service.handleDeviceFrames({ session_id, frames: frames ?? [{ session_id, ...frame }] }), trpcError);
  }),
});

export type AppRouter = typeof appRouter;
