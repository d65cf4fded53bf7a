import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { createCipheriv, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** Config for the test runs: short timeouts and a small TTL so timeouts and expiry are quick to prove. */
export const TEST_TOKEN = "test-token-1";

const testConfig = {
  sessions: { idle_ttl_seconds: 60 },
  limits: { max_body_bytes: 64 * 1024, max_frame_bytes: 64 * 1024, max_answer_bytes: 64 * 1024 },
  device: { call_timeout_ms: 1500, list_timeout_ms: 1500 },
  providers: { call_timeout_ms: 1500, list_timeout_ms: 1500, ping_after_ms: 1000, ping_timeout_ms: 300 },
  xiaozhi_endpoint: { page_size: 50, max_calls_in_flight: 4 },
};

/**
 * Manager-console tokens for the workers tests, made here in Node by node:crypto (OpenSSL) exactly as the
 * console's Java does — independently of the decoder under test, which runs in workerd.
 */
const CONSOLE_KEY = "6a369b7f1bcf4d3e8d123ece38bb9627";
function consoleToken(agentId: string, key = CONSOLE_KEY): string {
  const md5 = createHash("md5").update(agentId).digest("hex");
  const cipher = createCipheriv("aes-256-ecb", Buffer.from(key), null);
  return Buffer.concat([cipher.update(`{"agentId": "${md5}"}`), cipher.final()]).toString("base64");
}
const tokens = `${TEST_TOKEN}, test-token-2`;

/**
 * The MCP SDK ships source maps that point at sources it does not ship; Vite prints one warning per file
 * for every runtime that loads it. Dropping the dangling references keeps test output readable.
 */
const quietSdkSourcemaps: Plugin = {
  name: "quiet-sdk-sourcemaps",
  enforce: "pre",
  // A load hook, because Vite reads the source map (and warns) while loading, before any transform.
  load(id) {
    if (!id.includes("/@modelcontextprotocol/sdk/dist/") || !id.endsWith(".js")) return null;
    return readFileSync(id, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  },
};

/** The plugin's option types (it exports the function, not them). */
type PoolOption = Parameters<typeof cloudflareTest>[0];
type PoolContext = Parameters<Extract<PoolOption, (ctx: never) => unknown>>[0];
type PoolMiniflare = NonNullable<Exclude<PoolOption, (ctx: never) => unknown>["miniflare"]>;

/** The Worker under test as wrangler.toml defines it, with one project's miniflare options (its bindings…). */
function worker(miniflare: (ctx: PoolContext) => PoolMiniflare) {
  return [quietSdkSourcemaps, cloudflareTest((ctx) => ({ wrangler: { configPath: "./wrangler.toml" }, miniflare: miniflare(ctx) }))];
}

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
        plugins: worker(() => ({
          bindings: {
            MCP_SERVICE_TOKEN: tokens,
            MCP_ENDPOINT_SECRET: "test-endpoint-secret",
            MCP_CONFIG: JSON.stringify(testConfig),
            XIAOZHI_ENDPOINT_KEY: CONSOLE_KEY,
            // The console's token of its agent "console-agent" (md5 b2d0…), and one under another key.
            CONSOLE_TOKEN: consoleToken("console-agent"),
            CONSOLE_AGENT_MD5: createHash("md5").update("console-agent").digest("hex"),
            FOREIGN_CONSOLE_TOKEN: consoleToken("console-agent", "another-key-of-another-console!!"),
          },
        })),
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/sources/external/**", "test/e2e/**", "test/**/*.configured.test.ts", "test/client/package.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        // The same worker under an operator's MCP_CONFIG: local tools switched off, no roles, other voices.
        plugins: worker(() => ({
          bindings: {
            MCP_SERVICE_TOKEN: tokens,
            MCP_ENDPOINT_SECRET: "test-endpoint-secret",
            TZ_OVERRIDE: "Europe/Berlin",
            MCP_CONFIG: [
              "timezone: ${TZ_OVERRIDE}",
              "local_tools:",
              "  play_music: { enabled: false }",
              "  switch_agent: { enabled: false }",
              "  change_role: { roles: [] }",
              "  change_voice: { voices: [{ name: Nova }] }",
              // xiaozhi-esp32-server's naming (CJK kept), for the sources' naming under this switch.
              "naming: { keep_cjk: true }",
              // Few notification streams per object, so a test can cross the cap.
              "mcp: { max_streams: 3 }",
            ].join("\n"),
          },
          // Per-agent limits low enough for a test to cross (wrangler.toml's are generous).
          ratelimits: {
            AGENT_BINDS: { namespace_id: "1001", simple: { limit: 3, period: 60 } },
            AGENT_CALLS: { namespace_id: "1002", simple: { limit: 5, period: 60 } },
          },
        })),
        test: { name: "configured", include: ["test/**/*.configured.test.ts"], testTimeout: 20_000 },
      },
      {
        // External MCP servers: real upstreams (SDK servers over Streamable HTTP and SSE, server-everything)
        // started in Node by the global setup, configured into the worker through MCP_CONFIG.
        plugins: worker(({ inject }) => ({
          bindings: {
            MCP_SERVICE_TOKEN: tokens,
            // diagnostics: the per-isolate object request counts prove tool calls skip the upstream objects.
            MCP_CONFIG: JSON.stringify({
              ...testConfig,
              xiaozhi_endpoint: { expose_external: true },
              diagnostics: { object_requests: true },
              mcpServers: inject("upstreamServers"),
            }),
            MCP_ENDPOINT_SECRET: "test-endpoint-secret",
            UPSTREAM_CONTROL_URL: inject("upstreamControlUrl"),
            // Expanded into alpha's Authorization header by the config loader (`${ALPHA_TOKEN}`).
            ALPHA_TOKEN: "alpha-secret-token",
          },
        })),
        test: {
          name: "external",
          include: ["test/sources/external/**/*.test.ts"],
          exclude: ["test/sources/external/faults.test.ts"],
          globalSetup: ["test/sources/external/global-setup.ts"],
          // The upstream fixtures are shared by every file and some tests stop, restart or change them:
          // run the files one after another, in one runtime (one start-up instead of one per file).
          isolate: false,
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
      {
        // External servers killed (SIGKILL) and frozen (SIGSTOP) mid-call: upstream processes of their own,
        // started by this project's global setup.
        plugins: worker(({ inject }) => ({
          bindings: {
            MCP_SERVICE_TOKEN: tokens,
            MCP_CONFIG: JSON.stringify({ ...testConfig, mcpServers: inject("faultServers") }),
            FAULT_CONTROL_URL: inject("faultControlUrl"),
          },
        })),
        test: {
          name: "external-faults",
          include: ["test/sources/external/faults.test.ts"],
          globalSetup: ["test/sources/external/faults-setup.ts"],
          isolate: false,
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
      {
        // The client as a package: packed, installed into a fresh project, imported by Node, type-checked.
        test: { name: "package", include: ["test/client/package.test.ts"], environment: "node", testTimeout: 120_000, hookTimeout: 180_000 },
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
