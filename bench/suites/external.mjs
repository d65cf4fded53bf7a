// External suite (issues 4 and 15): server-everything's `echo` through the service against the same `echo`
// through the least a Worker can do to forward it: bench/proxy, one `fetch` per call, no SDK (the baseline).
// Aim (issue 15): the service within 1.25x of the proxy in p50 and in workerd CPU per call, at every concurrency.
//
// The service is measured twice: REST execute (Worker -> session object -> upstream) and a 2026-07-28 (stateless)
// `tools/call` on the shared `/mcp` endpoint (served by the Worker itself, straight to the upstream). The second
// needs the stateless endpoint; on code without it the probe in setup leaves that target out and the notes say
// so. `direct` (the SDK client in this process, straight to the upstream) stays as a reference row: what the
// same call costs without the local runtime in the path.
//
// CPU: each side's own server (bench/lib/suite.mjs `server`): the proxy's wrangler process group against the
// service's, workerd processes only (wrangler's Node process relays log lines, a development aid, see
// docs/benchmarks.md). server-everything is a child of this process, in the bench's own process group: its CPU
// is in neither figure (nor in the load generator's, which counts this process alone).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { BENCH_TOKEN } from "../lib/context.mjs";
import { upstreamFixtures } from "../lib/fixtures.mjs";
import { expectJson } from "../lib/http.mjs";
import { firstText, legacyHeaders, legacyToolCall, mcpCallTarget, modernHeaders, modernToolCall, probeCall } from "../lib/mcp.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
import { ms } from "../lib/table.mjs";

const ECHO = { message: "bench" };
const echoed = (rpc) => firstText(rpc) === "Echo: bench";

/** Why the shared /mcp target was left out in this run (null: measured). Read by the notes. */
let sharedRefused = /** @type {string | null} */ (null);

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "external",
  description:
    "server-everything echo through the service (REST execute; 2026-07-28 tools/call on the shared /mcp) vs a trivial proxy Worker forwarding the same tools/call with one fetch",
  aim: 1.25,
  aimOn: ["p50", "cpu"],
  notes: externalNotes,
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    // The same server-everything the tests use (their fixture, run by Node directly).
    const upstream = await (await upstreamFixtures()).startEverythingServer();
    /** @type {Client[]} */
    const clients = [];
    const teardown = async () => {
      for (const client of clients) await client.close().catch(() => undefined);
      await upstream.stop();
    };
    try {
      const service = await ctx.configuredService("service-external", { mcpServers: { everything: { url: upstream.url } } });
      const proxy = await ctx.proxy(upstream.url);
      const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
      const api = ctx.client(service.url, auth);
      const sessions = sessionIds(ctx, "external", maxConnections);
      await bindSessions(api, sessions);
      // First listing discovers the upstream (initialize + tools/list), outside the measurement.
      for (const session of sessions) {
        expectJson(await api.get(`/api/v1/mcp/tools?session_id=${session}`), (body) => body.tools.some((t) => t.name === "mcp_echo"), "tools");
      }
      for (let conn = 0; conn < maxConnections; conn++) {
        const client = new Client({ name: "bench-direct", version: "1.0.0" });
        await client.connect(new StreamableHTTPClientTransport(new URL(upstream.url)));
        clients.push(client);
      }

      const proxyTarget = mcpCallTarget({
        name: "proxy",
        description:
          "POST /mcp to bench/proxy: a trivial Worker forwards the 2025-era tools/call echo with one fetch to server-everything (body and Streamable HTTP headers " +
          "passed through, answer streamed back) on its upstream MCP session, opened lazily once per isolate before measuring and kept in isolate memory",
        client: ctx.client(proxy.url, legacyHeaders()),
        path: "/mcp",
        body: (id) => legacyToolCall(id, "echo", ECHO),
        accept: echoed,
      });
      // The proxy's first call opens its upstream session: made here, so no measured call pays for it.
      await proxyTarget.callOnce?.(0);

      const sharedHeaders = { ...auth, ...modernHeaders("tools/call", "mcp_echo") };
      sharedRefused = await probeCall(`${service.url}/mcp`, sharedHeaders, modernToolCall(0, "mcp_echo", ECHO), echoed);
      if (sharedRefused) ctx.log(`external: mcp-shared left out, the shared /mcp refuses a 2026-07-28 stateless tools/call: ${sharedRefused}`);

      /** @type {import("../lib/suite.mjs").Target[]} */
      const targets = [
        proxyTarget,
        {
          name: "direct",
          description: "reference: SDK Client.callTool('echo') from this process on server-everything over Streamable HTTP (one client per connection)",
          async callOnce(conn) {
            const result = await clients[conn].callTool({ name: "echo", arguments: ECHO }, undefined, { timeout: 15_000 });
            if (result.content?.[0]?.text !== "Echo: bench") throw new Error(`direct: ${JSON.stringify(result).slice(0, 200)}`);
          },
        },
        {
          name: "rest",
          description: "POST /api/v1/mcp/tools/mcp_echo/execute {session_id, arguments:{message}} through the service (Worker -> session object -> upstream)",
          server: api.server,
          async callOnce(conn) {
            expectJson(
              await api.post("/api/v1/mcp/tools/mcp_echo/execute", { session_id: sessions[conn], arguments: ECHO }),
              (body) => body.success === true && body.result === "Echo: bench",
              "rest",
            );
          },
        },
      ];
      if (!sharedRefused) {
        targets.push(
          mcpCallTarget({
            name: "mcp-shared",
            description:
              "POST /mcp (the shared endpoint, served by the Worker, no object) tools/call mcp_echo as a 2026-07-28 stateless request: mcp-protocol-version, " +
              "mcp-method and mcp-name headers, the _meta envelope in params, no session id",
            client: ctx.client(service.url, sharedHeaders),
            path: "/mcp",
            body: (id) => modernToolCall(id, "mcp_echo", ECHO),
            accept: echoed,
          }),
        );
      }
      return {
        baseline: "proxy",
        aimTargets: ["rest", "mcp-shared"],
        teardown,
        targets,
      };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};

/** Per concurrency: what the local runtime costs (proxy vs direct), and what the service adds beyond the proxy. */
function externalNotes(results) {
  const lines = [];
  for (const concurrency of [...new Set(results.map((r) => r.concurrency))]) {
    const at = (target) => results.find((r) => r.concurrency === concurrency && r.target === target);
    const [proxy, direct] = [at("proxy"), at("direct")];
    if (!proxy) continue;
    const parts = [];
    if (direct) parts.push(`proxy ${(proxy.p50 / direct.p50).toFixed(2)}x of direct (${ms(proxy.p50)} vs ${ms(direct.p50)} ms p50: the local runtime's share)`);
    for (const name of ["rest", "mcp-shared"]) {
      const service = at(name);
      if (!service) continue;
      parts.push(
        `${name} adds ${ms(service.p50 - proxy.p50)} ms p50 and ${ms(service.ownWorkerdCpuMsPerCall - proxy.ownWorkerdCpuMsPerCall)} ms workerd CPU per call beyond the proxy`,
      );
    }
    lines.push(`  c=${concurrency}: ${parts.join("; ")}`);
  }
  const header = [
    "External suite: CPU ratio = workerd CPU per call of the service's server vs the proxy's (server-everything's own CPU is in neither; " +
      "it counts as \"other processes\" in the busy figures)",
  ];
  if (sharedRefused) header.push(`  mcp-shared not measured: the shared /mcp refused a 2026-07-28 stateless tools/call (${sharedRefused})`);
  return [...header, ...lines];
}
