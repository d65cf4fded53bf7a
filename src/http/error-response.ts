/**
 * Renders an AppError as an HTTP response: `{error:{code,message,details?}}` for REST, and tRPC's own error
 * envelope under `/trpc`, so a typed client still sees `data.app_code` when a middleware refuses a call.
 */
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { HTTP_STATUS, TRPC_CODE, type AppError } from "../core/errors";

export function errorResponse(error: AppError, path: string): Response {
  const status = HTTP_STATUS[error.code];
  const body = path.startsWith("/trpc")
    ? {
        error: {
          message: error.message,
          code: TRPC_ERROR_CODES_BY_KEY[TRPC_CODE[error.code]],
          data: { code: TRPC_CODE[error.code], httpStatus: status, app_code: error.code },
        },
      }
    : { error };
  return Response.json(body, { status });
}
