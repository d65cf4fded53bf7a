/**
 * MCP as spoken by a peer that connects to us and acts as the server (an ESP32 device, a dial-in tool
 * provider): integer-id JSON-RPC requests we send, the replies and notifications we accept, and the mapping
 * of `tools/call` results to the action contract. Pure data in, data out.
 */
import { z } from "zod";
import { reqLlm, toolError } from "../../core/actions";
import type { ContentItem, ToolResult } from "../../core/schemas";
import { describeForLlm } from "../tool-content";

/** 1 is reserved for `initialize`; every other request takes the next id of a persisted counter. */
export const INITIALIZE_ID = 1;

const JsonObject = z.record(z.string(), z.json());

export type JsonRpcRequest = { jsonrpc: "2.0"; id: number; method: string; params?: Record<string, unknown> };
export type JsonRpcNotification = { jsonrpc: "2.0"; method: string; params?: Record<string, unknown> };
export type JsonRpcOutbound = JsonRpcRequest | JsonRpcNotification;

/**
 * A reply's `result` is JSON by construction (frames come out of JSON.parse); the mapping below checks the
 * parts it reads. Typed as JSON without a deep walk of every reply.
 */
const ParsedJson = z.custom<z.core.util.JSONType>((value) => value !== undefined);

/** Replies carry integer ids; xiaozhi devices send errors with a message and no code. */
export const PeerResponse = z.union([
  z.object({ id: z.int(), result: ParsedJson }),
  z.object({ id: z.int(), error: z.object({ message: z.string().default("Unknown error"), code: z.number().optional() }) }),
]);
export type PeerResponse = z.infer<typeof PeerResponse>;

export const PeerNotification = z.object({ method: z.string(), params: z.json().optional() }).refine((v) => !("id" in v));

export const PeerTool = z.looseObject({
  name: z.string().min(1),
  description: z.string().default(""),
  inputSchema: JsonObject.default({ type: "object", properties: {} }),
  annotations: z.looseObject({ audience: z.array(z.string()).optional() }).optional(),
});
export type PeerTool = z.infer<typeof PeerTool>;

export const ToolsListResult = z.object({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

export const InitializeResult = z.looseObject({ serverInfo: z.json().optional() });

const CallToolResult = z.object({ content: z.array(z.looseObject({ type: z.string() })).default([]), isError: z.boolean().optional() });

export function initializeRequest(params: Record<string, unknown>): JsonRpcRequest {
  return { jsonrpc: "2.0", id: INITIALIZE_ID, method: "initialize", params };
}

export function toolsListRequest(id: number, cursor: string | undefined): JsonRpcRequest {
  return cursor === undefined ? { jsonrpc: "2.0", id, method: "tools/list" } : { jsonrpc: "2.0", id, method: "tools/list", params: { cursor } };
}

export function toolsCallRequest(id: number, name: string, args: Record<string, unknown>): JsonRpcRequest {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

/** Tools an LLM may see: user-only tools (`annotations.audience` has "user") are never offered. */
export function acceptTools(raw: readonly unknown[]): PeerTool[] {
  const tools: PeerTool[] = [];
  for (const item of raw) {
    const parsed = PeerTool.safeParse(item);
    if (!parsed.success || parsed.data.annotations?.audience?.includes("user")) continue;
    tools.push(parsed.data);
  }
  return tools;
}

/** The content of a `tools/call` reply, decoded, with the text an LLM gets for it. */
export interface CallOutcome {
  isError: boolean;
  text: string;
  /** The raw items, present only when some are not text. */
  raw?: ContentItem[];
}

export function callOutcome(reply: PeerResponse): CallOutcome {
  if ("error" in reply) return { isError: true, text: reply.error.message };
  const parsed = CallToolResult.safeParse(reply.result);
  if (!parsed.success) return { isError: true, text: "Tool returned a malformed result" };
  const content = parsed.data.content.map(decodeContent);
  const raw = content.some((item) => item.type !== "text") ? content : undefined;
  return { isError: parsed.data.isError === true, text: describeForLlm(content), ...(raw ? { raw } : {}) };
}

/** Text → `req_llm`; failures → `error`; non-text items ride along as `content`. */
export function genericResult(outcome: CallOutcome): ToolResult {
  return outcome.isError ? toolError(outcome.text, outcome.raw) : reqLlm(outcome.text, outcome.raw);
}

/**
 * Firmware sends images as `{"type":"image","image":"<JSON string of {type,mimeType,data}>"}`; MCP wants
 * `{"type":"image","mimeType","data"}`.
 */
export function decodeContent(item: ContentItem): ContentItem {
  if (item.type !== "image" || typeof item.image !== "string") return item;
  try {
    const inner = z.object({ mimeType: z.string(), data: z.string() }).parse(JSON.parse(item.image));
    return { type: "image", mimeType: inner.mimeType, data: inner.data };
  } catch {
    return item;
  }
}
