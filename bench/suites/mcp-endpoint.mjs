// MCP endpoint suite (issues 5 and 15): `tools/call` of local_get_time through a session's MCP endpoint
// `/api/v1/mcp/sessions/{id}/mcp`, against the same call through REST. Aim (issue 15): p50 within 1.15x of REST.
//
// The endpoint is stateless (issue 15): no initialize and no Mcp-Session-Id, so every call is one POST, in
// either protocol era: `mcp-modern` (2026-07-28: version, method and tool name in headers, the `_meta` envelope
// in params) and `mcp-legacy` (a 2025-11-25 tools/call without a session id; the answer may be SSE or JSON).
// Code that still needs an MCP session refuses both: `unavailable` probes once and skips the suite with the
// reason, so the suite runs before and after the stateless endpoint lands.
import { BENCH_TOKEN } from "../lib/context.mjs";
import { legacyHeaders, legacyToolCall, localTimeOk, mcpCallTarget, modernHeaders, modernToolCall, probeCall } from "../lib/mcp.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { restLocalTimeTarget } from "../lib/targets.mjs";

const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
const TOOL = "local_get_time";
const endpoint = (session) => `/api/v1/mcp/sessions/${encodeURIComponent(session)}/mcp`;
const modern = { ...auth, ...modernHeaders("tools/call", TOOL) };
const legacy = { ...auth, ...legacyHeaders() };

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "mcp",
  description: "tools/call local_get_time on the session MCP endpoint (stateless: 2026-07-28 and 2025-era requests) vs executeTool through REST",
  aim: 1.15,
  aimOn: "p50",
  async unavailable(ctx) {
    const service = await ctx.service();
    const [probe] = sessionIds(ctx, "mcp-probe", 1);
    await bindSessions(ctx.client(service.url, auth), [probe]);
    const url = `${service.url}${endpoint(probe)}`;
    const refused = [
      ["2026-07-28", await probeCall(url, modern, modernToolCall(0, TOOL, {}), localTimeOk)],
      ["2025-11-25 without a session id", await probeCall(url, legacy, legacyToolCall(0, TOOL, {}), localTimeOk)],
    ].filter(([, reason]) => reason !== null);
    if (refused.length === 0) return null;
    return `the session MCP endpoint refuses a stateless tools/call (${refused.map(([era, reason]) => `${era}: ${reason}`).join("; ")}); it needs the stateless endpoint of issue 15`;
  },
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    const service = await ctx.service();
    const api = ctx.client(service.url, auth);
    const sessions = sessionIds(ctx, "mcp", maxConnections);
    await bindSessions(api, sessions);
    // One client per era (its headers), one bound session per load-generator connection, as for REST.
    const modernClient = ctx.client(service.url, modern);
    const legacyClient = ctx.client(service.url, legacy);
    const path = (/** @type {number} */ conn) => endpoint(sessions[conn]);
    return {
      baseline: "rest",
      aimTargets: ["mcp-modern", "mcp-legacy"],
      targets: [
        restLocalTimeTarget(api, sessions, "rest", "POST /api/v1/mcp/tools/local_get_time/execute {session_id, arguments:{}} (one bound session per connection)"),
        mcpCallTarget({
          name: "mcp-modern",
          description:
            "POST /api/v1/mcp/sessions/{id}/mcp tools/call local_get_time as a 2026-07-28 stateless request (mcp-protocol-version, mcp-method, mcp-name headers; _meta envelope; no session id)",
          client: modernClient,
          path,
          body: (id) => modernToolCall(id, TOOL, {}),
          accept: localTimeOk,
        }),
        mcpCallTarget({
          name: "mcp-legacy",
          description:
            "POST /api/v1/mcp/sessions/{id}/mcp tools/call local_get_time as a 2025-11-25 request without Mcp-Session-Id (no initialize; answer read from SSE or JSON)",
          client: legacyClient,
          path,
          body: (id) => legacyToolCall(id, TOOL, {}),
          accept: localTimeOk,
        }),
      ],
    };
  },
};
