/** Shared pieces of the client tests: the real worker as a fetch, a recording fetch, a recording local executor. */
import { exports } from "cloudflare:workers";
import type { ToolList, ToolResult } from "../../src/core/schemas";
import { GatewayClient, type GatewayClientOptions, type LocalExecutor } from "../../src/client";
import { BASE, TOKEN } from "../support/api";

/** The worker under test, in-process: the same app and Durable Objects as `wrangler dev`. */
export const workerFetch = (request: Request): Promise<Response> => exports.default.fetch(request);

/** Passes every request through unchanged and remembers it, to count tries and see which path was taken. */
export function recording(inner: (request: Request) => Promise<Response>) {
  const requests: { method: string; path: string; session: string | undefined }[] = [];
  const fetch = async (request: Request) => {
    const url = new URL(request.url);
    // executeTool names its session in the body; read a clone so the request goes on untouched.
    const body = request.body ? ((await request.clone().json()) as { session_id?: string }) : {};
    const session = url.searchParams.get("session_id") ?? /\/sessions\/([^/]+)/.exec(url.pathname)?.[1] ?? body.session_id;
    requests.push({ method: request.method, path: url.pathname, session });
    return inner(request);
  };
  return { fetch, requests };
}

/** A stand-in for the voice server's in-process manager, recording what it was asked. */
export function localExecutor() {
  const calls: { operation: "getTools" | "executeTool"; session_id: string }[] = [];
  const executor: LocalExecutor = {
    async getTools(input): Promise<ToolList> {
      calls.push({ operation: "getTools", session_id: input.session_id });
      return { tools: [{ name: "local_get_time", description: "in-process", input_schema: { type: "object" }, source: "local" }] };
    },
    async executeTool(input): Promise<ToolResult> {
      calls.push({ operation: "executeTool", session_id: input.session_id });
      return { success: true, action: "response", result: "local path", response: "local path" };
    },
  };
  return { executor, calls };
}

export function workerClient(options: Partial<GatewayClientOptions> = {}): GatewayClient {
  // No real waiting between retries: the backoff itself is unit-tested in src/client. A generous timeout:
  // the first Durable Object of a test file takes seconds to load its modules, which would count as a retry.
  return new GatewayClient({ baseUrl: BASE, token: TOKEN, fetch: workerFetch, sleep: async () => undefined, timeoutMs: 30_000, ...options });
}
