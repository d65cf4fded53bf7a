/**
 * The Worker's HTTP surface: the request log, then auth, config and body limits on the protected prefixes,
 * then every route of routes.ts (mounted from its spec) and tRPC. Every error leaves through one renderer, so
 * REST, tRPC and MCP carry the same stable codes.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { appError, toAppError, AppException } from "../core/errors";
import { configFromEnv } from "../core/env-config";
import { log } from "../observability/log";
import { recordToolCall } from "../observability/metrics";
import { observeRequest } from "./request-log";
import { agentScope } from "../core/principal";
import type { ToolCallEvent } from "../observability/tool-call";
import { reportOversizedFrame, sessionDirectory } from "../session/session-directory";
import { rateLimitsOf } from "../tenants/rate-limits";
import type { AppEnv } from "./app-env";
import { bearerToken, parseTokens } from "./auth";
import { principalOf, SERVICE_PRINCIPAL } from "./principal";
import { errorResponse, isMcpPath } from "./error-response";
import { ENDPOINT_PATH } from "./endpoint-routes";
import { mount } from "./openapi/spec";
import { ROUTE_DEFINITIONS } from "./routes";
import { mountTrpc } from "./trpc-routes";

export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  const started = Date.now();
  c.set("requestId", c.req.header("x-request-id") ?? crypto.randomUUID());
  await next();
  c.header("x-request-id", c.get("requestId"));
  observeRequest(c, started); // one log line and http_requests_total (src/observability/request-log.ts)
});

for (const prefix of ["/api/*", "/trpc/*", "/mcp"]) {
  app.use(prefix, async (c, next) => {
    const accepted = parseTokens(c.env.MCP_SERVICE_TOKEN);
    // MCP clients that cannot set headers (conformance runners, some desktop apps) may pass ?token= instead.
    const presented = bearerToken(c.req.header("authorization")) ?? (isMcpPath(c.req.path) ? c.req.query("token") : undefined);
    // The provider endpoint authenticates with its own signed token (endpoint-routes.ts).
    const selfAuthenticated = c.req.path === ENDPOINT_PATH;
    const config = configFromEnv(c.env);
    const principal = selfAuthenticated ? SERVICE_PRINCIPAL : await principalOf(presented, accepted, c.env, config.ok ? config.value.agents.token_cache_ms : 0);
    if (!principal) throw new AppException(appError("unauthorized", "Missing or invalid bearer token"));
    if (!config.ok) throw new AppException(config.error);
    c.set("config", config.value);
    c.set("principal", principal);
    const record = (call: ToolCallEvent) => recordToolCall(c.env, call, (work) => c.executionCtx.waitUntil(work));
    c.set("service", sessionDirectory(c.env.SESSIONS, c.get("requestId"), record, { scope: agentScope(principal), limits: rateLimitsOf(c.env, config.value) }));
    await next();
  });
  app.use(prefix, (c, next) => bodyLimitOf(c.get("config").limits.max_body_bytes)(c, next));
}

mount(app, ROUTE_DEFINITIONS);
mountTrpc(app);

/** The routes whose spec says `oversizedBody: "invalid_request"`, as method and path pattern. */
const INVALID_WHEN_OVERSIZED = ROUTE_DEFINITIONS.filter(({ spec }) => spec.oversizedBody === "invalid_request").map(({ spec }) => ({
  method: spec.method.toUpperCase(),
  path: new RegExp(`^${spec.path.replace(/\{\w+\}/g, "[^/]+")}$`),
}));

/** One body-limit middleware per configured size, built once per isolate rather than on every request. */
const limiters = new Map<number, MiddlewareHandler>();
function bodyLimitOf(maxSize: number): MiddlewareHandler {
  let limiter = limiters.get(maxSize);
  if (!limiter) {
    limiter = bodyLimit({
      maxSize,
      onError: async (c) => {
        // A device reply too big to relay over HTTP still answers the call that waits for it: at once.
        const relayed = /^\/api\/v1\/mcp\/sessions\/([\w.:-]+)\/messages$/.exec(c.req.path);
        if (relayed?.[1]) await reportOversizedFrame(c.env.SESSIONS, relayed[1], maxSize).catch(() => undefined);
        // Routes whose contract calls an oversized body invalid input (agent configs) answer 400, as their specs say.
        if (INVALID_WHEN_OVERSIZED.some((route) => route.method === c.req.method && route.path.test(c.req.path))) {
          throw new AppException(appError("invalid_request", `Invalid body: over ${maxSize} bytes (limits.max_body_bytes)`));
        }
        throw new AppException(appError("payload_too_large", `Body exceeds ${maxSize} bytes`));
      },
    });
    limiters.set(maxSize, limiter);
  }
  return limiter;
}

app.notFound((c) => errorResponse(appError("route_not_found", `No route for ${c.req.method} ${c.req.path}`), c.req.path));

app.onError((thrown, c) => {
  const error = toAppError(thrown);
  if (error.code === "internal") {
    log("error", "http.error", { request_id: c.get("requestId"), path: c.req.path, message: String(thrown) });
  }
  return errorResponse(error, c.req.path);
});
