// Foundation suite: `local_get_time` through the service (REST and tRPC) against a trivial Worker -> Durable
// Object call with one storage write (bench/baseline). Aim: the service within 1.25x of the baseline.
import { BENCH_TOKEN } from "../lib/context.mjs";
import { expectJson } from "../lib/http.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { baselineCallTarget, restLocalTimeTarget } from "../lib/targets.mjs";

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "foundation",
  description: "local_get_time via REST and via tRPC vs a trivial Worker -> Durable Object call with one storage write",
  aim: 1.25,
  notes: againstRpc,
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    const service = await ctx.service();
    const baseline = await ctx.baseline();
    const api = ctx.client(service.url, { authorization: `Bearer ${BENCH_TOKEN}` });
    const base = ctx.client(baseline.url);
    // One session (one Durable Object) per load-generator connection, as with many devices at once.
    const sessions = sessionIds(ctx, "bench", maxConnections);
    await bindSessions(api, sessions);
    const baseIds = sessionIds(ctx, "baseline", maxConnections);

    return {
      baseline: "baseline",
      aimTargets: ["rest", "trpc"],
      targets: [
        baselineCallTarget(
          base,
          baseIds,
          "baseline",
          "POST /call {id, arguments} to bench/baseline: Worker parses JSON, calls a Durable Object (by name, one per connection) over RPC, the object does one ctx.storage.kv.put, Worker replies JSON",
        ),
        baselineCallTarget(
          base,
          baseIds,
          "baseline-rpc",
          "reference: POST /rpc to bench/baseline, the same Worker -> Durable Object RPC without the kv.put (the service stores session activity at most once a minute, so most of its calls write nothing either)",
          "/rpc",
        ),
        restLocalTimeTarget(
          api,
          sessions,
          "rest",
          "POST /api/v1/mcp/tools/local_get_time/execute {session_id, arguments:{}} with the bearer token (one bound session per connection)",
        ),
        {
          name: "trpc",
          description: "POST /trpc/executeTool {tool_name, session_id, arguments:{}} (plain JSON, non-batched) with the bearer token",
          server: api.server,
          async callOnce(conn) {
            expectJson(
              await api.post("/trpc/executeTool", { tool_name: "local_get_time", session_id: sessions[conn], arguments: {} }),
              (body) => body.result?.data?.success === true,
              "trpc",
            );
          },
        },
      ],
    };
  },
};

/** The service against the write-free reference row too: the stricter reading of "a trivial Worker -> DO call". */
function againstRpc(results) {
  const lines = [];
  for (const concurrency of [...new Set(results.map((r) => r.concurrency))]) {
    const at = (target) => results.find((r) => r.concurrency === concurrency && r.target === target);
    const rpc = at("baseline-rpc");
    if (!rpc) continue;
    for (const target of ["rest", "trpc"]) {
      const service = at(target);
      if (service) lines.push(`  ${target.padEnd(5)} c=${concurrency}: p50 ${(service.p50 / rpc.p50).toFixed(2)}x, throughput ${(rpc.callsPerSec / service.callsPerSec).toFixed(2)}x of baseline-rpc`);
    }
  }
  return lines.length > 0 ? ["Against the reference without the storage write (baseline-rpc):", ...lines] : [];
}
