import { describe, expect, it } from "vitest";
import { PendingBatch } from "./metrics-batch";
import { MAX_BATCH_RECORDS, ToolCallRecord } from "./metrics-model";

const call = (tool_name: string, duration_ms: number, status = "success") => ({ tool_name, source: "local", status, duration_ms });

describe("PendingBatch", () => {
  it("merges tool calls with the same labels and bucket, keeping the total duration", () => {
    const batch = new PendingBatch();
    batch.add({ tool_calls: [call("a", 1), call("a", 3), call("a", 40), call("b", 2), call("a", 2, "timeout")] });
    batch.add({ tool_calls: [call("a", 4)] });
    expect(batch.toBatch().tool_calls).toEqual([
      { ...call("a", 8), count: 3 }, // 1, 3 and 4 ms: bucket 0.005
      { ...call("a", 40), count: 1 }, // bucket 0.05
      { ...call("b", 2), count: 1 },
      { ...call("a", 2, "timeout"), count: 1 },
    ]);
  });

  it("merges HTTP requests with the same labels and never merges session events", () => {
    const batch = new PendingBatch();
    const get = { route: "/api/v1/mcp/tools", method: "GET", status: 200 };
    const event = { session_id: "s", kind: "bound" as const, version: 1 };
    batch.add({ http: [get, get, { ...get, status: 401 }], sessions: [event, event] });
    expect(batch.toBatch()).toEqual({
      tool_calls: [],
      http: [
        { ...get, count: 2 },
        { ...get, status: 401, count: 1 },
      ],
      sessions: [event, event],
    });
  });

  it("says when items may not fit the receiver's limit", () => {
    const batch = new PendingBatch();
    const many = Array.from({ length: MAX_BATCH_RECORDS }, (_, i) => call(`t${i}`, 1));
    expect(batch.fits({ tool_calls: many })).toBe(true);
    batch.add({ tool_calls: many });
    expect(batch.fits({ tool_calls: [call("one_more", 1)] })).toBe(false);
    expect(batch.fits({ http: [{ route: "/", method: "GET", status: 200 }] })).toBe(true);
  });

  it("sends records the metrics object accepts, and the object's schema keeps old records counting once", () => {
    const batch = new PendingBatch();
    batch.add({ tool_calls: [call("a", 1), call("a", 2)] });
    for (const record of batch.toBatch().tool_calls ?? []) expect(ToolCallRecord.safeParse(record).success).toBe(true);
    expect(ToolCallRecord.parse(call("a", 5))).toEqual({ ...call("a", 5), count: 1 });
    expect(ToolCallRecord.safeParse({ ...call("a", 25 * 3600 * 1000), count: 1 }).success).toBe(false);
    expect(ToolCallRecord.safeParse({ ...call("a", 25 * 3600 * 1000), count: 2 }).success).toBe(true);
  });
});
