/** Helpers for driving the real Worker (and its Durable Objects) from tests, over HTTP. */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";

export const TOKEN = "test-token-1";
export const BASE = "http://service.test";

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

export async function call(path: string, options: CallOptions = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const response = await exports.default.fetch(
    new Request(`${BASE}${path}`, { method: options.method ?? (body === undefined ? "GET" : "POST"), headers, body }),
  );
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text: some assertions look at non-JSON bodies
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

let counter = 0;
/** A fresh session id per test, so tests never see each other's sessions. */
export function newSessionId(label = "s"): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}`;
}

export async function bind(sessionId: string, body: Record<string, unknown> = {}) {
  const result = await call(`/api/v1/mcp/sessions/${sessionId}/bind`, {
    body: { device_id: "aa:bb:cc:dd:ee:ff", client_id: "client-1", ...body },
  });
  if (result.status !== 200) throw new Error(`bind failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/**
 * Makes a session look idle for `idleMs`: rewrites its stored last activity, then evicts the object so the next
 * instance reads storage again, as after a real idle period (the object keeps a copy of its record in memory).
 */
export async function ageSession(stub: DurableObjectStub, idleMs: number): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    const record = state.storage.kv.get<{ last_active_ms: number }>("session");
    state.storage.kv.put("session", { ...record, last_active_ms: Date.now() - idleMs });
  });
  await evictDurableObject(stub);
}
