/**
 * Tokens of xiaozhi-esp32-server's manager console (智控台), so a full-module deployment can point its system
 * parameter `server.mcp_endpoint` at this service unchanged. Read from the console's Java
 * (`AgentMcpAccessPointServiceImpl`, `AESUtils`) and confirmed against the reference endpoint server's Python:
 *
 * - plaintext `{"agentId": "<md5 hex of the console's agent id>"}` (`{"agentId":"single_module"}` for the
 *   single-module URL), encrypted with AES/ECB/PKCS5Padding;
 * - the key is the UTF-8 bytes of the configured key: used as it is when 16, 24 or 32 bytes long, otherwise
 *   zero-padded (or cut) to 32 bytes (AES-256); no hashing;
 * - standard Base64 with padding, then URL-encoded into `?token=`.
 *
 * The decrypted `agentId` is the agent here, as it is: the console's agents map to agents named by the md5.
 * WebCrypto has no ECB mode; `node:crypto` (nodejs_compat) has.
 */
import { createDecipheriv } from "node:crypto";
import { z } from "zod";
import { fail, ok, type Result } from "../../core/errors";
import { AgentId } from "../../core/schemas";

const ConsoleClaims = z.object({ agentId: AgentId });

/** The AES key the console derives from its configured key text. */
export function consoleKey(keyText: string): Uint8Array {
  const bytes = new TextEncoder().encode(keyText);
  if (bytes.length === 16 || bytes.length === 24 || bytes.length === 32) return bytes;
  const padded = new Uint8Array(32);
  padded.set(bytes.subarray(0, 32));
  return padded;
}

/** The agent a console token names, or why it names none. */
export function decryptConsoleToken(keyText: string, token: string): Result<{ agent_id: string }> {
  // The query value arrives percent-decoded; a client that did not encode `+` has turned it into a space.
  const base64 = token.replaceAll(" ", "+").replaceAll("-", "+").replaceAll("_", "/");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 === 1) return fail("unauthorized", "Malformed console token");
  const sealed = Buffer.from(base64, "base64");
  if (sealed.length === 0 || sealed.length % 16 !== 0) return fail("unauthorized", "Malformed console token");
  const key = consoleKey(keyText);
  let text: string;
  try {
    const decipher = createDecipheriv(`aes-${key.length * 8}-ecb`, key, null);
    text = Buffer.concat([decipher.update(sealed), decipher.final()]).toString("utf8");
  } catch {
    return fail("unauthorized", "Console token could not be decrypted with the configured key");
  }
  let claims: unknown;
  try {
    claims = JSON.parse(text);
  } catch {
    return fail("unauthorized", "Console token is not JSON");
  }
  const parsed = ConsoleClaims.safeParse(claims);
  if (!parsed.success) return fail("unauthorized", "Console token names no valid agentId");
  return ok({ agent_id: parsed.data.agentId });
}
