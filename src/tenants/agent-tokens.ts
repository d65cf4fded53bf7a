/**
 * Agent tokens: bearer credentials confined to one agent. A token names its agent and its id in the clear,
 * so the Worker knows which agent object holds its record; the rest is 32 random bytes. Only a SHA-256 of the
 * whole token is stored (in the agent's object), and it is compared in constant time.
 *
 *     xzt1.<base64url(agent_id)>.<id: 16 hex>.<secret: 43 base64url>
 */
import { z } from "zod";
import type { KvStore } from "../core/host";
import { fail, ok, type Result } from "../core/errors";
import { AgentId } from "../core/schemas";
import { storedValue, type StoredValue } from "../core/stored-value";
import { TokenId, TokenRecord, type MintedToken, type TokenInfo } from "./tenant-schemas";

export { MintedToken, MintTokenBody, TokenId, TokenInfo, TokenRecord } from "./tenant-schemas";

const PREFIX = "xzt1";
/** Tokens one agent may hold at once: enough for rotation across many gateways, bounded storage. */
export const MAX_TOKENS_PER_AGENT = 100;

/** The parts of a presented token; undefined when it is not an agent token at all. */
export function parseAgentToken(token: string): { agent_id: string; id: string } | undefined {
  const parts = token.split(".");
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
  const [, encodedAgent = "", id = "", secret = ""] = parts;
  if (!TokenId.safeParse(id).success || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  let agentId: string;
  try {
    agentId = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64Url(encodedAgent));
  } catch {
    return undefined;
  }
  return AgentId.safeParse(agentId).success ? { agent_id: agentId, id } : undefined;
}

/** SHA-256 of a token, lower-case hex: what is stored and compared. */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Constant-time equality of two hex hashes of equal length. */
export function sameHash(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}

const TokenList = z.array(TokenRecord);

/** An agent's token records, in its object's storage. */
export class AgentTokens {
  readonly #records: StoredValue<TokenRecord[]>;

  constructor(kv: KvStore) {
    this.#records = storedValue(kv, "agent-tokens", TokenList);
  }

  async mint(agentId: string, ttlSeconds: number, now = Date.now()): Promise<Result<MintedToken>> {
    const live = this.#live(now);
    if (live.length >= MAX_TOKENS_PER_AGENT) return fail("rate_limited", `An agent holds at most ${MAX_TOKENS_PER_AGENT} tokens: revoke one first`);
    const id = hex(crypto.getRandomValues(new Uint8Array(8)));
    const token = `${PREFIX}.${toBase64Url(new TextEncoder().encode(agentId))}.${id}.${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
    const expires_at = new Date(now + ttlSeconds * 1000).toISOString();
    this.#records.save([...live, { id, hash: await tokenHash(token), created_at: new Date(now).toISOString(), expires_at }]);
    return ok({ id, token, agent_id: agentId, expires_at });
  }

  list(now = Date.now()): TokenInfo[] {
    return this.#live(now).map(({ id, created_at, expires_at }) => ({ id, created_at, expires_at }));
  }

  revoke(id: string): boolean {
    const records = this.#records.load() ?? [];
    const kept = records.filter((record) => record.id !== id);
    if (kept.length === records.length) return false;
    this.#records.save(kept);
    return true;
  }

  /** The record a presented token is checked against, while it has not expired. */
  record(id: string, now = Date.now()): TokenRecord | undefined {
    return this.#live(now).find((record) => record.id === id);
  }

  #live(now: number): TokenRecord[] {
    return (this.#records.load() ?? []).filter((record) => Date.parse(record.expires_at) > now);
  }
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
