/**
 * Renders an AppError as an HTTP response, in the shape the caller's protocol expects:
 * - REST: `{error:{code,message,details?}}`;
 * - tRPC (`/trpc`): tRPC's own error envelope, so a typed client still sees `data.app_code` when a middleware
 *   refuses a call;
 * - MCP routes: a JSON-RPC error with `data.app_code`, so an MCP client can read why it was refused.
 * A 401 carries `WWW-Authenticate: Bearer` (RFC 6750), which MCP clients look for.
 */
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { z } from "zod";
import { ERROR_CODES, HTTP_STATUS, jsonRpcErrorOf, TRPC_CODE, type AppError } from "../core/errors";

export const ErrorObject = z.object({
  code: z.enum(ERROR_CODES).describe("Stable machine-readable code; the HTTP status follows from it"),
  message: z.string().describe("Human-readable; may change between versions"),
  details: z.unknown().optional().describe("Optional structured details, e.g. zod issues"),
});

/** Every REST error: `{error:{code,message,details?}}`. */
export const ErrorBody = z.object({ error: ErrorObject });

export function errorResponse(error: AppError, path: string): Response {
  const status = HTTP_STATUS[error.code];
  const headers: Record<string, string> = {};
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="xiaozhi-mcp-service"';
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  return Response.json(errorBody(error, path), { status, headers });
}

/** Seconds a `rate_limited` caller should wait (RFC 9110 `Retry-After`), when the error says. */
export function retryAfterOf(error: AppError): number | undefined {
  if (error.code !== "rate_limited" || typeof error.details !== "object" || error.details === null) return undefined;
  const seconds = (error.details as { retry_after_seconds?: unknown }).retry_after_seconds;
  return typeof seconds === "number" && Number.isInteger(seconds) && seconds >= 0 ? seconds : undefined;
}

function errorBody(error: AppError, path: string): unknown {
  if (path.startsWith("/trpc")) {
    return {
      error: {
        message: error.message,
        code: TRPC_ERROR_CODES_BY_KEY[TRPC_CODE[error.code]],
        data: { code: TRPC_CODE[error.code], httpStatus: HTTP_STATUS[error.code], app_code: error.code },
      },
    };
  }
  if (isMcpPath(path)) return jsonRpcError(null, error);
  return { error };
}

/** A JSON-RPC error response for `error`, with the service's stable code in `data.app_code`. */
export function jsonRpcError(id: string | number | null, error: AppError) {
  return { jsonrpc: "2.0" as const, id, error: jsonRpcErrorOf(error) };
}

/** The MCP endpoints: `/mcp` and each session's `/api/v1/mcp/sessions/{id}/mcp`. */
export function isMcpPath(path: string): boolean {
  return path === "/mcp" || path.startsWith("/mcp/") || /^\/api\/v1\/mcp\/sessions\/[^/]+\/mcp\/?$/.test(path);
}
