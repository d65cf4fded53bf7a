// The three servers a breakdown suite measures side by side: the service, the baseline worker, and the
// bench-only profile worker (bench/profile/worker.ts: the service's own src/ with modes that leave out its log
// lines and metrics), with a client for each; `modeClient` adds the profile worker's `x-bench-mode` header.
import { BENCH_TOKEN } from "./context.mjs";

export async function startBreakdownServers(ctx) {
  const service = await ctx.service();
  const baseline = await ctx.baseline();
  const profile = await ctx.profile();
  const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
  return {
    maxConnections: Math.max(...ctx.options.concurrency),
    auth,
    service,
    baseline,
    profile,
    api: ctx.client(service.url, auth),
    base: ctx.client(baseline.url),
    /** @param {"lean" | "quiet"} mode */
    modeClient: (mode) => ctx.client(profile.url, { ...auth, "x-bench-mode": mode }),
  };
}
