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
import { reqLlm, toolError } from "../../core/actions";
import type { ContentItem, ToolResult } from "../../core/schemas";

/** What crosses the Durable Object RPC boundary: the upstream result, already validated by the MCP SDK. */
export const RawCallResult = z.object({
  content: z.array(z.looseObject({ type: z.string() })).default([]),
  structuredContent: z.record(z.string(), z.json()).optional(),
  isError: z.boolean().optional(),
});
export type RawCallResult = z.infer<typeof RawCallResult>;

export function toToolResult(raw: RawCallResult): ToolResult {
  const items = raw.content as ContentItem[];
  const text = describeForLlm(raw);
  if (raw.isError) return toolError(text || "The tool reported an error without a message", needsRaw(raw) ? items : undefined);
  return reqLlm(text, needsRaw(raw) ? items : undefined);
}

/** The raw items are worth keeping whenever the LLM text is not the whole story. */
function needsRaw(raw: RawCallResult): boolean {
  return raw.content.length !== 1 || raw.content[0]?.type !== "text" || raw.structuredContent !== undefined;
}

export function describeForLlm(raw: RawCallResult): string {
  const parts = raw.content.map(describeItem);
  const hasText = raw.content.some((item) => item.type === "text");
  // Servers SHOULD mirror structuredContent as a text item; when one doesn't, the LLM still gets the data.
  if (raw.structuredContent !== undefined && !hasText) parts.push(JSON.stringify(raw.structuredContent));
  return parts.join("\n");
}

function describeItem(item: Record<string, unknown> & { type: string }): string {
  const str = (key: string): string | undefined => (typeof item[key] === "string" ? (item[key] as string) : undefined);
  switch (item.type) {
    case "text":
      return str("text") ?? "";
    case "image":
    case "audio":
      return `[${item.type}: ${str("mimeType") ?? "unknown type"}, ${formatBytes(base64Bytes(str("data")))}]`;
    case "resource": {
      const resource = (typeof item.resource === "object" && item.resource !== null ? item.resource : {}) as Record<string, unknown>;
      const uri = typeof resource.uri === "string" ? resource.uri : "(no uri)";
      if (typeof resource.text === "string") return `[resource ${uri}]\n${resource.text}`;
      const mime = typeof resource.mimeType === "string" ? resource.mimeType : "unknown type";
      return `[resource ${uri}: ${mime}, ${formatBytes(base64Bytes(typeof resource.blob === "string" ? resource.blob : undefined))}]`;
    }
    case "resource_link":
      return `[resource link: ${str("name") ?? str("title") ?? ""} ${str("uri") ?? ""}]`.replace(/ +]/, "]");
    default:
      return `[${item.type} content]`;
  }
}

/** Decoded size of a base64 string, without decoding it. */
export function base64Bytes(data: string | undefined): number {
  if (!data) return 0;
  const clean = data.replace(/\s/g, "");
  const padding = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - padding);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
