/**
 * Bearer auth for every protected route. Tokens come from `MCP_SERVICE_TOKEN` (comma-separated, so a new
 * token can be added before the old one is removed). Both sides are hashed first, because
 * `crypto.subtle.timingSafeEqual` needs equal lengths; every configured token is compared, with no early exit.
 * @see https://developers.cloudflare.com/workers/examples/protect-against-timing-attacks/
 */
const encoder = new TextEncoder();

const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

export function parseTokens(secret: string | undefined): string[] {
  return (secret ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
}

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/**
 * Digests per isolate, keyed by the token: configured tokens change only with a deploy, and a gateway presents
 * the same token on every request, so each is hashed once (a digest per request was measurable,
 * docs/benchmarks.md). Bounded: a flood of wrong tokens only churns it. The comparison itself stays
 * constant-time, on digests.
 */
const digests = new Map<string, ArrayBuffer>();
const MAX_DIGESTS = 256;

async function remember(token: string): Promise<ArrayBuffer> {
  const digest = await sha256(token);
  if (digests.size >= MAX_DIGESTS) digests.clear();
  digests.set(token, digest);
  return digest;
}

/** Constant-time check of `presented` against every accepted token. No tokens configured: always false. */
export async function isAcceptedToken(presented: string | undefined, accepted: readonly string[]): Promise<boolean> {
  if (presented === undefined || accepted.length === 0) return false;
  const presentedHash = digests.get(presented) ?? (await remember(presented));
  let match = false;
  for (const token of accepted) {
    const equal = crypto.subtle.timingSafeEqual(presentedHash, digests.get(token) ?? (await remember(token)));
    match = match || equal;
  }
  return match;
}
