// MCP endpoint suite (issue 5): `tools/call` of local_get_time through the session's Streamable HTTP MCP
// endpoint, against the same call through REST. Both go Worker -> session Durable Object -> the same core.
import { BENCH_TOKEN } from "../lib/context.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { restLocalTimeTarget } from "../lib/targets.mjs";

const ACCEPT = "application/json, text/event-stream";

/** Opens an MCP session on `url` (initialize + notifications/initialized) and returns its id. */
async function openMcpSession(url) {
  const headers = { authorization: `Bearer ${BENCH_TOKEN}`, accept: ACCEPT, "content-type": "application/json" };
  const init = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1.0.0" } },
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const sessionId = init.headers.get("mcp-session-id");
  await init.text();
  if (init.status !== 200 || !sessionId) throw new Error(`MCP initialize failed: HTTP ${init.status}`);
  const ack = await fetch(url, {
    method: "POST",
    headers: { ...headers, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    signal: AbortSignal.timeout(15_000),
  });
  await ack.text();
  return sessionId;
}

/** The JSON-RPC reply inside a Streamable HTTP answer (SSE `data:` line, or a JSON body). */
function rpcReply(text) {
  const data = text.startsWith("{") ? text : /^data: (.*)$/m.exec(text)?.[1];
  if (!data) throw new Error(`no JSON-RPC reply in: ${text.slice(0, 200)}`);
  return JSON.parse(data);
}

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "mcp",
  description: "tools/call local_get_time through the session MCP endpoint vs executeTool through REST",
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    const service = await ctx.service();
    const api = ctx.client(service.url, { authorization: `Bearer ${BENCH_TOKEN}` });
    const sessions = sessionIds(ctx, "mcp", maxConnections);
    await bindSessions(api, sessions);
    // An MCP session lives in its Durable Object's memory and ends when the object is evicted (idle in
    // between batches), as real clients see it: each measured batch opens a fresh one (not timed).
    const openClient = async (conn) => {
      const path = `/api/v1/mcp/sessions/${encodeURIComponent(sessions[conn])}/mcp`;
      const mcpSession = await openMcpSession(`${service.url}${path}`);
      const client = ctx.client(service.url, {
        authorization: `Bearer ${BENCH_TOKEN}`,
        accept: ACCEPT,
        "mcp-session-id": mcpSession,
        "mcp-protocol-version": "2025-11-25",
      });
      return { path, client };
    };
    let nextId = 1;
    return {
      baseline: "rest",
      targets: [
        restLocalTimeTarget(api, sessions, "rest", "POST /api/v1/mcp/tools/local_get_time/execute {session_id, arguments:{}} (one bound session per connection)"),
        {
          name: "mcp",
          description:
            "POST /api/v1/mcp/sessions/{id}/mcp tools/call local_get_time on an initialized MCP session (one per connection, opened before each batch; answer read from the SSE reply)",
          async connect(conn) {
            const { path, client } = await openClient(conn);
            return {
              async callOnce() {
                const reply = await client.post(path, { jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name: "local_get_time", arguments: {} } });
                if (reply.status !== 200) throw new Error(`mcp: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
                const rpc = rpcReply(reply.text);
                if (rpc.result?.structuredContent?.action !== "req_llm") throw new Error(`mcp: unexpected reply ${reply.text.slice(0, 200)}`);
              },
              close: () => client.close(),
            };
          },
        },
      ],
    };
  },
};
