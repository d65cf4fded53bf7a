/**
 * The same operations over REST and over tRPC, with one outcome shape, so one table of cases proves that both
 * transports behave identically.
 */
import { call } from "./api";

export interface Outcome {
  status: number;
  /** Present on success: the operation's value (REST body or tRPC `result.data`). */
  data?: any;
  /** Present on failure: the stable error code (REST `error.code`, tRPC `error.data.app_code`). */
  code?: string;
  message?: string;
  raw: any;
}

export interface Transport {
  name: "rest" | "trpc";
  bind(sessionId: string, body: Record<string, unknown>, token?: string | null): Promise<Outcome>;
  getSession(sessionId: string): Promise<Outcome>;
  unbind(sessionId: string): Promise<Outcome>;
  getTools(sessionId: string, token?: string | null): Promise<Outcome>;
  execute(tool: string, body: Record<string, unknown>): Promise<Outcome>;
  /** Sends a raw body to the transport's execute endpoint. */
  executeRaw(tool: string, rawBody: string): Promise<Outcome>;
}

function fromRest(response: { status: number; body: any }): Outcome {
  if (response.status >= 400) {
    return { status: response.status, code: response.body?.error?.code, message: response.body?.error?.message, raw: response.body };
  }
  return { status: response.status, data: response.body, raw: response.body };
}

function fromTrpc(response: { status: number; body: any }): Outcome {
  if (response.body?.error) {
    return { status: response.status, code: response.body.error.data?.app_code, message: response.body.error.message, raw: response.body };
  }
  return { status: response.status, data: response.body?.result?.data, raw: response.body };
}

export const rest: Transport = {
  name: "rest",
  bind: async (id, body, token) => {
    const outcome = fromRest(await call(`/api/v1/mcp/sessions/${id}/bind`, { body, token }));
    return outcome.data ? { ...outcome, data: outcome.data.session } : outcome;
  },
  getSession: async (id) => fromRest(await call(`/api/v1/mcp/sessions/${id}`)),
  unbind: async (id) => fromRest(await call(`/api/v1/mcp/sessions/${id}`, { method: "DELETE" })),
  getTools: async (id, token) => fromRest(await call(`/api/v1/mcp/tools?session_id=${encodeURIComponent(id)}`, { token })),
  execute: async (tool, body) => fromRest(await call(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { body })),
  executeRaw: async (tool, rawBody) =>
    fromRest(await call(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { method: "POST", rawBody, headers: { "content-type": "application/json" } })),
};

const query = (procedure: string, input: unknown, token?: string | null) =>
  call(`/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`, { token });

export const trpc: Transport = {
  name: "trpc",
  bind: async (id, body, token) => fromTrpc(await call("/trpc/bindSession", { body: { ...body, session_id: id }, token })),
  getSession: async (id) => fromTrpc(await query("getSession", { session_id: id })),
  unbind: async (id) => fromTrpc(await call("/trpc/unbindSession", { body: { session_id: id } })),
  getTools: async (id, token) => fromTrpc(await query("getTools", { session_id: id }, token)),
  execute: async (tool, body) => fromTrpc(await call("/trpc/executeTool", { body: { ...body, tool_name: tool } })),
  executeRaw: async (_tool, rawBody) =>
    fromTrpc(await call("/trpc/executeTool", { method: "POST", rawBody, headers: { "content-type": "application/json" } })),
};

export const transports = [rest, trpc];
