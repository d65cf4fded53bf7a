/**
 * `GET /metrics`: Prometheus text format, for a scraper holding the service bearer token or the separate
 * `METRICS_TOKEN` (so the scraper never gets a token that can call tools). Outside `/api`, so it does its own
 * auth; with neither secret set every scrape is refused (fail closed).
 *
 * Counters and histograms come from the metrics Durable Object (durable: they survive isolate and object
 * recycling); `mcp_upstream_up` is read from the external servers' states at scrape time.
 */
import { z } from "zod";
import { raceDeadline } from "../core/deadline";
import { appError, AppException } from "../core/errors";
import { configFromEnv } from "../core/env-config";
import { log } from "../observability/log";
import { metricsStub } from "../observability/metrics";
import type { MetricsSnapshot } from "../observability/metrics-model";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type ScrapeData } from "../observability/prometheus";
import { externalServerStates, type ExternalServerState } from "../sources/external";
import { route } from "./openapi/spec";
import { bearerToken, isAcceptedToken, parseTokens } from "./auth";
import { principalOf } from "./principal";

/** Prometheus' default scrape timeout is 10 s: answer (or fail) well before it. */
export const SNAPSHOT_DEADLINE_MS = 5_000;
/** Upstream states get a shorter budget; a late answer only omits `mcp_upstream_up`. */
export const UPSTREAM_DEADLINE_MS = 2_500;

export const metricsRoutes = [
  route(
    {
      method: "get",
      path: "/metrics",
      operationId: "getMetrics",
      summary: "Prometheus metrics (text exposition format)",
      description:
        "Bearer token: a service token or the separate `METRICS_TOKEN`, so a scraper never holds a token that can " +
        "call tools. A scrape fails as a whole (5xx) rather than answer partial counters.",
      tags: ["ops"],
      response: { contentType: PROMETHEUS_CONTENT_TYPE, description: "The metrics", schema: z.string() },
      errors: ["timeout"],
      examples: {
        response:
          "# HELP mcp_upstream_up Whether an external MCP server is healthy (1) or not (0).\n" +
          "# TYPE mcp_upstream_up gauge\n" +
          'mcp_upstream_up{server="calculator"} 1\n',
      },
    },
    async (c) => {
      const accepted = [...parseTokens(c.env.MCP_SERVICE_TOKEN), ...parseTokens(c.env.METRICS_TOKEN)];
      const presented = bearerToken(c.req.header("authorization"));
      if (!(await isAcceptedToken(presented, accepted))) {
        // A tenant's token is known but not allowed here: the metrics span every agent.
        const config = configFromEnv(c.env);
        const principal = await principalOf(presented, [], c.env, config.ok ? config.value.agents.token_cache_ms : 0);
        throw new AppException(principal ? appError("forbidden", "Metrics span every agent: an agent token cannot scrape them") : appError("unauthorized", "Missing or invalid bearer token"));
      }
      const [snapshot, upstreams] = await Promise.all([readSnapshot(c.env), readUpstreams(c.env)]);
      return c.body(renderPrometheus({ snapshot, upstreams }), 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
    },
  ),
];

/**
 * A scrape without the durable counters fails as a whole: a partial answer would look like a counter reset
 * to Prometheus, a failed scrape is only a gap.
 */
async function readSnapshot(env: Env): Promise<MetricsSnapshot> {
  const stub = metricsStub(env);
  if (stub === undefined) throw new AppException(appError("config_invalid", "The METRICS Durable Object binding is not configured"));
  const reply = await raceDeadline<MetricsSnapshot | undefined>(stub.snapshot(), SNAPSHOT_DEADLINE_MS, () => undefined).catch((error: unknown) => {
    log("error", "metrics.snapshot_failed", { message: error instanceof Error ? error.message : String(error) });
    throw new AppException(appError("internal", "Metrics could not be read"));
  });
  if (reply === undefined) throw new AppException(appError("timeout", `Metrics not read within ${SNAPSHOT_DEADLINE_MS} ms`));
  return reply;
}

/**
 * `mcp_upstream_up`: 1 only for a healthy server; starting, unhealthy and misconfigured ones are 0, and
 * disabled ones are left out (nobody expects them up).
 */
export function upstreamGauges(states: readonly Pick<ExternalServerState, "name" | "state">[]): NonNullable<ScrapeData["upstreams"]> {
  return states.filter((state) => state.state !== "disabled").map((state) => ({ server: state.name, up: state.state === "healthy" }));
}

/** Undefined when the states cannot be read in time: the series is then omitted, not reported as down. */
async function readUpstreams(env: Env): Promise<ScrapeData["upstreams"]> {
  const config = configFromEnv(env);
  if (!config.ok) return undefined;
  try {
    const states = await raceDeadline<ExternalServerState[] | undefined>(externalServerStates(config.value, env), UPSTREAM_DEADLINE_MS, () => undefined);
    if (states === undefined) log("warn", "metrics.upstreams_late", { deadline_ms: UPSTREAM_DEADLINE_MS });
    return states === undefined ? undefined : upstreamGauges(states);
  } catch (error) {
    log("warn", "metrics.upstreams_failed", { message: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
