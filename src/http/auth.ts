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
 * Digests of the configured tokens, per isolate: they only change with a deploy, and hashing them on every
 * request was measurable (docs/benchmarks.md). Pure data, keyed by the token itself.
 */
const digests = new Map<string, Promise<ArrayBuffer>>();

function configuredDigest(token: string): Promise<ArrayBuffer> {
  let digest = digests.get(token);
  if (!digest) {
    if (digests.size > 64) digests.clear();
    digest = sha256(token);
    digests.set(token, digest);
  }
  return digest;
}

/** Constant-time check of `presented` against every accepted token. No tokens configured: always false. */
export async function isAcceptedToken(presented: string | undefined, accepted: readonly string[]): Promise<boolean> {
  if (presented === undefined || accepted.length === 0) return false;
  const presentedHash = await sha256(presented);
  let match = false;
  for (const token of accepted) {
    const equal = crypto.subtle.timingSafeEqual(presentedHash, await configuredDigest(token));
    match = match || equal;
  }
  return match;
}
