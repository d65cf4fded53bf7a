import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Config for the test runs: short timeouts and a small TTL so timeouts and expiry are quick to prove. */
export const TEST_TOKEN = "test-token-1";

export default defineConfig({
  test: {
    // Structured logs are printed only for failing tests.
    silent: "passed-only",
    projects: [
      {
        test: { name: "unit", include: ["src/**/*.test.ts"], environment: "node" },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                MCP_SERVICE_TOKEN: `${TEST_TOKEN}, test-token-2`,
                MCP_CONFIG: JSON.stringify({
                  sessions: { idle_ttl_seconds: 60 },
                  limits: { max_body_bytes: 64 * 1024, max_frame_bytes: 64 * 1024 },
                  device: { call_timeout_ms: 1500, list_timeout_ms: 1500 },
                }),
              },
            },
          }),
        ],
        test: { name: "workers", include: ["test/**/*.test.ts"], testTimeout: 20_000 },
      },
    ],
  },
});
