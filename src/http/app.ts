/**
 * The Worker's HTTP surface: health, then auth, config and body limits, then the REST and tRPC adapters.
 * Every error leaves through one renderer, so REST and tRPC carry the same stable codes.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { appError, toAppError, AppException } from "../core/errors";
import { configFromEnv } from "../core/env-config";
import { log } from "../observability/log";
import { observeRequest } from "./request-log";
import { reportOversizedFrame, sessionDirectory } from "../session/session-directory";
import { appRouter } from "../trpc/router";
import { VERSION } from "../version";
import type { AppEnv } from "./app-env";
import { bearerToken, isAcceptedToken, parseTokens } from "./auth";
import { errorResponse, isMcpPath } from "./error-response";
import { agentRoutes } from "./agent-routes";
import { endpointRoutes, ENDPOINT_PATH } from "./endpoint-routes";
import { deviceRoutes } from "./device-routes";
import { mcpRoutes } from "./mcp-routes";
import { metricsRoutes } from "./metrics-routes";
import { opsRoutes } from "./ops-routes";
import { checkDepth } from "./request";
import { restRoutes } from "./rest";
import { serverRoutes } from "./server-routes";
import { externalConfigIssues } from "../sources/external";

export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  const started = Date.now();
  c.set("requestId", c.req.header("x-request-id") ?? crypto.randomUUID());
  await next();
  c.header("x-request-id", c.get("requestId"));
  observeRequest(c, started); // one log line and http_requests_total (src/observability/request-log.ts)
});

app.get("/healthz", (c) => {
  const config = configFromEnv(c.env);
  if (!config.ok) return c.json({ status: "unhealthy", version: VERSION, error: config.error }, 503);
  // A misconfigured external server is reported but does not make the service unhealthy: the rest still works.
  const issues = externalConfigIssues(config.value);
  return c.json({ status: issues.length > 0 ? "degraded" : "ok", version: VERSION, config_issues: issues });
});

for (const prefix of ["/api/*", "/trpc/*", "/mcp"]) {
  app.use(prefix, async (c, next) => {
    const accepted = parseTokens(c.env.MCP_SERVICE_TOKEN);
    // MCP clients that cannot set headers (conformance runners, some desktop apps) may pass ?token= instead.
    const presented = bearerToken(c.req.header("authorization")) ?? (isMcpPath(c.req.path) ? c.req.query("token") : undefined);
    // The provider endpoint authenticates with its own signed token (endpoint-routes.ts).
    const selfAuthenticated = c.req.path === ENDPOINT_PATH;
    if (!selfAuthenticated && !(await isAcceptedToken(presented, accepted))) {
      throw new AppException(appError("unauthorized", "Missing or invalid bearer token"));
    }
    const config = configFromEnv(c.env);
    if (!config.ok) throw new AppException(config.error);
    c.set("config", config.value);
    c.set("service", sessionDirectory(c.env.SESSIONS, c.get("requestId")));
    await next();
  });
  app.use(prefix, (c, next) => bodyLimitOf(c.get("config").limits.max_body_bytes)(c, next));
}

app.route("/", opsRoutes);
app.route("/", metricsRoutes);
app.route("/", mcpRoutes);
app.route("/", agentRoutes);
app.route("/", endpointRoutes);
app.route("/api/v1/mcp", restRoutes);
app.route("/api/v1/mcp", deviceRoutes);
app.route("/api/v1/mcp", serverRoutes);

app.all("/trpc/*", async (c) =>
  fetchRequestHandler({
    endpoint: "/trpc",
    req: await depthCheckedTrpcRequest(c),
    router: appRouter,
    maxBatchSize: 16,
    createContext: () => ({ service: c.get("service") }),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        log("error", "trpc.error", { request_id: c.get("requestId"), procedure: path, message: error.message });
      }
    },
  }),
);

/** tRPC parses its own input (a POST body, or `?input=` of a query): its nesting depth is checked first. */
async function depthCheckedTrpcRequest(c: Context<AppEnv>): Promise<Request> {
  const input = c.req.query("input");
  if (input !== undefined) checkDepth(c, input);
  if (c.req.method !== "POST") return c.req.raw;
  const body = await c.req.text();
  checkDepth(c, body);
  return new Request(c.req.raw, { body });
}

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
