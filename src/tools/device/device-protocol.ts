/**
 * The device side of MCP as xiaozhi firmware speaks it (spec §1–§4): the envelope, the integer-id JSON-RPC
 * messages, tool naming and result mapping. Pure data in, data out.
 */
import { z } from "zod";
import { callHandler, reqLlm, toolError } from "../../core/actions";
import type { ContentItem, ToolDescriptor, ToolResult } from "../../core/schemas";

export const PROTOCOL_VERSION = "2024-11-05";
export const INITIALIZE_ID = 1;
const TAKE_PHOTO = "self.camera.take_photo";

const JsonObject = z.record(z.string(), z.json());

/** `{"session_id","type":"mcp","payload":{…}}`: the device ignores session_id on input. */
export const Envelope = z.object({
  session_id: z.string().optional(),
  type: z.literal("mcp"),
  payload: JsonObject,
});
export type Envelope = z.infer<typeof Envelope>;

export type JsonRpcRequest = { jsonrpc: "2.0"; id: number; method: string; params?: Record<string, unknown> };

/** Replies carry integer ids; errors have a message and usually no code. */
export const DeviceResponse = z.union([
  z.object({ id: z.int(), result: z.json() }),
  z.object({ id: z.int(), error: z.object({ message: z.string().default("Unknown device error"), code: z.number().optional() }) }),
]);
export type DeviceResponse = z.infer<typeof DeviceResponse>;

export const DeviceNotification = z.object({ method: z.string(), params: z.json().optional() }).refine((v) => !("id" in v));

export const DeviceTool = z.looseObject({
  name: z.string().min(1),
  description: z.string().default(""),
  inputSchema: JsonObject.default({ type: "object", properties: {} }),
  annotations: z.looseObject({ audience: z.array(z.string()).optional() }).optional(),
});
export type DeviceTool = z.infer<typeof DeviceTool>;

export const ToolsListResult = z.object({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

export const InitializeResult = z.looseObject({ serverInfo: z.json().optional() });

const CallToolResult = z.object({ content: z.array(z.looseObject({ type: z.string() })).default([]), isError: z.boolean().optional() });

export function envelope(sessionId: string, payload: JsonRpcRequest): string {
  return JSON.stringify({ session_id: sessionId, type: "mcp", payload });
}

export function initializeRequest(vision: { url: string; token: string }): JsonRpcRequest {
  return {
    jsonrpc: "2.0",
    id: INITIALIZE_ID,
    method: "initialize",
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: { vision: { url: vision.url, token: vision.token } },
      clientInfo: { name: "XiaozhiClient", version: "1.0.0" },
    },
  };
}

export function toolsListRequest(id: number, cursor: string | undefined): JsonRpcRequest {
  return cursor === undefined ? { jsonrpc: "2.0", id, method: "tools/list" } : { jsonrpc: "2.0", id, method: "tools/list", params: { cursor } };
}

export function toolsCallRequest(id: number, name: string, args: Record<string, unknown>): JsonRpcRequest {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

/** The LLM name of a device tool: dots become underscores, no prefix (spec §3). */
export function llmName(deviceName: string): string {
  return deviceName.replaceAll(".", "_");
}

/** Tools the LLM may see: user-only tools (`annotations.audience` has "user") are never offered. */
export function acceptTools(raw: readonly unknown[]): DeviceTool[] {
  const tools: DeviceTool[] = [];
  for (const item of raw) {
    const parsed = DeviceTool.safeParse(item);
    if (!parsed.success || parsed.data.annotations?.audience?.includes("user")) continue;
    tools.push(parsed.data);
  }
  return tools;
}

export function describeTools(tools: readonly DeviceTool[]): ToolDescriptor[] {
  const seen = new Set<string>();
  const out: ToolDescriptor[] = [];
  for (const tool of tools) {
    const name = llmName(tool.name);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, description: tool.description, input_schema: tool.inputSchema, source: "device" });
  }
  return out;
}

/** Maps a device reply to the action contract (spec §4). */
export function toToolResult(deviceName: string, reply: DeviceResponse): ToolResult {
  if ("error" in reply) return toolError(reply.error.message);
  const parsed = CallToolResult.safeParse(reply.result);
  if (!parsed.success) return toolError("Device returned a malformed tool result");
  const content = parsed.data.content.map(decodeContent);
  const text = describeContent(content);
  const raw = content.some((item) => item.type !== "text") ? content : undefined;
  if (parsed.data.isError) return toolError(text, raw);
  if (deviceName === TAKE_PHOTO) return callHandler("mcp_handler_take_photo", text, raw);
  return reqLlm(text, raw);
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

/** Text for the LLM: texts joined; other items described by type and size. */
export function describeContent(content: readonly ContentItem[]): string {
  return content
    .map((item) => {
      if (item.type === "text" && typeof item.text === "string") return item.text;
      if (item.type === "image" && typeof item.data === "string") {
        return `[image ${String(item.mimeType ?? "")}, ${Math.floor((item.data.length * 3) / 4)} bytes]`;
      }
      return `[${item.type} content]`;
    })
    .join("\n");
}
