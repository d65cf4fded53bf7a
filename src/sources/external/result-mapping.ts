/**
 * MCP `CallToolResult` → the ActionResponse contract (spec §4). Pure.
 *
 * - one text item → `req_llm` with that text;
 * - several items, non-text items or `structuredContent` → `req_llm` with text the LLM can use (texts joined,
 *   images/audio/blobs described by type and size, structured content as JSON when no text carries it),
 *   and the raw MCP items kept as `content`;
 * - `isError: true` → `action: "error"` with the joined text.
 */
import { z } from "zod";
import type { ServiceConfig } from "../../core/config";
import { reqLlm, toolError } from "../../core/actions";
import type { ContentItem, ToolResult } from "../../core/schemas";
import { exceedsValueDepth } from "../../core/json-depth";
import { describeForLlm } from "../../tools/tool-content";
import { failure, type Outcome, type UpstreamRoute, type UpstreamTarget, type UpstreamTool } from "./upstream-model";

/** What crosses the Durable Object RPC boundary: the upstream result, already validated by the MCP SDK. */
export const RawCallResult = z.object({
  content: z.array(z.looseObject({ type: z.string() })).default([]),
  structuredContent: z.record(z.string(), z.json()).optional(),
  isError: z.boolean().optional(),
});
export type RawCallResult = z.infer<typeof RawCallResult>;

/** What an upstream's answer may be at most: `limits.max_json_depth` deep, `limits.max_answer_bytes` long. */
export interface AnswerLimits {
  maxDepth: number;
  maxBytes: number;
}

/** `limits.max_json_depth`'s default, for callers that do not say. */
export const DEFAULT_MAX_RESULT_DEPTH = 64;
/** The config's defaults, for callers that do not say. */
export const DEFAULT_ANSWER_LIMITS: AnswerLimits = { maxDepth: DEFAULT_MAX_RESULT_DEPTH, maxBytes: 8 * 1024 * 1024 };

export function answerLimitsOf(config: ServiceConfig): AnswerLimits {
  return { maxDepth: config.limits.max_json_depth, maxBytes: config.limits.max_answer_bytes };
}

/**
 * One `tools/call` on the wire, as both paths make it: a direct POST (direct-post.ts) or, for tools whose
 * arguments must be mirrored into headers, the SDK client (upstream-client.ts).
 */
export type CallUpstream = (
  target: UpstreamTarget,
  route: UpstreamRoute,
  tool: UpstreamTool,
  args: Record<string, unknown>,
  timeoutMs: number,
  limits?: AnswerLimits,
) => Promise<Outcome<RawCallResult>>;

/**
 * An upstream's tools/call result as this service reads it, on every path (direct POST, SDK client, the upstream
 * object): nested no deeper than `maxDepth` — checked without recursion, before the schema walks it (a stack
 * overflow otherwise) — then of the expected shape.
 */
export function readCallResult(value: unknown, server: string, maxDepth = DEFAULT_MAX_RESULT_DEPTH): Outcome<RawCallResult> {
  if (exceedsValueDepth(value, maxDepth)) return failure("protocol", `${server} answered with a result nested deeper than limits.max_json_depth (${maxDepth})`);
  const parsed = RawCallResult.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : failure("protocol", `${server} returned a tool result this service cannot read`);
}

export function toToolResult(raw: RawCallResult): ToolResult {
  const items = raw.content as ContentItem[];
  const text = describeForLlm(items, raw.structuredContent);
  if (raw.isError) return toolError(text || "The tool reported an error without a message", needsRaw(raw) ? items : undefined);
  const result = reqLlm(text, needsRaw(raw) ? items : undefined);
  return raw.structuredContent === undefined ? result : { ...result, structured_content: raw.structuredContent };
}

/** The raw items are worth keeping whenever the LLM text is not the whole story. */
function needsRaw(raw: RawCallResult): boolean {
  return raw.content.length !== 1 || raw.content[0]?.type !== "text" || raw.structuredContent !== undefined;
}
