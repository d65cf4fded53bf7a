/**
 * What is particular to xiaozhi devices (spec §1–§4): the envelope, the initialize that carries the vision
 * capability, dotted tool names, and `take_photo` going to a handler.
 */
import { z } from "zod";
import { callHandler, respond } from "../../core/actions";
import type { ToolResult } from "../../core/schemas";
import { callOutcome, genericResult, type JsonRpcOutbound, type PeerResponse } from "../../tools/peer/jsonrpc";

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

/**
 * Maps a device reply to the action contract (spec §4). A text that is a JSON object
 * `{"action":"RESPONSE","response":"…"}` — what xiaozhi's vision explain endpoint answers through
 * `take_photo`, and what any device tool may answer — is spoken directly, as xiaozhi-esp32-server does.
 */
export function deviceToolResult(deviceName: string, reply: PeerResponse): ToolResult {
  const outcome = callOutcome(reply);
  if (!outcome.isError) {
    const spoken = spokenResponse(outcome.text);
    if (spoken !== undefined) return respond(spoken);
    if (deviceName === TAKE_PHOTO) return callHandler("mcp_handler_take_photo", outcome.text, outcome.raw);
  }
  return genericResult(outcome);
}

const SpokenResponse = z.object({ action: z.literal("RESPONSE"), response: z.string() });

/** The `response` of a `{"action":"RESPONSE","response":"…"}` text; undefined for any other text. */
function spokenResponse(text: string): string | undefined {
  if (!text.startsWith("{") || !text.includes('"RESPONSE"')) return undefined;
  try {
    return SpokenResponse.safeParse(JSON.parse(text)).data?.response;
  } catch {
    return undefined;
  }
}

