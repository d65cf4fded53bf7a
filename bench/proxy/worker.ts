/**
 * Bench-only proxy worker (not part of the service, not type-checked by the project's tsconfig): the baseline of
 * the external suite. The least a Worker can do to serve an MCP `tools/call` from an upstream MCP server: one
 * `fetch` to the upstream per call, no SDK, no parsing, the body and the Streamable HTTP headers passed through
 * and the upstream's answer (JSON or an SSE stream) streamed back as it comes.
 *
 * Routes:
 * - `GET /healthz`  readiness probe for the bench runner.
 * - `POST /mcp`     forwarded to `UPSTREAM_URL` with the request's body and its `content-type`, `accept`,
 *                   `mcp-protocol-version`, `mcp-method` and `mcp-name` headers, plus the proxy's own upstream
 *                   `mcp-session-id`.
 *
 * Upstream session: a 2025-era Streamable HTTP server (server-everything) answers `tools/call` only inside an MCP
 * session. The proxy opens one lazily, on its first call (initialize + notifications/initialized), and keeps its
 * id in isolate memory for every later call and connection; the bench makes that first call before measuring,
 * so no measured call pays for it. A 404 from the upstream (the spec's "session gone") drops the id, and the next
 * call opens a new session. The service holds its upstream MCP sessions across calls too, so both sides pay one
 * upstream POST per call.
 */

interface ProxyEnv {
  UPSTREAM_URL: string;
}

const PROTOCOL_VERSION = "2025-11-25";
const PASSED_HEADERS = ["content-type", "accept", "mcp-protocol-version", "mcp-method", "mcp-name"];
const INIT_DEADLINE_MS = 15_000;

let session: Promise<string> | undefined;

/** initialize + notifications/initialized on the upstream; resolves the session id. */
async function openSession(upstream: string): Promise<string> {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  const init = await fetch(upstream, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "bench-proxy", version: "1.0.0" } },
    }),
    signal: AbortSignal.timeout(INIT_DEADLINE_MS),
  });
  const id = init.headers.get("mcp-session-id");
  await init.text();
  if (!init.ok || !id) throw new Error(`upstream initialize: HTTP ${init.status}, session id ${id ?? "missing"}`);
  const ack = await fetch(upstream, {
    method: "POST",
    headers: { ...headers, "mcp-session-id": id, "mcp-protocol-version": PROTOCOL_VERSION },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    signal: AbortSignal.timeout(INIT_DEADLINE_MS),
  });
  await ack.text();
  if (!ack.ok) throw new Error(`upstream notifications/initialized: HTTP ${ack.status}`);
  return id;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz" || url.pathname === "/") return Response.json({ status: "ok" });
    if (url.pathname !== "/mcp" || request.method !== "POST") return Response.json({ error: "not found" }, { status: 404 });

    // Concurrent first calls share one initialize; a failed one is not kept.
    const opening = (session ??= openSession(env.UPSTREAM_URL));
    let sessionId: string;
    try {
      sessionId = await opening;
    } catch (error) {
      if (session === opening) session = undefined;
      return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32603, message: String(error) } }, { status: 502 });
    }

    const headers = new Headers({ "mcp-session-id": sessionId });
    for (const name of PASSED_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const answer = await fetch(env.UPSTREAM_URL, { method: "POST", headers, body: request.body });
    if (answer.status === 404 && session === opening) session = undefined;
    return new Response(answer.body, {
      status: answer.status,
      headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
    });
  },
} satisfies ExportedHandler<ProxyEnv>;
