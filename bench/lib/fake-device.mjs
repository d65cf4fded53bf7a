// The bench's ESP32: the smallest device that completes the xiaozhi MCP handshake (one tool) and answers every
// tools/call at once, over a WebSocket. Used by the device suite and by bench/tools/cpu-profile.mjs.

export const VOLUME_TOOL = {
  name: "self.audio_speaker.set_volume",
  description: "Set the speaker volume",
  inputSchema: { type: "object", properties: { volume: { type: "integer", minimum: 0, maximum: 100 } }, required: ["volume"] },
};

/** Opens a WebSocket with headers (Node's WebSocket takes them in its options) and waits until it is open. */
export function openSocket(url, headers = {}) {
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
export function actAsDevice(ws, sessionId) {
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

export async function waitReady(api, sessionId) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const view = JSON.parse((await api.get(`/api/v1/mcp/sessions/${encodeURIComponent(sessionId)}`)).text);
    if (view.relay?.phase === "ready" && view.relay.tool_count === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`device of ${sessionId}: handshake not done within 15 s`);
}

/**
 * One fake device per session, relayed to the service (`…/sessions/<id>/device`, with the client's headers),
 * each ready with its tool. Returns the sockets (close them at teardown).
 * @param {string} serverUrl  @param {import("./http.mjs").JsonClient} api  @param {string[]} sessions
 * @param {Record<string, string>} headers bearer token and any bench headers of the relay upgrade
 */
export async function relayDevices(serverUrl, api, sessions, headers) {
  const sockets = [];
  for (const session of sessions) {
    const relay = await openSocket(`${serverUrl.replace(/^http/, "ws")}/api/v1/mcp/sessions/${encodeURIComponent(session)}/device`, headers);
    actAsDevice(relay, session);
    sockets.push(relay);
    await waitReady(api, session);
  }
  return sockets;
}

/** One fake device per object of bench/baseline (`/ws?id=<id>&role=device`), for `POST /relay`. */
export async function baselineDevices(baselineUrl, ids) {
  const sockets = [];
  for (const id of ids) {
    const device = await openSocket(`${baselineUrl.replace(/^http/, "ws")}/ws?id=${encodeURIComponent(id)}&role=device`);
    actAsDevice(device, id);
    sockets.push(device);
  }
  return sockets;
}
