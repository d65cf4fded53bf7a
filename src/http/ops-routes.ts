/**
 * Operator routes: `/healthz` (liveness) and `/readyz` (readiness), both public, outside /api.
 */
import { z } from "zod";
import type { ServiceConfig } from "../core/config";
import { raceDeadline } from "../core/deadline";
import { configFromEnv } from "../core/env-config";
import { AppException, appError, type Result } from "../core/errors";
import { log } from "../observability/log";
import { objectRequestCounts } from "../observability/object-traffic";
import { ExternalServerState, externalConfigIssues, externalServerStates } from "../sources/external";
import { VERSION } from "../version";
import { ErrorObject } from "./error-response";
import { route } from "./openapi/spec";

export const HealthReport = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  config_issues: z.array(ErrorObject),
});
export const UnhealthyReport = z.object({ status: z.literal("unhealthy"), version: z.string(), error: ErrorObject });

/** Requests each Durable Object class received in the isolate that answers (diagnostics.object_requests). */
export const ObjectRequestCounts = z.object({
  session: z.number().int(),
  upstream: z.number().int(),
  agent: z.number().int(),
  metrics: z.number().int(),
});

/** `/readyz`: 200 with `ready`/`degraded`, 503 with `not_ready`. */
export const ReadinessReport = z.object({
  status: z.enum(["ready", "degraded", "not_ready"]),
  version: z.string(),
  checks: z.object({
    config: z.object({ ok: z.boolean(), error: ErrorObject.optional() }),
    external_servers: z.array(ExternalServerState),
    /** Set when the external servers' states could not be read within the readiness deadline. */
    external_servers_error: ErrorObject.optional(),
  }),
});
export type ReadinessReport = z.infer<typeof ReadinessReport>;

/**
 * How long readiness waits for the external servers' states. A probe (load balancer, deploy check) must get
 * an answer in bounded time even when an upstream hangs; a late answer is reported as `degraded`.
 */
export const READINESS_DEADLINE_MS = 2_500;

/** States that make the service `degraded`: their tools are missing from every catalogue. */
const DEGRADING_STATES: ReadonlySet<ExternalServerState["state"]> = new Set(["unhealthy", "misconfigured"]);

export const opsRoutes = [
  route(
    {
      method: "get",
      path: "/healthz",
      operationId: "getHealth",
      summary: "Liveness",
      description: "200 while the configuration parses; `degraded` lists external-server configuration issues.",
      tags: ["ops"],
      public: true,
      response: { description: "Alive", schema: HealthReport },
      otherResponses: { 503: { description: "The configuration is invalid", schema: UnhealthyReport } },
      errors: [],
      examples: { response: { status: "ok", version: VERSION, config_issues: [] } },
    },
    async (c) => {
      const config = configFromEnv(c.env);
      if (!config.ok) return c.json({ status: "unhealthy", version: VERSION, error: config.error }, 503);
      // A misconfigured external server is reported but does not make the service unhealthy: the rest still works.
      const issues = externalConfigIssues(config.value);
      return { status: issues.length > 0 ? ("degraded" as const) : ("ok" as const), version: VERSION, config_issues: issues };
    },
  ),
  route(
    {
      method: "get",
      path: "/readyz",
      operationId: "getReadiness",
      summary: "Readiness",
      description:
        "`ready`: configuration valid and every enabled external server healthy. `degraded` (still 200): an external " +
        "server is unhealthy or misconfigured, or its state could not be read in time; local and device tools keep " +
        "working. 503 `not_ready`: the configuration is invalid.",
      tags: ["ops"],
      public: true,
      response: { description: "Ready or degraded", schema: ReadinessReport },
      otherResponses: { 503: { description: "Not ready: the configuration is invalid", schema: ReadinessReport } },
      errors: [],
      examples: { response: { status: "ready", version: VERSION, checks: { config: { ok: true }, external_servers: [] } } },
    },
    async (c) => {
      const config = configFromEnv(c.env);
      const { status, body } = await assessReadiness(config, (valid) => externalServerStates(valid, c.env), READINESS_DEADLINE_MS);
      if (body.status !== "ready") log("warn", "readiness", { status: body.status, request_id: c.get("requestId") });
      return c.json(body, status);
    },
  ),
  route(
    {
      method: "get",
      path: "/api/v1/diagnostics/object-requests",
      operationId: "getObjectRequests",
      summary: "Requests each Durable Object class received (a bench aid; off unless diagnostics.object_requests)",
      description:
        "Counts kept in the memory of the isolate that answers. Under `wrangler dev` the Worker and every object " +
        "share one isolate, so the bench reads how many objects a tool call reached; on Cloudflare each object " +
        "runs elsewhere and the counts mean nothing. 404 unless the configuration enables it.",
      tags: ["ops"],
      response: { description: "Counts since the isolate started", schema: ObjectRequestCounts },
      errors: ["route_not_found"],
      examples: { response: { session: 1200, upstream: 3, agent: 0, metrics: 14 } },
    },
    async (c) => {
      if (!c.get("config").diagnostics.object_requests) throw new AppException(appError("route_not_found", "Diagnostics are off (diagnostics.object_requests)"));
      return objectRequestCounts();
    },
  ),
];

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
