/**
 * Operator routes: `/readyz` (public, outside /api) and `/api/v1/openapi.json` (behind the /api middleware:
 * bearer auth, config, body limit). Liveness (`/healthz`) stays in app.ts.
 */
import { Hono } from "hono";
import type { ServiceConfig } from "../core/config";
import { raceDeadline } from "../core/deadline";
import { appError, type Result } from "../core/errors";
import { configFromEnv } from "../core/env-config";
import { log } from "../observability/log";
import { externalServerStates, type ExternalServerState } from "../sources/external";
import { VERSION } from "../version";
import type { AppEnv } from "./app-env";
import { openApiDocument, type ReadinessReport } from "./openapi";

/**
 * How long readiness waits for the external servers' states. A probe (load balancer, deploy check) must get
 * an answer in bounded time even when an upstream hangs; a late answer is reported as `degraded`.
 */
export const READINESS_DEADLINE_MS = 2_500;

/** States that make the service `degraded`: their tools are missing from every catalogue. */
const DEGRADING_STATES: ReadonlySet<ExternalServerState["state"]> = new Set(["unhealthy", "misconfigured"]);

export const opsRoutes = new Hono<AppEnv>()
  .get("/readyz", async (c) => {
    const config = configFromEnv(c.env);
    const { status, body } = await assessReadiness(config, (valid) => externalServerStates(valid, c.env), READINESS_DEADLINE_MS);
    if (body.status !== "ready") log("warn", "readiness", { status: body.status, request_id: c.get("requestId") });
    return c.json(body, status);
  })
  .get("/api/v1/openapi.json", (c) => c.json(openApiDocument()));

/**
 * Readiness from the configuration and the external servers, with a deadline on the latter. Pure apart
 * from the `states` callback, so tests can pass a slow or failing one.
 */
export async function assessReadiness(
  config: Result<ServiceConfig>,
  states: (config: ServiceConfig) => Promise<ExternalServerState[]>,
  deadlineMs: number,
): Promise<{ status: 200 | 503; body: ReadinessReport }> {
  if (!config.ok) {
    return {
      status: 503,
      body: { status: "not_ready", version: VERSION, checks: { config: { ok: false, error: config.error }, external_servers: [] } },
    };
  }
  const external = await withDeadline(states(config.value), deadlineMs);
  const checks: ReadinessReport["checks"] = external.ok
    ? { config: { ok: true }, external_servers: external.value }
    : { config: { ok: true }, external_servers: [], external_servers_error: external.error };
  const degraded = !external.ok || external.value.some((server) => DEGRADING_STATES.has(server.state));
  return { status: 200, body: { status: degraded ? "degraded" : "ready", version: VERSION, checks } };
}

/** The states within `ms`, or why not: late (timeout) or failed (logged; /readyz is public, so no detail). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<Result<T>> {
  const settled = work.then(
    (value): Result<T> => ({ ok: true, value }),
    (thrown: unknown): Result<T> => {
      // /readyz is public: the detail (it may name upstream URLs) goes to the log only.
      log("error", "readiness.external_failed", { message: String(thrown) });
      return { ok: false, error: appError("internal", "External server states could not be read") };
    },
  );
  return raceDeadline(settled, ms, () => ({ ok: false, error: appError("timeout", `External server states not read within ${ms} ms`) }));
}
