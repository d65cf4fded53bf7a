// Breakdown suite (opt-in: `npm run bench -- --suite breakdown`): splits a REST `local_get_time` call into
// layers. The bench-only profile worker (bench/profile/worker.ts) runs the service's unchanged src/ code behind
// routes and modes that skip parts of the path; every target runs interleaved in the same rounds as the
// baseline, so the differences between neighbouring rows are the cost of one layer each.
import { startBreakdownServers } from "../lib/breakdown-servers.mjs";
import { expectJson } from "../lib/http.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { baselineCallTarget, restLocalTimeOk, restLocalTimeTarget } from "../lib/targets.mjs";


/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "breakdown",
  description: "where the time of a REST local_get_time call goes: Durable Object work, Hono/auth/zod, metrics, log lines",
  optIn: true,
  async setup(ctx) {
    const { maxConnections, api, base, modeClient } = await startBreakdownServers(ctx);
    const lean = modeClient("lean");
    const quiet = modeClient("quiet");

    const sessions = sessionIds(ctx, "bench", maxConnections);
    await bindSessions(api, sessions);
    // The session-id prefix tells the profile worker's session object which mode to run in.
    const leanSessions = sessionIds(ctx, "lean", maxConnections);
    await bindSessions(lean, leanSessions);
    const quietSessions = sessionIds(ctx, "quiet", maxConnections);
    await bindSessions(quiet, quietSessions);
    const baseIds = sessionIds(ctx, "baseline", maxConnections);

    return {
      baseline: "baseline",
      targets: [
        baselineCallTarget(base, baseIds, "baseline", "trivial Worker -> Durable Object -> one kv.put (bench/baseline), as in the foundation suite"),
        baselineCallTarget(base, baseIds, "baseline-rpc", "the same Worker -> Durable Object RPC without the kv.put (bench/baseline POST /rpc)", "/rpc"),
        {
          name: "do-put",
          description: "profile worker: JSON parse -> the service's SessionObject class, a bench-only method doing one kv.put (no service logic)",
          server: lean.server,
          async callOnce(conn) {
            expectJson(await lean.post("/direct/put", { session_id: leanSessions[conn] }), (body) => body.ok === true, "do-put");
          },
        },
        {
          name: "do-execute",
          description: "profile worker: JSON parse -> SessionObject.execute(local_get_time) -> JSON; no Hono, auth, zod, log or metrics",
          server: lean.server,
          async callOnce(conn) {
            expectJson(
              await lean.post("/direct/execute", { session_id: leanSessions[conn], tool_name: "local_get_time", arguments: {} }),
              (body) => body.ok === true && restLocalTimeOk(body.value),
              "do-execute",
            );
          },
        },
        restLocalTimeTarget(
          lean,
          leanSessions,
          "rest-lean",
          "profile worker: the full REST call through the service's Hono app, without log lines and without metrics/analytics",
        ),
        restLocalTimeTarget(
          quiet,
          quietSessions,
          "rest-quiet",
          "profile worker: the full REST call with metrics (METRICS object RPCs, Analytics Engine point) but without log lines",
        ),
        restLocalTimeTarget(api, sessions, "rest", "the service itself (as in the foundation suite): full REST call with its log lines and metrics"),
      ],
    };
  },
};
