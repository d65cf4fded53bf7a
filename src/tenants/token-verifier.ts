/**
 * Checks a presented agent token in the Worker. The agent's object holds the token's record; an isolate keeps
 * what it was told for `cacheMs`, so a gateway's calls reach no object in steady state, and a revocation (or an
 * expiry) is honoured everywhere within that time. Forged tokens cost one lookup per id per window, bounded.
 */
import type { Principal } from "../core/principal";
import type { Result } from "../core/errors";
import { log } from "../observability/log";
import { parseAgentToken, sameHash, tokenHash, type TokenRecord } from "./agent-tokens";

export type LookupToken = (agentId: string, id: string) => Promise<Result<TokenRecord | null>>;

interface Known {
  record: TokenRecord | null;
  fetched_at: number;
}

/** Token ids one isolate remembers; beyond, it starts over. */
const MAX_KNOWN = 4_096;
/**
 * The oldest answer of the agent's object a token may still pass on while the object cannot be asked: the
 * revocation promise (effective everywhere within 10 s) holds even while lookups fail. The grace this leaves is
 * what the cache window does not use: none when `agents.token_cache_ms` is at its maximum, 10 s.
 */
export const MAX_TRUST_MS = 10_000;
const known = new Map<string, Known>();

/** The agent principal of a valid agent token; undefined for anything else (forged, expired, revoked). */
export async function verifyAgentToken(token: string, lookup: LookupToken, cacheMs: number, now = Date.now()): Promise<Principal | undefined> {
  const parsed = parseAgentToken(token);
  if (!parsed) return undefined;
  const key = `${parsed.agent_id}\u0000${parsed.id}`;
  let entry = known.get(key);
  if (!entry || now - entry.fetched_at >= cacheMs) {
    const reply = await lookup(parsed.agent_id, parsed.id).catch((error: unknown) => ({ ok: false as const, error: { code: "internal" as const, message: String(error) } }));
    if (!reply.ok) {
      // Refused while the agent's object cannot say (fail closed); a token it vouched for less than
      // MAX_TRUST_MS ago still passes, so a blip of the object does not lock a gateway out.
      log("warn", "agent.token_unverified", { agent_id: parsed.agent_id, token_id: parsed.id, message: reply.error.message });
      if (!entry || now - entry.fetched_at >= MAX_TRUST_MS) return undefined;
    } else {
      if (known.size >= MAX_KNOWN) known.clear();
      entry = { record: reply.value, fetched_at: now };
      known.set(key, entry);
    }
  }
  const record = entry.record;
  if (!record || Date.parse(record.expires_at) <= now) return undefined;
  return sameHash(await tokenHash(token), record.hash) ? { kind: "agent", agent_id: parsed.agent_id, token_id: parsed.id } : undefined;
}
