// Device suite (issue 3): a device tool round trip through the service — REST execute -> session Durable
// Object -> relay WebSocket -> a fake device (in this process, answering at once) -> back — against the
// baseline of a raw WebSocket echo through a Durable Object (bench/baseline `GET /ws`). Aim: 1.3x at p50.
import { BENCH_TOKEN } from "../lib/context.mjs";
import { expectJson } from "../lib/http.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";

const VOLUME_TOOL = {
  name: "self.audio_speaker.set_volume",
  description: "Set the speaker volume",
  inputSchema: { type: "object", properties: { volume: { type: "integer", minimum: 0, maximum: 100 } }, required: ["volume"] },
};

/** Opens a WebSocket with headers (Node's WebSocket takes them in its options) and waits until it is open. */
function openSocket(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const timer = setTimeout(() => reject(new Error(`WebSocket ${url}: not open within 15 s`)), 15_000);
    ws.addEventListener("open", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error(`WebSocket ${url} failed`));
    });
  });
}

/** A minimal ESP32: answers initialize, one tools/list page and every tools/call, inside the xiaozhi envelope. */
function actAsDevice(ws, sessionId) {
  ws.addEventListener("message", (event) => {
    const { payload } = JSON.parse(String(event.data));
    if (typeof payload.id !== "number") return;
    let result;
    if (payload.method === "initialize") result = { protocolVersion: "2024-11-05", capabilities: { tools: {} }, serverInfo: { name: "bench-board", version: "1" } };
    else if (payload.method === "tools/list") result = { tools: [VOLUME_TOOL] };
    else if (payload.method === "tools/call") result = { content: [{ type: "text", text: "true" }], isError: false };
    else return;
    ws.send(JSON.stringify({ session_id: sessionId, type: "mcp", payload: { jsonrpc: "2.0", id: payload.id, result } }));
  });
}

async function waitReady(api, sessionId) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const view = JSON.parse((await api.get(`/api/v1/mcp/sessions/${encodeURIComponent(sessionId)}`)).text);
    if (view.relay?.phase === "ready" && view.relay.tool_count === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`device of ${sessionId}: handshake not done within 15 s`);
}

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "device",
  description: "device tool round trip (REST -> DO -> relay WebSocket -> fake device -> back) vs a raw WebSocket echo through a DO",
  aim: 1.3,
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    const service = await ctx.service();
    const baseline = await ctx.baseline();
    const api = ctx.client(service.url, { authorization: `Bearer ${BENCH_TOKEN}` });
    const sessions = sessionIds(ctx, "device", maxConnections);
    await bindSessions(api, sessions);
    const relays = [];
    for (const session of sessions) {
      const relay = await openSocket(`${service.url.replace(/^http/, "ws")}/api/v1/mcp/sessions/${encodeURIComponent(session)}/device`, {
        authorization: `Bearer ${BENCH_TOKEN}`,
      });
      actAsDevice(relay, session);
      relays.push(relay);
      await waitReady(api, session);
    }
    const echoIds = sessionIds(ctx, "echo", maxConnections);
    return {
      baseline: "ws-echo",
      aimTargets: ["device"],
      teardown: async () => {
        for (const relay of relays) relay.close(1000, "bench done");
      },
      targets: [
        {
          name: "ws-echo",
          description: "a message over a WebSocket to bench/baseline, forwarded to a Durable Object (hibernation API) that echoes it; one socket per connection",
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
        {
          name: "device",
          description:
            "POST /api/v1/mcp/tools/self_audio_speaker_set_volume/execute {volume:50}: the session object sends tools/call over the relay WebSocket to the fake device, which answers at once",
          async callOnce(conn) {
            expectJson(
              await api.post("/api/v1/mcp/tools/self_audio_speaker_set_volume/execute", { session_id: sessions[conn], arguments: { volume: 50 } }),
              (body) => body.success === true && body.action === "req_llm" && body.result === "true",
              "device",
            );
          },
        },
      ],
    };
  },
};
