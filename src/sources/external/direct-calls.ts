/**
 * A caller's tools/call straight to the upstream, on the route its catalogue copy holds: in steady state the
 * upstream object hears nothing of it. The object is asked only when something changes:
 *
 * - the upstream refused the route (it restarted and forgot the legacy session, or changed protocol): one
 *   `renew` RPC (deduplicated in the object), then one retry within what is left of the deadline. The refusal
 *   proves the call did not run; nothing else is retried: a call whose connection broke may have run;
 * - the call failed (down, reset, HTTP error) or timed out: one `report`, so health stays authoritative in the
 *   object (it probes a timeout before judging); a success is reported only when the caller's copy of the
 *   health was not healthy.
 *
 * A caller whose copy says the server is cooling down fails at once, without network. Holds no state: what it
 * learns (a renewed route, the health after a report) is handed back for the caller's copy.
 */
import { withDeadline } from "../../core/deadline";
import { fail, ok, type Result } from "../../core/errors";
import { callFailed, coolingDown } from "./call-outcome";
import type { Health } from "./health";
import type { AnswerLimits, RawCallResult } from "./result-mapping";
import type { ExternalServer } from "./server-config";
import { needsSdkCall, postToolCall } from "./direct-post";
import { callDirect } from "./upstream-client";
import { routeKey, type UpstreamFailure, type UpstreamRoute, type UpstreamTool } from "./upstream-model";
import type { ReportRequest, UpstreamRef, UpstreamRpc } from "./upstream-rpc";

/** What the caller's copy knows of the server. */
export interface KnownRoute {
  route: UpstreamRoute;
  health: Health;
}

export interface DirectCallDeps {
  upstream: () => Promise<UpstreamRpc>;
  ref: UpstreamRef;
  now: () => number;
  /** How deep and long the upstream's answer may be (`limits`); beyond is a protocol failure. */
  limits?: AnswerLimits | undefined;
}

export interface DirectCallOutcome {
  result: Result<RawCallResult>;
  /** The route to use from now on, when a renewal replaced it. */
  route?: UpstreamRoute;
  /** The server's health after a report. */
  health?: Health;
}

/** The longest a report may add to a call that already failed (it is for the others; this call's answer is known). */
const REPORT_MS = 1_000;
/** What a report may add beyond the call's own deadline (a timed-out call has no time left at all). */
const REPORT_SLACK_MS = 250;

export async function callDirectly(server: ExternalServer, tool: UpstreamTool, args: Record<string, unknown>, known: KnownRoute, deps: DirectCallDeps): Promise<DirectCallOutcome> {
  const deadline = deps.now() + server.timeout_ms;
  const remaining = () => deadline - deps.now();
  const refused = coolingDown(server, known.health, deps.now());
  if (refused) return { result: refused };

  let route = known.route;
  let renewed: UpstreamRoute | undefined;
  let outcome = await callOnce(server, route, tool, args, remaining(), deps.limits);
  if (!outcome.ok && outcome.failure.kind === "session_expired" && remaining() > 0) {
    const next = await rpc(deps, "renew", remaining(), (upstream) => upstream.renew({ ...deps.ref, stale: routeKey(route), budget_ms: Math.max(0, Math.floor(remaining())) }));
    // A failed renewal was judged by the object itself (it could not connect).
    if (!next.ok) return { result: next };
    route = renewed = next.value;
    outcome =
      remaining() > 0
        ? await callOnce(server, route, tool, args, remaining(), deps.limits)
        : { ok: false, failure: { kind: "timeout", message: `renewing the session took the whole ${server.timeout_ms} ms` } };
  }

  if (outcome.ok) {
    const health = known.health.state === "healthy" ? undefined : await report(deps, { type: "success" }, remaining());
    return { result: ok(outcome.value), ...(renewed && { route: renewed }), ...(health && { health }) };
  }
  const failure = outcome.failure;
  const health = failure.kind === "protocol" ? undefined : await report(deps, reportOf(failure), remaining());
  return { result: callFailed(server, failure), ...(renewed && { route: renewed }), ...(health && { health }) };
}

/** One POST on the wire; through the SDK client only when the tool's arguments must be mirrored into headers. */
function callOnce(server: ExternalServer, route: UpstreamRoute, tool: UpstreamTool, args: Record<string, unknown>, timeoutMs: number, limits: AnswerLimits | undefined) {
  return needsSdkCall(tool) ? callDirect(server, route, tool, args, timeoutMs, limits) : postToolCall(server, route, tool, args, timeoutMs, limits);
}

function reportOf(failure: UpstreamFailure): ReportRequest["outcome"] {
  return failure.kind === "timeout" ? { type: "timeout" } : { type: "failure", kind: failure.kind, message: failure.message.slice(0, 2_000) };
}

/** Tells the object; the health it answers with, or undefined when it could not be told in time. */
async function report(deps: DirectCallDeps, outcome: ReportRequest["outcome"], remainingMs: number): Promise<Health | undefined> {
  const budget = Math.min(REPORT_MS, Math.max(0, remainingMs) + REPORT_SLACK_MS);
  const reply = await rpc(deps, "report", budget, (upstream) => upstream.report({ ...deps.ref, outcome }));
  return reply.ok ? reply.value : undefined;
}

/** An RPC to the upstream object with a deadline; an infrastructure failure (it throws across RPC) becomes a Result. */
async function rpc<T>(deps: DirectCallDeps, what: string, budgetMs: number, send: (upstream: UpstreamRpc) => Promise<Result<T>>): Promise<Result<T>> {
  try {
    const upstream = await deps.upstream();
    return await withDeadline(send(upstream), Math.max(0, budgetMs), `${what} of MCP server '${deps.ref.server}'`);
  } catch (error) {
    return fail("upstream_error", `${what} of MCP server '${deps.ref.server}': ${error instanceof Error ? error.message : String(error)}`);
  }
}
