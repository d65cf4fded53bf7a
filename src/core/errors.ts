/**
 * The one error taxonomy of the service. Every failure that crosses a boundary (REST, tRPC, JSON-RPC,
 * Durable Object RPC) is an {@link AppError}: a stable `code` plus a human message. Each transport maps the
 * code exactly once, through the tables below.
 */
export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "route_not_found",
  "session_not_found",
  "tool_not_found",
  "agent_not_found",
  "session_conflict",
  "payload_too_large",
  "rate_limited",
  "internal",
  "config_invalid",
  "upstream_error",
  "device_unavailable",
  "timeout",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export const HTTP_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  route_not_found: 404,
  session_not_found: 404,
  tool_not_found: 404,
  agent_not_found: 404,
  session_conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  config_invalid: 500,
  upstream_error: 502,
  device_unavailable: 503,
  timeout: 504,
} as const satisfies Record<ErrorCode, number>;

/** tRPC v11 error codes (see @trpc/server `TRPC_ERROR_CODE_KEY`). */
export const TRPC_CODE = {
  invalid_request: "BAD_REQUEST",
  unauthorized: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  route_not_found: "NOT_FOUND",
  session_not_found: "NOT_FOUND",
  tool_not_found: "NOT_FOUND",
  agent_not_found: "NOT_FOUND",
  session_conflict: "CONFLICT",
  payload_too_large: "PAYLOAD_TOO_LARGE",
  rate_limited: "TOO_MANY_REQUESTS",
  internal: "INTERNAL_SERVER_ERROR",
  config_invalid: "INTERNAL_SERVER_ERROR",
  upstream_error: "BAD_GATEWAY",
  device_unavailable: "SERVICE_UNAVAILABLE",
  timeout: "GATEWAY_TIMEOUT",
} as const satisfies Record<ErrorCode, string>;

/** JSON-RPC 2.0 codes: the standard ones where they fit, the implementation range (-32000..-32099) otherwise. */
export const JSONRPC_CODE = {
  invalid_request: -32602,
  unauthorized: -32001,
  forbidden: -32007,
  route_not_found: -32601,
  session_not_found: -32002,
  tool_not_found: -32602,
  agent_not_found: -32009,
  session_conflict: -32003,
  payload_too_large: -32600,
  rate_limited: -32008,
  internal: -32603,
  config_invalid: -32603,
  upstream_error: -32004,
  device_unavailable: -32005,
  timeout: -32006,
} as const satisfies Record<ErrorCode, number>;

/** The JSON-RPC `error` member for an AppError: its code mapped once, the service's code in `data.app_code`. */
export function jsonRpcErrorOf(error: AppError): { code: number; message: string; data: { app_code: ErrorCode; details?: unknown } } {
  const data = error.details === undefined ? { app_code: error.code } : { app_code: error.code, details: error.details };
  return { code: JSONRPC_CODE[error.code], message: error.message, data };
}

export function appError(code: ErrorCode, message: string, details?: unknown): AppError {
  return details === undefined ? { code, message } : { code, message, details };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Normalises anything thrown into an AppError without leaking stacks or internals. */
export function toAppError(thrown: unknown): AppError {
  if (isAppError(thrown)) return thrown;
  if (thrown instanceof AppException) return thrown.error;
  return appError("internal", "Internal error");
}

export function isAppError(value: unknown): value is AppError {
  return (
    typeof value === "object" &&
    value !== null &&
    isErrorCode((value as { code?: unknown }).code) &&
    typeof (value as { message?: unknown }).message === "string"
  );
}

/**
 * An AppError as an exception, for adapters that must throw (Hono handlers, tRPC procedures).
 * The core and Durable Objects return {@link Result}s instead: errors lose their fields across RPC.
 */
export class AppException extends Error {
  override readonly name = "AppException";
  constructor(readonly error: AppError) {
    super(error.message);
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: ErrorCode, message: string, details?: unknown): Result<T> => ({
  ok: false,
  error: appError(code, message, details),
});

/**
 * Unwraps a Result in an adapter that must throw (a Hono handler, a tRPC procedure, an MCP request handler),
 * turning its error into what that adapter throws: an {@link AppException} unless told otherwise.
 */
export function unwrap<T>(result: Result<T>, toThrown: (error: AppError) => unknown = (error) => new AppException(error)): T {
  if (result.ok) return result.value;
  throw toThrown(result.error);
}
