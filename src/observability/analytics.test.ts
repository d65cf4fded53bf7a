import { describe, expect, it } from "vitest";
import type { ToolCallEvent } from "./tool-call";
import { VERSION } from "../version";
import { toolCallDataPoint, writeToolCallPoint } from "./analytics";

const event: ToolCallEvent = { request_id: "", session_id: "s-1", tool_name: "self_audio_speaker_set_volume", source: "device", status: "timeout", duration_ms: 1502 };

describe("Analytics Engine data point", () => {
  it("indexes by session and carries tool, source, status, session, version and duration", () => {
    expect(toolCallDataPoint(event)).toEqual({
      indexes: ["s-1"],
      blobs: ["self_audio_speaker_set_volume", "device", "timeout", "s-1", VERSION],
      doubles: [1502],
    });
  });

  it("keeps the index within 96 bytes without splitting a character", () => {
    const point = toolCallDataPoint({ ...event, session_id: "会".repeat(40), tool_name: "t".repeat(300) });
    const index = String(point.indexes?.[0]);
    expect(new TextEncoder().encode(index).length).toBeLessThanOrEqual(96);
    expect(index).toBe("会".repeat(32));
    expect(String(point.blobs?.[0])).toHaveLength(128);
  });

  it("writes one point to a present binding, and skips an absent one without error", () => {
    const written: AnalyticsEngineDataPoint[] = [];
    expect(writeToolCallPoint({ writeDataPoint: (point) => void written.push(point ?? {}) }, event)).toBe(true);
    expect(written).toEqual([toolCallDataPoint(event)]);
    expect(writeToolCallPoint(undefined, event)).toBe(false);
  });
});
