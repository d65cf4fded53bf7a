// Secrets are not in wrangler.toml, so `wrangler types` cannot see them (set with `wrangler secret put`).
interface Env {
  /** Comma-separated bearer tokens accepted by GET /metrics only, besides MCP_SERVICE_TOKEN; unset = service tokens only. */
  METRICS_TOKEN?: string;
}
