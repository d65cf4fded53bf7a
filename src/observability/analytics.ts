/**
 * One Workers Analytics Engine data point per tool execution (binding `TOOL_CALLS`). Unlike the Prometheus
 * series, Analytics Engine takes high-cardinality dimensions (session, raw tool name), so per-device and
 * per-tool questions are answered there with SQL. Schema (also in docs/operations.md):
 *
 * | column  | value                                                   |
 * |---------|---------------------------------------------------------|
 * | index1  | session_id (the sampling key)                           |
 * | blob1   | tool_name as called (cut to 128 characters)             |
 * | blob2   | source: device, local, external, provider or none       |
 * | blob3   | status: success, tool_error or the error code           |
 * | blob4   | session_id                                              |
 * | blob5   | service version                                         |
 * | double1 | duration in milliseconds                                |
 *
 * @see https://developers.cloudflare.com/analytics/analytics-engine/get-started/
 */
import type { ToolCallEvent } from "./tool-call";
import { VERSION } from "../version";

/** Analytics Engine limits an index to 96 bytes. */
const MAX_INDEX_BYTES = 96;
const MAX_BLOB_CHARS = 128;

export function toolCallDataPoint(event: ToolCallEvent): AnalyticsEngineDataPoint {
  return {
    indexes: [cutBytes(event.session_id, MAX_INDEX_BYTES)],
    blobs: [event.tool_name.slice(0, MAX_BLOB_CHARS), event.source, event.status, event.session_id.slice(0, MAX_BLOB_CHARS), VERSION],
    doubles: [event.duration_ms],
  };
}

/**
 * Writes the data point when the binding exists. `writeDataPoint` is fire-and-forget by design (nothing to
 * await); an absent binding (a deployment without the dataset, a test environment) is skipped silently.
 * @returns whether a point was handed to the binding
 */
export function writeToolCallPoint(dataset: AnalyticsEngineDataset | undefined, event: ToolCallEvent): boolean {
  if (dataset === undefined) return false;
  dataset.writeDataPoint(toolCallDataPoint(event));
  return true;
}

function cutBytes(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  // Decoding a cut multi-byte sequence yields U+FFFD; drop it rather than ship a broken character.
  return new TextDecoder().decode(bytes.slice(0, maxBytes)).replace(/\uFFFD+$/, "");
}
