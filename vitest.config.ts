import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Config for the test runs: short timeouts and a small TTL so timeouts and expiry are quick to prove. */
export const TEST_TOKEN = "test-token-1";

const testConfig = {
  sessions: { idle_ttl_seconds: 60 },
  limits: { max_body_bytes: 64 * 1024, max_frame_bytes: 64 * 1024 },
  device: { call_timeout_ms: 1500, list_timeout_ms: 1500 },
};
const tokens = `${TEST_TOKEN}, test-token-2`;

export default defineConfig({
  test: {
    // Structured logs are printed only for failing tests.
    silent: "passed-only",
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: { name: "unit", include: ["src/**/*.test.ts"], environment: "node" },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: { MCP_SERVICE_TOKEN: tokens, MCP_ENDPOINT_SECRET: "test-endpoint-secret", MCP_CONFIG: JSON.stringify(testConfig) },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/external/**", "test/e2e/**"],
          testTimeout: 20_000,
        },
      },
      {
        // External MCP servers: real upstreams (SDK servers over Streamable HTTP and SSE, server-everything)
        // started in Node by the global setup, configured into the worker through MCP_CONFIG.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                MCP_SERVICE_TOKEN: tokens,
                MCP_CONFIG: JSON.stringify({ ...testConfig, mcpServers: inject("upstreamServers") }),
                UPSTREAM_CONTROL_URL: inject("upstreamControlUrl"),
                // Expanded into alpha's Authorization header by the config loader (`${ALPHA_TOKEN}`).
                ALPHA_TOKEN: "alpha-secret-token",
              },
            },
          })),
        ],
        test: {
          name: "external",
          include: ["test/external/**/*.test.ts"],
          globalSetup: ["test/external/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // End to end against a real `wrangler dev` (the production runtime rules: no code generation).
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
