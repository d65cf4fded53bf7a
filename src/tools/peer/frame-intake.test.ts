import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LogFields, LogLevel } from "../../observability/log";
import { FrameFaultLog, readFrame, type FrameFault } from "./frame-intake";

const LIMITS = { maxBytes: 1024, maxDepth: 8 };

describe("readFrame", () => {
  it("tells every frame apart before any recursive work: oversized (with the id near its start), too deep, malformed, JSON", () => {
    const big = `{"jsonrpc":"2.0","id":42,"result":"${"x".repeat(2_000)}"}`;
    expect(readFrame(big, LIMITS)).toEqual({ kind: "oversized", bytes: big.length, id: 42 });
    expect(readFrame(`${"[".repeat(9)}${"]".repeat(9)}`, LIMITS)).toEqual({ kind: "too_deep" });
    expect(readFrame(`${"[".repeat(8)}${"]".repeat(8)}`, LIMITS).kind).toBe("json");
    expect(readFrame('{"a":"[[[[[[[[[[[["}', LIMITS)).toEqual({ kind: "json", value: { a: "[[[[[[[[[[[[" } }); // brackets in strings do not count
    expect(readFrame("{not json", LIMITS)).toEqual({ kind: "malformed" });
    // Multi-byte text is measured in UTF-8 bytes, as it travels.
    expect(readFrame(JSON.stringify("灯".repeat(400)), LIMITS).kind).toBe("oversized");
  });
});

describe("FrameFaultLog", () => {
  function recorder() {
    const lines: { level: LogLevel; event: string; fields: LogFields | undefined }[] = [];
    let now = 1_000_000;
    const faults = new FrameFaultLog((level, event, fields) => lines.push({ level, event, fields }), () => now, 10_000);
    return { lines, faults, advance: (ms: number) => (now += ms) };
  }

  it("writes the first fault of a window at once, counts the rest, and reports them with the first fault after it", () => {
    const { lines, faults, advance } = recorder();
    faults.record("malformed");
    expect(lines).toEqual([
      { level: "warn", event: "peer.frames_rejected", fields: { fault: "malformed", suppressed_since_last: 0, total_oversized: 0, total_too_deep: 0, total_malformed: 1, total_not_a_message: 0 } },
    ]);
    for (let i = 0; i < 999; i += 1) faults.record(i % 2 === 0 ? "malformed" : "too_deep");
    expect(lines).toHaveLength(1); // a flood in one window: one line
    advance(10_000);
    faults.record("oversized");
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields).toEqual({ fault: "oversized", suppressed_since_last: 999, total_oversized: 1, total_too_deep: 499, total_malformed: 501, total_not_a_message: 0 });
    expect(faults.counts()).toEqual({ oversized: 1, too_deep: 499, malformed: 501, not_a_message: 0 });
  });

  it("never writes more than one line per window, whatever the faults and their timing (property)", () => {
    const fault = fc.constantFrom<FrameFault>("oversized", "too_deep", "malformed", "not_a_message");
    fc.assert(
      fc.property(fc.array(fc.tuple(fault, fc.integer({ min: 0, max: 4_000 })), { maxLength: 300 }), (steps) => {
        const { lines, faults, advance } = recorder();
        let elapsed = 0;
        for (const [kind, gap] of steps) {
          advance(gap);
          elapsed += gap;
          faults.record(kind);
        }
        expect(lines.length).toBeLessThanOrEqual(Math.floor(elapsed / 10_000) + 1);
        // Nothing is lost: the counts hold every fault, and the lines account for every one written or suppressed.
        const total = Object.values(faults.counts()).reduce((sum, count) => sum + count, 0);
        expect(total).toBe(steps.length);
        // Every fault is on a line (written, or counted in the next line's suppressed_since_last) or still pending
        // for the next line: the last line's totals are the counts at its time, and nothing is counted twice.
        const reported = lines.reduce((sum, line) => sum + 1 + Number(line.fields?.suppressed_since_last ?? 0), 0);
        const last = lines.at(-1)?.fields;
        const totalAtLast = last ? ["oversized", "too_deep", "malformed", "not_a_message"].reduce((sum, key) => sum + Number(last[`total_${key}`]), 0) : 0;
        expect(reported).toBe(totalAtLast);
        expect(totalAtLast).toBeLessThanOrEqual(steps.length);
      }),
      { numRuns: 300 },
    );
  });
});
