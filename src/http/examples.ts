/**
 * The documented examples shared by several routes (REST and tRPC answer the same data). They are replayed
 * against the real worker by test/http/examples.test.ts (timestamps aside), so they are what the service
 * really answers; docs/integration.md quotes them.
 */
import type { z } from "zod";
import type { SessionView, ToolDescriptor, ToolResult } from "../core/schemas";

export const EXAMPLE_SESSION = "conv-7f3a9c";
export const EXAMPLE_DEVICE = "aa:bb:cc:dd:ee:ff";
export const EXAMPLE_BIND = { device_id: EXAMPLE_DEVICE, client_id: "3f1c2b9e-0d4a-4e55-9a8b-1c2d3e4f5a6b", enabled_tools: [] };
export const EXAMPLE_VIEW: z.output<typeof SessionView> = {
  session_id: EXAMPLE_SESSION,
  device_id: EXAMPLE_DEVICE,
  client_id: EXAMPLE_BIND.client_id,
  vision_url: "",
  has_token: false,
  enabled_tools: [],
  agent_id: "",
  created_at: "2026-11-25T08:00:00.000Z",
  updated_at: "2026-11-25T08:00:00.000Z",
  expires_at: "2026-11-25T08:30:00.000Z",
  tools: { device: 0, local: 6, external: 0, provider: 0 },
  relay: { attached: false, phase: "detached", server_info: null, tool_count: 0, pending_calls: 0 },
};
export const EXAMPLE_TOOL: z.output<typeof ToolDescriptor> = {
  name: "local_play_music",
  description: 'Play a song. Use song_name "random" when the user does not name one.',
  input_schema: {
    type: "object",
    properties: { song_name: { type: "string", description: 'Song name, or "random" for any song' } },
    required: ["song_name"],
  },
  source: "local",
};
export const EXAMPLE_EXECUTE = { session_id: EXAMPLE_SESSION, arguments: { song_name: "random" } };
export const EXAMPLE_RESULT: z.output<typeof ToolResult> = {
  success: true,
  action: "call_handler",
  result: { handler: "mcp_handler_play_music", args: "random" },
};
/** A device's reply to a tool call, as a gateway relays it. */
export const EXAMPLE_FRAME = {
  session_id: EXAMPLE_SESSION,
  type: "mcp",
  payload: { jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "true" }], isError: false } },
};
/** A minted provider token (lower-case hex: it cannot spell `key` or `call`). */
export const EXAMPLE_ENDPOINT_TOKEN = "7b22737562223a226167656e742d3432227d.9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7";
