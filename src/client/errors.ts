/**
 * The gateway client's one error type. It carries the service's stable {@link ErrorCode}, so callers branch
 * on codes, never on messages; `kind` tells a refusal (the service answered) from an outage (it did not).
 */
import { z } from "zod";
import { isErrorCode, type ErrorCode } from "../core/errors";

/** `response`: the service answered with an error. `network`: no answer. `timeout`: no answer in time. */
export type FailureKind = "response" | "network" | "timeout";

export interface ServiceErrorInit {
  code: ErrorCode;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  kind: FailureKind;
  message: string;
  details?: unknown;
  requestId?: string;
  /** Seconds the service asked to wait before a retry (`Retry-After` of a 429). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class ServiceError extends Error {
  override readonly name = "ServiceError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly kind: FailureKind;
  readonly details: unknown;
  readonly requestId: string | undefined;
  /** Seconds the service asked to wait before a retry (`Retry-After` of a 429 `rate_limited`); else undefined. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ServiceErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.kind = init.kind;
    this.details = init.details;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /**
   * The service failed, not the caller: no answer, or a 5xx. Only outages are retried (idempotent calls)
   * and handed to a fallback; a 4xx is the caller's bug and surfaces as is.
   */
  get isOutage(): boolean {
    return this.kind !== "response" || this.status >= 500;
  }
}

/** Loose on purpose: a newer service may send codes this client does not know yet. */
/**
 * The service's error body (`ErrorBody` of src/http/error-response.ts), read leniently: a client must accept a
 * code a newer service answers, so `code` is any string here and checked with `isErrorCode` after.
 */
const ErrorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** Codes for error responses that carry no service body (a proxy's 502 page, an edge 503). */
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: "invalid_request",
  401: "unauthorized",
  404: "route_not_found",
  409: "session_conflict",
  413: "payload_too_large",
  429: "rate_limited",
  502: "upstream_error",
  504: "timeout",
};

/** @param retryAfter the `Retry-After` header, in seconds (RFC 9110 also allows a date: then it is left out). */
export function errorFromBody(status: number, body: unknown, requestId?: string, retryAfter?: string | null): ServiceError {
  const seconds = retryAfter != null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
  const parsed = ErrorEnvelope.safeParse(body);
  const fallback = CODE_BY_STATUS[status] ?? (status >= 500 ? "internal" : "invalid_request");
  const code = parsed.success && isErrorCode(parsed.data.error.code) ? parsed.data.error.code : fallback;
  return new ServiceError({
    code,
    status,
    kind: "response",
    message: parsed.success ? parsed.data.error.message : `HTTP ${status} without a service error body`,
    details: parsed.success ? parsed.data.error.details : undefined,
    ...(requestId ? { requestId } : {}),
    ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}),
  });
}
