/** `/readyz`: public readiness from the configuration and the external servers' states, within a deadline. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ExternalServerState } from "../../src/sources/external";
import { configFromEnv } from "../../src/core/env-config";
import { app } from "../../src/http/app";
import { assessReadiness, ReadinessReport } from "../../src/http/ops-routes";
import { call } from "../support/api";

const config = configFromEnv(env);

const server = (name: string, state: ExternalServerState["state"]): ExternalServerState => ({
  name,
  state,
  transport: "streamable-http",
  tool_count: state === "healthy" ? 3 : 0,
  last_error: state === "unhealthy" ? "connect ECONNREFUSED" : null,
  last_success: null,
});

describe("GET /readyz on the real worker", () => {
  it("answers without a token, in the documented shape", async () => {
    const response = await call("/readyz", { token: null });
    expect(response.status).toBe(200);
    expect(ReadinessReport.parse(response.body)).toEqual(response.body);
    expect(response.body).toMatchObject({ status: "ready", checks: { config: { ok: true }, external_servers: [] } });
  });

  it("is 503 not_ready when the deployed configuration is invalid", async () => {
    const broken = { ...env, MCP_CONFIG: JSON.stringify({ timezone: "Mars/Olympus_Mons" }) };
    const response = await app.fetch(new Request("http://service.test/readyz"), broken);
    expect(response.status).toBe(503);
    const body = ReadinessReport.parse(await response.json());
    expect(body.status).toBe("not_ready");
    expect(body.checks.config).toMatchObject({ ok: false, error: { code: "config_invalid" } });
    expect(body.checks.config.error?.message).toMatch(/timezone/);
  });
});

describe("assessReadiness", () => {
  it("is ready when every enabled server is healthy, starting or disabled", async () => {
    const states = [server("a", "healthy"), server("b", "starting"), server("c", "disabled")];
    const { status, body } = await assessReadiness(config, async () => states, 1000);
    expect(status).toBe(200);
    expect(body.status).toBe("ready");
    expect(body.checks.external_servers).toEqual(states);
  });

  it.each(["unhealthy", "misconfigured"] as const)("is degraded, still 200, with an %s server", async (state) => {
    const { status, body } = await assessReadiness(config, async () => [server("a", "healthy"), server("b", state)], 1000);
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(ReadinessReport.parse(body)).toEqual(body);
  });

  it("answers within its deadline when the states hang, as degraded with a timeout", async () => {
    const started = Date.now();
    const { status, body } = await assessReadiness(config, () => new Promise<ExternalServerState[]>(() => {}), 100);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.checks.external_servers_error).toMatchObject({ code: "timeout" });
  });

  it("reports a failure to read the states as degraded without leaking the detail", async () => {
    const { body } = await assessReadiness(config, async () => Promise.reject(new Error("https://secret.example/?token=abc")), 1000);
    expect(body.status).toBe("degraded");
    expect(body.checks.external_servers_error?.code).toBe("internal");
    expect(JSON.stringify(body)).not.toContain("token=abc");
  });

  it("does not ask for the states when the configuration is invalid", async () => {
    let asked = false;
    const invalid = { ok: false as const, error: { code: "config_invalid" as const, message: "bad" } };
    const { status } = await assessReadiness(invalid, async () => ((asked = true), []), 1000);
    expect(status).toBe(503);
    expect(asked).toBe(false);
  });
});
