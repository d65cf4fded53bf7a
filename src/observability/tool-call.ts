/** A tool execution as observability sees it, and what an execution returns with it. */
import type { ErrorCode, Result } from "../core/errors";
import type { ToolResult, ToolSource } from "../core/schemas";

/** One tool execution, as observability sees it: no arguments, no results, bounded labels. */
export interface ToolCallEvent {
  /** The HTTP request that caused the call ("" when it came another way, e.g. an MCP client). */
  request_id: string;
  session_id: string;
  tool_name: string;
  /** The source that owned the tool; "none" when no source did (unknown tool). */
  source: ToolSource | "none";
  /** "success", "tool_error" (ran and failed) or the AppError code (timeout, invalid_request, …). */
  status: "success" | "tool_error" | ErrorCode;
  duration_ms: number;
}

/**
 * What an execution returns: the result, and the call as observability sees it when a tool source was asked
 * (absent for an unknown session or a device mismatch). A superset of the plain result, so callers and
 * session objects of different versions stay compatible during a gradual rollout.
 */
export type ToolExecution = Result<ToolResult> & { call?: ToolCallEvent };
