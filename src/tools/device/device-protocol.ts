/**
 * What is particular to xiaozhi devices (spec §1–§4): the envelope, the initialize that carries the vision
 * capability, dotted tool names, and `take_photo` going to a handler.
 */
import { z } from "zod";
import { callHandler } from "../../core/actions";
import type { ToolDescriptor, ToolResult } from "../../core/schemas";
import { callOutcome, genericResult, type JsonRpcOutbound, type PeerResponse, type PeerTool } from "../peer/jsonrpc";
import type { PeerDialect } from "../peer/peer-client";

export const PROTOCOL_VERSION = "2024-11-05";
const TAKE_PHOTO = "self.camera.take_photo";

/** `{"session_id","type":"mcp","payload":{…}}`: the device ignores session_id on input. */
export const Envelope = z.object({
  session_id: z.string().optional(),
  type: z.literal("mcp"),
  // Frames come out of JSON.parse, so the payload is JSON by construction; the JSON-RPC layer (jsonrpc.ts)
  // checks the parts it uses. A deep z.json() here would walk every reply twice (a listing page: 8 KB).
  payload: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof Envelope>;

export function envelope(sessionId: string, payload: JsonRpcOutbound): string {
  return JSON.stringify({ session_id: sessionId, type: "mcp", payload });
}

export function deviceInitializeParams(vision: { url: string; token: string }): Record<string, unknown> {
  return {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: { vision: { url: vision.url, token: vision.token } },
    clientInfo: { name: "XiaozhiClient", version: "1.0.0" },
  };
}

/** The LLM name of a device tool: dots become underscores, no prefix (spec §3). */
export function llmName(deviceName: string): string {
  return deviceName.replaceAll(".", "_");
}

export function describeDeviceTools(tools: readonly PeerTool[]): ToolDescriptor[] {
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
export function deviceToolResult(deviceName: string, reply: PeerResponse): ToolResult {
  const outcome = callOutcome(reply);
  if (!outcome.isError && deviceName === TAKE_PHOTO) return callHandler("mcp_handler_take_photo", outcome.text, outcome.raw);
  return genericResult(outcome);
}

export const deviceDialect: PeerDialect = {
  source: "device",
  // The firmware ignores notifications, and today's servers never send `notifications/initialized`.
  sendInitialized: false,
  describe: describeDeviceTools,
  toResult: deviceToolResult,
};
