/**
 * The per-request observation of the Worker: one structured log line, the `tool.call` lines of the tool calls
 * made for the request, and one `http_requests_total` increment. Called by the outermost middleware once the
 * response is ready; the lines are written after it has been handed to the runtime.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { log } from "./log";
import { recordHttpRequest } from "./metrics";
import { logToolCall } from "./tool-call-log";

/**
 * Logs and counts one request. The route is the pattern of the handler that answered (`c.req.routePath`
 * after `next()`): raw paths carry session ids and would make the label unbounded. The line names the
 * session and tool when the route has them; tokens are never read here (the path has no query string).
 */
export function observeRequest(c: Context<AppEnv>, startedMs: number): void {
  const route = c.req.routePath;
  const status = c.res.status;
  const level = status >= 500 ? "warn" : "info";
  const fields = {
    request_id: c.get("requestId"),
    method: c.req.method,
    route,
    path: clip(c.req.path, 512),
    session_id: clip(c.req.param("sessionId")),
    tool: clip(c.req.param("toolName")),
    status,
    outcome: status >= 500 ? "server_error" : status >= 400 ? "client_error" : "ok",
    duration_ms: Date.now() - startedMs,
  };
  const calls = c.get("toolCalls") ?? [];
  recordHttpRequest(c.env, { route, method: c.req.method, status }, waitUntilOf(c));
  afterResponse(c, () => {
    log(level, "http.request", fields);
    for (const call of calls) logToolCall(call);
  });
}

/**
 * Runs `write` once the response is on its way: from `waitUntil`, one timer turn later (a microtask would still
 * run before the runtime takes the response). An invocation's first log line is its costly one
 * (docs/benchmarks.md); written after the response, it stays off the caller's latency. Without an execution
 * context (a direct `app.request` in a test) it runs at once.
 */
function afterResponse(c: Context<AppEnv>, write: () => void): void {
  let waitUntil: (promise: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = (promise) => ctx.waitUntil(promise);
  } catch {
    write();
    return;
  }
  waitUntil(new Promise((resolve) => setTimeout(resolve, 0)).then(write));
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
