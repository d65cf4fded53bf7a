/**
 * The `tool.call` log line: one per tool execution (issue 6), never arguments or results.
 *
 * It is written by the invocation that serves the caller — the Worker for REST and tRPC calls, next to the
 * request's own `http.request` line; the session object for calls through its MCP endpoint — not always by the
 * session object that ran the tool: a request's lines then come from one invocation, and only one invocation
 * per REST call logs at all (under wrangler dev every logging invocation also feeds its local trace collector;
 * docs/benchmarks.md has the figures).
 */
import type { ToolCallEvent, ToolExecution } from "./tool-call";
import { ok, type Result } from "../core/errors";
import type { ToolResult } from "../core/schemas";
import { log } from "./log";

function logToolCall(call: ToolCallEvent): void {
  log(call.status === "success" ? "info" : "warn", "tool.call", { ...call });
}

/** Logs the execution's call, if a tool source was asked, and returns the plain result. */
export function loggedResult(execution: ToolExecution): Result<ToolResult> {
  if (execution.call) logToolCall(execution.call);
  return execution.ok ? ok(execution.value) : { ok: false, error: execution.error };
}
