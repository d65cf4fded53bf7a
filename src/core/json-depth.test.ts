import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exceedsJsonDepth, exceedsValueDepth } from "./json-depth";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("JSON depth", () => {
  it("counts objects and arrays, not brackets inside strings", () => {
    expect(exceedsJsonDepth(nested(64), 64)).toBe(false);
    expect(exceedsJsonDepth(nested(65), 64)).toBe(true);
    expect(exceedsJsonDepth(JSON.stringify({ a: "[[[[[[{{{{{\\\"[[[[" }), 2)).toBe(false);
    expect(exceedsJsonDepth('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
    expect(exceedsJsonDepth(nested(100_000), 64)).toBe(true);
  });

  it("agrees with the depth of the parsed value, for any JSON (property)", () => {
    fc.assert(
      fc.property(fc.json({ depthSize: "large" }), fc.integer({ min: 0, max: 12 }), (text, max) => {
        expect(exceedsJsonDepth(text, max)).toBe(exceedsValueDepth(JSON.parse(text), max));
      }),
      { numRuns: 500 },
    );
  });

  it("walks parsed values without recursion", () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i += 1) value = [value];
    expect(exceedsValueDepth(value, 64)).toBe(true);
    expect(exceedsValueDepth({ a: [1, { b: 2 }] }, 3)).toBe(false);
  });
});
