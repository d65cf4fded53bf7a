/** Builders for the ActionResponse contract (spec §4), so every tool source speaks it the same way. */
import type { ContentItem, ToolResult } from "./schemas";

type Json = ToolResult["result"];

export const respond = (text: string): ToolResult => ({ success: true, action: "response", result: text, response: text });

export const reqLlm = (text: string, content?: ContentItem[]): ToolResult =>
  content ? { success: true, action: "req_llm", result: text, content } : { success: true, action: "req_llm", result: text };

export const callHandler = (handler: string, args: Json, content?: ContentItem[]): ToolResult => {
  const result: ToolResult = { success: true, action: "call_handler", result: { handler, args } };
  return content ? { ...result, content } : result;
};

/** A tool that ran and failed: a tool result (HTTP 200), not an API error. */
export const toolError = (message: string, content?: ContentItem[]): ToolResult =>
  content ? { success: false, action: "error", result: message, content } : { success: false, action: "error", result: message };
