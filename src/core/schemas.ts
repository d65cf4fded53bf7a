/**
 * Wire schemas of the public API, shared by REST, tRPC and the Durable Object. Types are inferred from
 * these schemas and never written twice.
 */
import { z } from "zod";

/** Ids that are path segments: `.` and `..` alone would be normalised away by every URL parser. */
const notOnlyDots = (field: string) => [(value: string) => !/^\.+$/.test(value), `${field} may not be only dots`] as const;

export const SessionId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:-]+$/, "session_id may hold letters, digits, '_', '-', '.', ':'")
  .refine(...notOnlyDots("session_id"));

export const ToolName = z.string().min(1).max(128);

export const AgentId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:-]+$/, "agent_id may hold letters, digits, '_', '-', '.', ':'")
  .refine(...notOnlyDots("agent_id"));

/** Tool arguments: any JSON object. Values keep their JSON types end to end. */
export const ToolArguments = z.record(z.string(), z.json());

export const ToolSource = z.enum(["device", "local", "external", "provider"]);
export type ToolSource = z.infer<typeof ToolSource>;

export const BindSessionBody = z.strictObject({
  device_id: z.string().min(1).max(128),
  client_id: z.string().max(128).default(""),
  /**
   * The camera's explain endpoint, sent to the device in `initialize`. Omitted on a rebind of the same device:
   * the bound one is kept (an empty URL would switch the camera's explain off on the firmware); "" clears it.
   */
  vision_url: z.union([z.url(), z.literal("")]).optional(),
  /** The explain endpoint's token; omitted: kept like `vision_url`. */
  token: z.string().max(4096).optional(),
  /** Allow-list of LLM tool names; empty means every tool. */
  enabled_tools: z.array(ToolName).max(512).default([]),
  /** The agent whose dial-in tool providers this session sees; empty means none. */
  agent_id: z.union([AgentId, z.literal("")]).default(""),
});
export const BindSessionInput = BindSessionBody.extend({ session_id: SessionId });
export type BindSessionInput = z.infer<typeof BindSessionInput>;

export const SessionRef = z.strictObject({ session_id: SessionId });
export type SessionRef = z.infer<typeof SessionRef>;

export const ExecuteToolBody = z.strictObject({
  session_id: SessionId,
  arguments: ToolArguments.default({}),
  /** When given, must match the bound device: a stale gateway never reaches another device's tools. */
  device_id: z.string().min(1).max(128).optional(),
});
export const ExecuteToolInput = ExecuteToolBody.extend({ tool_name: ToolName });
export type ExecuteToolInput = z.infer<typeof ExecuteToolInput>;

export const ToolDescriptor = z.object({
  name: z.string(),
  description: z.string(),
  input_schema: z.record(z.string(), z.json()),
  source: ToolSource,
});
export type ToolDescriptor = z.infer<typeof ToolDescriptor>;

export const ToolList = z.object({ tools: z.array(ToolDescriptor) });
export type ToolList = z.infer<typeof ToolList>;

export const Action = z.enum(["none", "response", "call_handler", "req_llm", "error"]);
export type Action = z.infer<typeof Action>;

/** Raw MCP content items, kept next to the LLM text whenever a result holds non-text content. */
export const ContentItem = z.looseObject({ type: z.string() });
export type ContentItem = z.infer<typeof ContentItem>;

/** The ActionResponse contract of the voice server (spec §4). */
export const ToolResult = z.object({
  success: z.boolean(),
  action: Action,
  result: z.json(),
  response: z.string().optional(),
  content: z.array(ContentItem).optional(),
  /** An MCP tool's `structuredContent`, kept as JSON. */
  structured_content: z.record(z.string(), z.json()).optional(),
});
export type ToolResult = z.infer<typeof ToolResult>;

export const RelayPhase = z.enum(["detached", "initializing", "listing", "ready"]);
export type RelayPhase = z.infer<typeof RelayPhase>;

export const RelayStatus = z.object({
  attached: z.boolean(),
  phase: RelayPhase,
  server_info: z.json().nullable(),
  tool_count: z.number().int(),
  pending_calls: z.number().int(),
});
export type RelayStatus = z.infer<typeof RelayStatus>;

/** What the API shows of a session: the bound context without its token. */
export const SessionView = z.object({
  session_id: z.string(),
  device_id: z.string(),
  client_id: z.string(),
  vision_url: z.string(),
  has_token: z.boolean(),
  enabled_tools: z.array(z.string()),
  agent_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string(),
  tools: z.object({ device: z.int(), local: z.int(), external: z.int(), provider: z.int() }),
  relay: RelayStatus,
});
export type SessionView = z.infer<typeof SessionView>;

/** What REST answers a bind and an unbind (the typed client reads the same). */
export const BindSessionResponse = z.object({ success: z.literal(true), session: SessionView });
export const UnbindSessionResponse = z.object({ success: z.literal(true), session_id: z.string(), deleted: z.literal(true) });

/**
 * Device frames relayed over HTTP: one xiaozhi envelope, or `{frames:[…]}`. Each frame is checked on its own
 * by the session (a bad one is counted and dropped), so only the outer shape is validated here.
 */
export const DeviceFramesBody = z.union([
  z.strictObject({ frames: z.array(z.unknown()).min(1).max(64) }),
  z.looseObject({ type: z.string(), payload: z.unknown() }),
]);
export const HandleMessageInput = z.looseObject({
  session_id: SessionId,
  frames: z.array(z.unknown()).min(1).max(64).optional(),
  type: z.string().optional(),
  payload: z.unknown().optional(),
}).refine((input) => input.frames !== undefined || input.type !== undefined, {
  message: "Send one frame ({session_id, type, payload}) or {session_id, frames:[…]}",
});

export const FramesInput = z.object({ session_id: SessionId, frames: z.array(z.unknown()) });
export type FramesInput = z.infer<typeof FramesInput>;

export const FramesOutcome = z.object({
  success: z.literal(true),
  result: z.object({ accepted: z.int(), dropped: z.int() }),
});
export type FramesOutcome = z.infer<typeof FramesOutcome>;
