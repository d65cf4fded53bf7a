// External suite (issue 4): server-everything's `echo` through the service (REST execute -> session object ->
// upstream object -> Streamable HTTP upstream -> back) against the same `echo` called directly on the upstream
// with the MCP SDK client. Aim: p50 within 1.3x of direct.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { BENCH_TOKEN } from "../lib/context.mjs";
import { expectJson } from "../lib/http.mjs";
import { bindSessions, sessionIds } from "../lib/sessions.mjs";
// Node runs the TypeScript fixture directly (type stripping); it is the same server the tests use.
import { startEverythingServer } from "../../test/fixtures/upstream-servers.ts";

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "external",
  description: "server-everything echo through the service vs the same echo called directly with the SDK client",
  aim: 1.3,
  async setup(ctx) {
    const maxConnections = Math.max(...ctx.options.concurrency);
    const upstream = await startEverythingServer();
    const service = await ctx.configuredService("service-external", { mcpServers: { everything: { url: upstream.url } } });
    const api = ctx.client(service.url, { authorization: `Bearer ${BENCH_TOKEN}` });
    const sessions = sessionIds(ctx, "external", maxConnections);
    await bindSessions(api, sessions);
    // First listing discovers the upstream (initialize + tools/list), outside the measurement.
    for (const session of sessions) {
      expectJson(await api.get(`/api/v1/mcp/tools?session_id=${session}`), (body) => body.tools.some((t) => t.name === "mcp_echo"), "tools");
    }
    const clients = [];
    for (let conn = 0; conn < maxConnections; conn++) {
      const client = new Client({ name: "bench-direct", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(upstream.url)));
      clients.push(client);
    }
    return {
      baseline: "direct",
      aimTargets: ["service"],
      teardown: async () => {
        for (const client of clients) await client.close().catch(() => undefined);
        await upstream.stop();
      },
      targets: [
        {
          name: "direct",
          description: "SDK Client.callTool('echo') on server-everything over Streamable HTTP (one client per connection)",
          async callOnce(conn) {
            const result = await clients[conn].callTool({ name: "echo", arguments: { message: "bench" } }, undefined, { timeout: 15_000 });
            if (result.content?.[0]?.text !== "Echo: bench") throw new Error(`direct: ${JSON.stringify(result).slice(0, 200)}`);
          },
        },
        {
          name: "service",
          description: "POST /api/v1/mcp/tools/mcp_echo/execute {message} through the service to the same upstream",
          async callOnce(conn) {
            expectJson(
              await api.post("/api/v1/mcp/tools/mcp_echo/execute", { session_id: sessions[conn], arguments: { message: "bench" } }),
              (body) => body.success === true && body.result === "Echo: bench",
              "service",
            );
          },
        },
      ],
    };
  },
};
