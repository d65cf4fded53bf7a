/**
 * The per-request observation of the Worker: one structured log line and one `http_requests_total`
 * increment. Called by the outermost middleware after the response is ready.
 */
import type { Context } from "hono";
import type { AppEnv } from "./app-env";
import { log } from "../observability/log";
import { recordHttpRequest } from "../observability/metrics";

/**
 * Logs and counts one request. The route is the pattern of the handler that answered (`c.req.routePath`
 * after `next()`): raw paths carry session ids and would make the label unbounded. The line names the
 * session and tool when the route has them; tokens are never read here (the path has no query string).
 */
export function observeRequest(c: Context<AppEnv>, startedMs: number): void {
  const route = c.req.routePath;
  const status = c.res.status;
  log(status >= 500 ? "warn" : "info", "http.request", {
    request_id: c.get("requestId"),
    method: c.req.method,
    route,
    path: clip(c.req.path, 512),
    session_id: clip(c.req.param("sessionId")),
    tool: clip(c.req.param("toolName")),
    status,
    outcome: status >= 500 ? "server_error" : status >= 400 ? "client_error" : "ok",
    duration_ms: Date.now() - startedMs,
  });
  recordHttpRequest(c.env, { route, method: c.req.method, status }, waitUntilOf(c));
}

/** `c.executionCtx` throws when the app runs without one (a direct `app.request` in a test). */
function waitUntilOf(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return (promise) => void promise.catch(() => undefined);
  }
}

/** Paths and their parameters are logged before any handler validates them: a hostile one must not bloat the line. */
function clip<T extends string | undefined>(value: T, max = 128): T | string {
  return value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;
}
