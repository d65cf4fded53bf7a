/**
 * Provider endpoint tokens: which agent a dial-in tool provider (or a consumer of its tools) belongs to,
 * signed with HMAC-SHA256 under the `MCP_ENDPOINT_SECRET` binding, checked with WebCrypto (constant time).
 *
 * Minted tokens are lower-case hex — `<hex of the claims JSON>.<hex of the signature>` — because
 * xiaozhi-esp32-server refuses an endpoint URL that contains `key` or `call` anywhere, case-insensitively
 * (`validate_mcp_endpoint`), and the hex alphabet cannot spell either word (no `k`, `y` or `l`). Compact JWTs
 * (HS256) minted by earlier versions are still accepted, so providers already deployed keep working.
 */
import { z } from "zod";
import { fail, ok, type Result } from "../../core/errors";

export const AUDIENCE = "xiaozhi-mcp-endpoint";

export const EndpointClaims = z.object({
  /** The agent the provider's tools belong to. */
  sub: z.string().min(1).max(128),
  /** Optional provider name, used to prefix its tools (`<provider>__<tool>`). */
  prv: z.string().min(1).max(64).optional(),
  aud: z.literal(AUDIENCE),
  iat: z.int(),
  exp: z.int(),
});
export type EndpointClaims = z.infer<typeof EndpointClaims>;

const encoder = new TextEncoder();

function key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

const toHex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");

function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) return undefined;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** A token for `claims`: `<hex claims>.<hex HMAC-SHA256 of the hex claims>`. */
export async function mintToken(secret: string, claims: Omit<EndpointClaims, "aud">): Promise<string> {
  const payload = toHex(encoder.encode(JSON.stringify({ ...claims, aud: AUDIENCE })));
  const signature = await crypto.subtle.sign("HMAC", await key(secret), encoder.encode(payload));
  return `${payload}.${toHex(new Uint8Array(signature))}`;
}

/** Checks signature (constant time, by WebCrypto), audience and expiry of a minted token (hex, or a legacy JWT). */
export async function verifyToken(secret: string | undefined, token: string | undefined, nowSeconds: number): Promise<Result<EndpointClaims>> {
  if (!secret) return fail("unauthorized", "Provider endpoints are disabled: MCP_ENDPOINT_SECRET is not set");
  const parts = (token ?? "").split(".");
  const signed = parts.length === 2 ? hexParts(parts[0]!, parts[1]!) : parts.length === 3 ? jwtParts(parts[0]!, parts[1]!, parts[2]!) : undefined;
  if (!signed) return fail("unauthorized", "Malformed endpoint token");
  let valid = false;
  let claims: unknown;
  try {
    valid = await crypto.subtle.verify("HMAC", await key(secret), signed.signature, encoder.encode(signed.input));
    claims = JSON.parse(new TextDecoder().decode(signed.payload));
  } catch {
    return fail("unauthorized", "Malformed endpoint token");
  }
  if (!valid) return fail("unauthorized", "Invalid endpoint token signature");
  const parsed = EndpointClaims.safeParse(claims);
  if (!parsed.success) return fail("unauthorized", "Endpoint token claims are invalid");
  if (parsed.data.exp <= nowSeconds) return fail("unauthorized", "Endpoint token has expired");
  return ok(parsed.data);
}

interface SignedParts {
  /** The bytes the signature covers, as text. */
  input: string;
  payload: Uint8Array;
  signature: Uint8Array;
}

function hexParts(payload: string, signature: string): SignedParts | undefined {
  const claims = fromHex(payload);
  const mac = fromHex(signature);
  return claims && mac && claims.length > 0 ? { input: payload, payload: claims, signature: mac } : undefined;
}

/** A compact JWT of an earlier version: `<header>.<payload>.<signature>`, base64url. */
function jwtParts(header: string, payload: string, signature: string): SignedParts | undefined {
  try {
    return { input: `${header}.${payload}`, payload: fromBase64url(payload), signature: fromBase64url(signature) };
  } catch {
    return undefined;
  }
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
