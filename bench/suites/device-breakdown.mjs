// Device breakdown suite (opt-in: `npm run bench -- --suite device-breakdown`): where the time of a device tool
// call goes beyond the relay echo baseline. The bench-only profile worker (bench/profile/worker.ts) runs the
// service's unchanged src/ code; its `lean` and `quiet` modes leave out the log lines and the metrics. All
// targets run interleaved in the same rounds, so neighbouring rows differ by one layer each.
import { startBreakdownServers } from "../lib/breakdown-servers.mjs";
import { baselineDevices, relayDevices } from "../lib/fake-device.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { deviceCallTarget, relayEchoTarget } from "../lib/targets.mjs";

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "device-breakdown",
  description: "where the time of a device tool call goes: the service's logic, its log lines, its metrics",
  optIn: true,
  async setup(ctx) {
    const { maxConnections, auth, service, baseline, profile, api, base, modeClient } = await startBreakdownServers(ctx);
    // The session-id prefix tells the profile worker's session object which mode to run in.
    const modes = /** @type {const} */ (["lean", "quiet"]).map((mode) => ({
      mode,
      headers: { ...auth, "x-bench-mode": mode },
      client: modeClient(mode),
      sessions: sessionIds(ctx, mode, maxConnections),
    }));
    const sessions = sessionIds(ctx, "device", maxConnections);
    const relayIds = sessionIds(ctx, "relay", maxConnections);
    await bindSessions(api, sessions);
    for (const { client, sessions: ids } of modes) await bindSessions(client, ids);
    const sockets = [...(await relayDevices(service.url, api, sessions, auth)), ...(await baselineDevices(baseline.url, relayIds))];
    for (const { client, sessions: ids, headers } of modes) sockets.push(...(await relayDevices(profile.url, client, ids, headers)));
    const [lean, quiet] = modes;

    return {
      baseline: "relay-echo",
      teardown: async () => {
        for (const socket of sockets) socket.close(1000, "bench done");
      },
      targets: [
        relayEchoTarget(base, relayIds, "relay-echo", "one tools/call frame through a Durable Object to the fake device and back (bench/baseline), as in the device suite"),
        deviceCallTarget(lean.client, lean.sessions, "device-lean", "profile worker: the full device call through the service's code, without log lines and without metrics/analytics"),
        deviceCallTarget(quiet.client, quiet.sessions, "device-quiet", "profile worker: the full device call with metrics (batched METRICS RPC, Analytics Engine point) but without log lines"),
        deviceCallTarget(api, sessions, "device", "the service itself (as in the device suite): full device call with its two log lines and metrics"),
      ],
    };
  },
};
