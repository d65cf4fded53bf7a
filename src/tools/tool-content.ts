/**
 * The text an LLM gets for MCP content items, whatever source they came from: texts joined; images, audio
 * and binary resources described by type and size; structured content as JSON when no text carries it. Pure.
 */
import type { ContentItem } from "../core/schemas";

export function describeForLlm(content: readonly ContentItem[], structuredContent?: unknown): string {
  const parts = content.map(describeItem);
  const hasText = content.some((item) => item.type === "text");
  // Servers SHOULD mirror structuredContent as a text item; when one doesn't, the LLM still gets the data.
  if (structuredContent !== undefined && !hasText) parts.push(JSON.stringify(structuredContent));
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
