// Secrets are not in wrangler.toml, so `wrangler types` cannot see them (set with `wrangler secret put`).
interface Env {
  /** Comma-separated bearer tokens accepted by /api and /trpc; unset = every protected request refused. */
  MCP_SERVICE_TOKEN?: string;
  /** HMAC secret that signs provider endpoint tokens; unset = provider endpoints refused. */
  MCP_ENDPOINT_SECRET?: string;
  /** The key of xiaozhi's manager console (`…/health?key=`); set = console tokens accepted on `/mcp_endpoint/`. */
  XIAOZHI_ENDPOINT_KEY?: string;
}
