/**
 * xiaozhi-esp32-server's rules for an MCP endpoint URL (`core/utils/util.py`, `app.py`), so the service mints
 * URLs that pass them and serves what they turn into. Pure.
 */

/**
 * `validate_mcp_endpoint`: starts with `ws` (case-sensitive), contains neither `key` nor `call` anywhere
 * (case-insensitive: host and token included), contains `/mcp/` (case-sensitive).
 */
export function xiaozhiAcceptsEndpoint(url: string): boolean {
  const lower = url.toLowerCase();
  return url.startsWith("ws") && !lower.includes("key") && !lower.includes("call") && url.includes("/mcp/");
}

/** The consumer URL xiaozhi-esp32-server dials: every `/mcp/` replaced by `/call/` (Python `str.replace`). */
export function consumerUrl(providerUrl: string): string {
  return providerUrl.replaceAll("/mcp/", "/call/");
}

/** `sanitize_tool_name`: what xiaozhi-esp32-server would change in a tool name offered to it. */
export function xiaozhiSanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_\-\u4e00-\u9fff]/g, "_");
}
