// Device suite (issue 3): a device tool round trip through the service — REST execute -> session Durable
// Object -> relay WebSocket -> a fake device (in this process, answering at once) -> back — against the
// baseline of a raw WebSocket echo through a Durable Object, reached the same way: HTTP POST -> Worker -> DO ->
// one frame over the device's WebSocket -> the same fake device -> back (bench/baseline `POST /relay`).
// Aim: 1.3x at p50. A reference row `ws-echo` shows the WebSocket hop alone (the client is the socket's peer,
// no HTTP request): what the local runtime's HTTP path costs on top of it is in both other rows.
import { BENCH_TOKEN } from "../lib/context.mjs";
import { baselineDevices, openSocket, relayDevices } from "../lib/fake-device.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { deviceCallTarget, relayEchoTarget } from "../lib/targets.mjs";

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "device",
  description: "device tool round trip (REST -> DO -> relay WebSocket -> fake device -> back) vs a raw WebSocket round trip through a DO reached by HTTP",
  aim: 1.3,
  aimOn: "p50",
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    const service = await ctx.service();
    const baseline = await ctx.baseline();
    const api = ctx.client(service.url, { authorization: `Bearer ${BENCH_TOKEN}` });
    const sessions = sessionIds(ctx, "device", maxConnections);
    await bindSessions(api, sessions);
    const echoIds = sessionIds(ctx, "echo", maxConnections);
    const relayIds = sessionIds(ctx, "relay", maxConnections);
    const baselineApi = ctx.client(baseline.url);
    const relays = [
      ...(await relayDevices(service.url, api, sessions, { authorization: `Bearer ${BENCH_TOKEN}` })),
      ...(await baselineDevices(baseline.url, relayIds)),
    ];
    return {
      baseline: "relay-echo",
      aimTargets: ["device"],
      teardown: async () => {
        for (const relay of relays) relay.close(1000, "bench done");
      },
      targets: [
        relayEchoTarget(
          baselineApi,
          relayIds,
          "relay-echo",
          "POST /relay {id, arguments:{volume:50}} to bench/baseline: the Worker calls the connection's Durable Object, which sends one tools/call frame over the attached device WebSocket (hibernation API) to the same fake device and answers with its reply",
        ),
        {
          name: "ws-echo",
          description:
            "reference: a message over a WebSocket from this process to bench/baseline, forwarded to a Durable Object (hibernation API) that echoes it; no HTTP request per call; one socket per connection",
          server: baseline.name,
          async connect(conn) {
            const ws = await openSocket(`${baseline.url.replace(/^http/, "ws")}/ws?id=${encodeURIComponent(echoIds[conn])}`);
            let waiting = null;
            ws.addEventListener("message", () => waiting?.());
            return {
              callOnce: () =>
                new Promise((resolve, reject) => {
                  const timer = setTimeout(() => reject(new Error("ws-echo: no echo within 15 s")), 15_000);
                  waiting = () => {
                    clearTimeout(timer);
                    waiting = null;
                    resolve();
                  };
                  ws.send(JSON.stringify({ session_id: echoIds[conn], type: "mcp", payload: { jsonrpc: "2.0", id: 1, result: {} } }));
                }),
              close: () => ws.close(1000, "done"),
            };
          },
        },
        deviceCallTarget(
          api,
          sessions,
          "device",
          "POST /api/v1/mcp/tools/self_audio_speaker_set_volume/execute {volume:50}: the session object sends tools/call over the relay WebSocket to the fake device, which answers at once",
        ),
      ],
    };
  },
};
