/** Helpers of the external-server tests (run inside workerd). */
import { env } from "cloudflare:workers";
import { bind, call, newSessionId } from "../../support/api";
import { waitFor } from "../../support/wait";

/** The control endpoint of the Node fixtures (test/fixtures/upstream-fixtures.ts). */
export function control(path: string, method = "POST"): Promise<Response> {
  const base = (env as unknown as { UPSTREAM_CONTROL_URL: string }).UPSTREAM_CONTROL_URL;
  return fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(10_000) });
}

export async function stats(server: string): Promise<{ initialize: number; list: number; call: number; sessions: number }> {
  return (await control(`/${server}/stats`, "GET")).json();
}

/** A 2026-07-28 fixture's requests by `Mcp-Method`, and its open `subscriptions/listen` streams. */
export async function modernStats(server: string): Promise<Record<string, number> & { listeners: number }> {
  return (await control(`/${server}/stats`, "GET")).json();
}

/** Requests each Durable Object class received in this isolate (diagnostics.object_requests is on here). */
export async function objectRequests(): Promise<{ session: number; upstream: number; agent: number; metrics: number }> {
  const response = await call("/api/v1/diagnostics/object-requests");
  if (response.status !== 200) throw new Error(`object-requests: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export interface Tool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  source: string;
}

export async function session(body: Record<string, unknown> = {}): Promise<string> {
  const id = newSessionId("ext");
  await bind(id, body);
  return id;
}

export async function tools(sessionId: string): Promise<Tool[]> {
  const response = await call(`/api/v1/mcp/tools?session_id=${sessionId}`);
  if (response.status !== 200) throw new Error(`tools: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.tools;
}

export function execute(sessionId: string, tool: string, args: unknown = {}) {
  return call(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { body: { session_id: sessionId, arguments: args } });
}

/** Polls the worker or a fixture: the tests' one polling helper, at a pace for real upstreams. */
export function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  return waitFor(check, timeoutMs, what, 150);
}
