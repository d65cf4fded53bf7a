// MCP over Streamable HTTP as the load generator speaks it, without an SDK in the measured path: the request
// shapes of both protocol eras, the JSON-RPC reply inside an answer, and targets and probes built on them.
// One copy here for the external, mcp and mcp-clients suites.

export const ACCEPT = "application/json, text/event-stream";
export const MODERN_VERSION = "2026-07-28";
export const LEGACY_VERSION = "2025-11-25";

/**
 * Headers of a 2026-07-28 (modern, stateless) request: the version and the method (and the tool's name for
 * tools/call) ride in headers, so a server can route without reading the body; no session id.
 * @param {string} method
 * @param {string} [name] tool name, for tools/call
 */
export function modernHeaders(method, name) {
  return {
    "content-type": "application/json",
    accept: ACCEPT,
    "mcp-protocol-version": MODERN_VERSION,
    "mcp-method": method,
    ...(name === undefined ? {} : { "mcp-name": name }),
  };
}

/** Headers of a 2025-era request; `sessionId` only for a server that keeps sessions. */
export function legacyHeaders(sessionId) {
  return {
    "content-type": "application/json",
    accept: ACCEPT,
    "mcp-protocol-version": LEGACY_VERSION,
    ...(sessionId ? { "mcp-session-id": sessionId } : {}),
  };
}

/**
 * A 2026-07-28 `tools/call` body: the per-request `_meta` envelope (protocol version, client info, client
 * capabilities) replaces what initialize used to establish.
 * @param {number} id
 * @param {string} name
 * @param {Record<string, unknown>} args
 */
export function modernToolCall(id, name, args) {
  return {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: {
      name,
      arguments: args,
      _meta: {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  };
}

/** A 2025-era `tools/call` body. */
export function legacyToolCall(id, name, args) {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

/**
 * The JSON-RPC response inside a Streamable HTTP answer: a JSON body, or the SSE event that carries it (a stream
 * may open with an empty priming event, as servers with resumability send, or carry notifications first).
 */
export function rpcReply(text) {
  if (text.startsWith("{")) return JSON.parse(text);
  for (const [, data] of text.matchAll(/^data: ?(.*)$/gm)) {
    if (!data.startsWith("{")) continue;
    const message = JSON.parse(data);
    if ("result" in message || "error" in message) return message;
  }
  throw new Error(`no JSON-RPC response in: ${text.slice(0, 200)}`);
}

/** The text of the first content item of a `tools/call` result. */
export const firstText = (rpc) => rpc?.result?.content?.[0]?.text;

/** A `local_get_time` result of the service: its ActionResponse in `structuredContent`. */
export const localTimeOk = (rpc) => rpc?.result?.structuredContent?.action === "req_llm";

/**
 * A target that POSTs one MCP `tools/call` per call and checks the JSON-RPC reply.
 * @param {object} spec
 * @param {string} spec.name
 * @param {string} spec.description
 * @param {import("./http.mjs").JsonClient} spec.client carries the era's headers (and the bearer token)
 * @param {string | ((conn: number) => string)} spec.path the endpoint, or the endpoint of connection `conn`
 * @param {(id: number) => unknown} spec.body the request for JSON-RPC id `id`
 * @param {(rpc: any) => boolean} spec.accept
 * @returns {import("./suite.mjs").Target}
 */
export function mcpCallTarget({ name, description, client, path, body, accept }) {
  let nextId = 1;
  return {
    name,
    description,
    server: client.server,
    async callOnce(conn) {
      const reply = await client.post(typeof path === "string" ? path : path(conn), body(nextId++));
      if (reply.status !== 200) throw new Error(`${name}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
      const rpc = rpcReply(reply.text);
      if (!accept(rpc)) throw new Error(`${name}: unexpected reply ${reply.text.slice(0, 200)}`);
    },
  };
}

/**
 * One request outside any measurement, to learn whether an endpoint serves it. Resolves null when it does, or
 * a short reason (status and the start of the answer) when it does not.
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {unknown} body
 * @param {(rpc: any) => boolean} accept
 */
export async function probeCall(url, headers, body, accept) {
  try {
    const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    if (response.status !== 200) return `HTTP ${response.status} ${oneLine(text)}`;
    const rpc = rpcReply(text);
    return accept(rpc) ? null : `unexpected reply ${oneLine(text)}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const oneLine = (text) => text.replace(/\s+/g, " ").slice(0, 160);
