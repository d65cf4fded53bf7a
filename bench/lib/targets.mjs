// Targets more than one suite measures: the baseline's trivial Worker -> Durable Object call and its relay echo,
// and the service's REST execute of `local_get_time` and of a device tool. One definition each, so every suite
// measures exactly the same call. Each target names the server its client talks to (`client.server`), for its own
// CPU and, on the service, its Durable Object request counts.
import { expectJson } from "./http.mjs";

export const EXECUTE_LOCAL_TIME = "/api/v1/mcp/tools/local_get_time/execute";

/** A REST `local_get_time` reply is a successful req_llm action. */
export const restLocalTimeOk = (body) => body.success === true && body.action === "req_llm";

/**
 * `POST /call {id, arguments:{}}` to bench/baseline: one Durable Object (by name, one per connection) over RPC,
 * one `kv.put`, a JSON reply (`path` "/rpc": the same without the `kv.put`).
 * @param {import("./http.mjs").JsonClient} base client of the baseline server
 * @param {string[]} ids object name per load-generator connection
 */
export function baselineCallTarget(base, ids, name, description, path = "/call") {
  return {
    name,
    description,
    server: base.server,
    async callOnce(conn) {
      expectJson(await base.post(path, { id: ids[conn], arguments: {} }), (body) => body.ok === true, name);
    },
  };
}

/**
 * `POST /api/v1/mcp/tools/local_get_time/execute {session_id, arguments:{}}` through a client that carries the
 * bearer token (and any bench headers).
 * @param {import("./http.mjs").JsonClient} api
 * @param {string[]} sessions bound session per load-generator connection
 */
export function restLocalTimeTarget(api, sessions, name, description) {
  return {
    name,
    description,
    server: api.server,
    async callOnce(conn) {
      expectJson(await api.post(EXECUTE_LOCAL_TIME, { session_id: sessions[conn], arguments: {} }), restLocalTimeOk, name);
    },
  };
}

export const EXECUTE_SET_VOLUME = "/api/v1/mcp/tools/self_audio_speaker_set_volume/execute";

/**
 * `POST /relay {id, arguments:{volume:50}}` to bench/baseline: the connection's Durable Object sends one
 * `tools/call` frame over the device WebSocket it holds and answers with the reply (bench/lib/fake-device.mjs
 * answers `"true"`).
 * @param {import("./http.mjs").JsonClient} base client of the baseline server
 * @param {string[]} ids object name per load-generator connection (each with a device attached)
 */
export function relayEchoTarget(base, ids, name, description) {
  return {
    name,
    description,
    server: base.server,
    async callOnce(conn) {
      expectJson(
        await base.post("/relay", { id: ids[conn], arguments: { volume: 50 } }),
        (body) => body.ok === true && body.result?.content?.[0]?.text === "true",
        name,
      );
    },
  };
}

/**
 * `POST /api/v1/mcp/tools/self_audio_speaker_set_volume/execute {volume:50}` through a client that carries the
 * bearer token (and any bench headers); the fake device answers `"true"`.
 * @param {import("./http.mjs").JsonClient} api
 * @param {string[]} sessions bound session per load-generator connection, each with a fake device relayed
 */
export function deviceCallTarget(api, sessions, name, description) {
  return {
    name,
    description,
    server: api.server,
    async callOnce(conn) {
      expectJson(
        await api.post(EXECUTE_SET_VOLUME, { session_id: sessions[conn], arguments: { volume: 50 } }),
        (body) => body.success === true && body.action === "req_llm" && body.result === "true",
        name,
      );
    },
  };
}
