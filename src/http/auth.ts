/**
 * Bearer auth for every protected route. Tokens come from `MCP_SERVICE_TOKEN` (comma-separated, so a new
 * token can be added before the old one is removed). Both sides are hashed first, because a constant-time
 * comparison needs equal lengths; every configured token is compared, with no early exit.
 * Hashing is node:crypto's synchronous SHA-256 (nodejs_compat): the same digest as `crypto.subtle`, without a
 * promise round trip through the runtime on every request, which showed up in CPU profiles (docs/benchmarks.md).
 * @see https://developers.cloudflare.com/workers/examples/protect-against-timing-attacks/
 */
import { createHash, timingSafeEqual } from "node:crypto";

const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

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
 * Digests of the configured tokens, per isolate: they only change with a deploy. Pure data, keyed by the
 * token itself.
 */
const digests = new Map<string, Buffer>();

function configuredDigest(token: string): Buffer {
  let digest = digests.get(token);
  if (!digest) {
    if (digests.size > 64) digests.clear();
    digest = sha256(token);
    digests.set(token, digest);
  }
  return digest;
}

/** Constant-time check of `presented` against every accepted token. No tokens configured: always false. */
export function isAcceptedToken(presented: string | undefined, accepted: readonly string[]): boolean {
  if (presented === undefined || accepted.length === 0) return false;
  const presentedHash = sha256(presented);
  let match = false;
  for (const token of accepted) {
    const equal = timingSafeEqual(presentedHash, configuredDigest(token));
    match = match || equal;
  }
  return match;
}
