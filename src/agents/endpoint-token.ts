/**
 * Provider endpoint tokens: compact JWTs (HS256) that say which agent a dial-in tool provider belongs to.
 * Signed and checked with WebCrypto and the `MCP_ENDPOINT_SECRET` binding, so any JWT library can read them
 * and nobody without the secret can mint one.
 */
import { z } from "zod";
import { fail, ok, type Result } from "../core/errors";

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

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function mintToken(secret: string, claims: Omit<EndpointClaims, "aud">): Promise<string> {
  const header = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = base64url(encoder.encode(JSON.stringify({ ...claims, aud: AUDIENCE })));
  const signature = await crypto.subtle.sign("HMAC", await key(secret), encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

/** Checks signature (constant time, by WebCrypto), audience and expiry. */
export async function verifyToken(secret: string | undefined, token: string | undefined, nowSeconds: number): Promise<Result<EndpointClaims>> {
  if (!secret) return fail("unauthorized", "Provider endpoints are disabled: MCP_ENDPOINT_SECRET is not set");
  const [header, payload, signature, extra] = (token ?? "").split(".");
  if (!header || !payload || !signature || extra !== undefined) return fail("unauthorized", "Malformed endpoint token");
  let valid = false;
  let claims: unknown;
  try {
    valid = await crypto.subtle.verify("HMAC", await key(secret), fromBase64url(signature), encoder.encode(`${header}.${payload}`));
    claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
  } catch {
    return fail("unauthorized", "Malformed endpoint token");
  }
  if (!valid) return fail("unauthorized", "Invalid endpoint token signature");
  const parsed = EndpointClaims.safeParse(claims);
  if (!parsed.success) return fail("unauthorized", "Endpoint token claims are invalid");
  if (parsed.data.exp <= nowSeconds) return fail("unauthorized", "Endpoint token has expired");
  return ok(parsed.data);
}
