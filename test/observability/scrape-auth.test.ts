/**
 * Who may scrape `/metrics`: the service bearer tokens or the separate METRICS_TOKEN, nothing else, and
 * nobody when neither secret is set. Also the scrape's own failure modes and `mcp_upstream_up`.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app";
import { upstreamGauges } from "../../src/http/metrics-routes";
import { call, TOKEN } from "../support/api";
import { find, parsePrometheus } from "./scrape";

const METRICS_TOKEN = "scrape-only-token-7f3a";

/** The real app with a modified environment (secrets the test worker does not have), awaiting its waitUntil work. */
async function fetchWith(overrides: Record<string, unknown>, path: string, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`http://service.test${path}`, { headers }), { ...env, ...overrides } as Env, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { status: response.status, text, headers: response.headers };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("GET /metrics auth", () => {
  it("answers the service tokens in the Prometheus text format", async () => {
    for (const token of [TOKEN, "test-token-2"]) {
      const response = await call("/metrics", { token });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-store");
      const scrape = parsePrometheus(String(response.body));
      expect(scrape.types.get("mcp_tool_execution_duration_seconds")).toBe("histogram");
      expect(find(scrape, "mcp_active_sessions")).toBeDefined();
    }
  });

  it.each([
    ["no Authorization header", {}],
    ["an unknown bearer token", bearer("not-a-token")],
    ["a service token with a different case", bearer(TOKEN.toUpperCase())],
    ["Basic auth", { authorization: `Basic ${btoa(`user:${TOKEN}`)}` }],
    ["an empty bearer", { authorization: "Bearer " }],
  ])("refuses %s with 401 unauthorized", async (_label, headers) => {
    const response = await fetchWith({}, "/metrics", headers);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({ error: { code: "unauthorized", message: "Missing or invalid bearer token" } });
  });

  it("does not take the token from the query string", async () => {
    const response = await call(`/metrics?token=${TOKEN}`, { token: null });
    expect(response.status).toBe(401);
  });

  it("accepts METRICS_TOKEN (each of a comma-separated list) besides the service tokens", async () => {
    const secrets = { METRICS_TOKEN: `old-scrape-token, ${METRICS_TOKEN}` };
    expect((await fetchWith(secrets, "/metrics", bearer(METRICS_TOKEN))).status).toBe(200);
    expect((await fetchWith(secrets, "/metrics", bearer("old-scrape-token"))).status).toBe(200);
    expect((await fetchWith(secrets, "/metrics", bearer(TOKEN))).status).toBe(200);
    expect((await fetchWith(secrets, "/metrics", bearer("scrape-only"))).status).toBe(401);
  });

  it("does not let METRICS_TOKEN call the API", async () => {
    const response = await fetchWith({ METRICS_TOKEN }, "/api/v1/mcp/tools?session_id=x", bearer(METRICS_TOKEN));
    expect(response.status).toBe(401);
  });

  it("fails closed when neither secret is set", async () => {
    const none = { MCP_SERVICE_TOKEN: undefined, METRICS_TOKEN: undefined };
    expect((await fetchWith(none, "/metrics", bearer(TOKEN))).status).toBe(401);
    expect((await fetchWith({ MCP_SERVICE_TOKEN: " , ", METRICS_TOKEN: "" }, "/metrics", bearer(""))).status).toBe(401);
  });

  it("answers 500 config_invalid, not a partial scrape, without the METRICS binding", async () => {
    const response = await fetchWith({ METRICS: undefined }, "/metrics", bearer(TOKEN));
    expect(response.status).toBe(500);
    expect(JSON.parse(response.text).error.code).toBe("config_invalid");
  });
});

describe("mcp_upstream_up", () => {
  it("is 0 for a configured server that is not healthy, and leaves disabled servers out", async () => {
    const config = JSON.stringify({
      mcpServers: {
        ghost: { url: "http://127.0.0.1:9/mcp", transport: "streamable-http" },
        parked: { url: "http://127.0.0.1:9/mcp", transport: "streamable-http", disabled: true },
      },
    });
    const response = await fetchWith({ MCP_CONFIG: config }, "/metrics", bearer(TOKEN));
    expect(response.status).toBe(200);
    const scrape = parsePrometheus(response.text);
    expect(scrape.samples.filter((sample) => sample.name === "mcp_upstream_up")).toEqual([{ name: "mcp_upstream_up", labels: { server: "ghost" }, value: 0 }]);
  });

  it("maps states: healthy is 1; starting, unhealthy and misconfigured are 0; disabled is omitted", () => {
    const states = (["healthy", "starting", "unhealthy", "misconfigured", "disabled"] as const).map((state) => ({ name: state, state }));
    expect(upstreamGauges(states)).toEqual([
      { server: "healthy", up: true },
      { server: "starting", up: false },
      { server: "unhealthy", up: false },
      { server: "misconfigured", up: false },
    ]);
  });
});
