import { describe, expect, it } from "vitest";
import { compileArgumentCheck } from "./argument-validation";

const schema = {
  type: "object",
  properties: {
    s: { type: "string" },
    n: { type: "integer", minimum: 0 },
    list: { type: "array", items: { type: "boolean" } },
    nested: { type: "object", properties: { x: { type: "null" } }, required: ["x"] },
  },
  required: ["s"],
  additionalProperties: false,
};

describe("compileArgumentCheck", () => {
  const check = compileArgumentCheck("t", schema);

  it("accepts arguments matching the schema", () => {
    expect(check({ s: "a", n: 1, list: [true, false], nested: { x: null } }).ok).toBe(true);
  });

  it("names what is wrong, as invalid_request", () => {
    const missing = check({});
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.error.code).toBe("invalid_request");
      expect(missing.error.message).toMatch(/Invalid arguments for t: .*s/);
    }
    const wrong = check({ s: "a", n: -1, list: ["no"] });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) {
      const issues = (wrong.error.details as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(issues).toEqual(expect.arrayContaining(["n", "list.0"]));
    }
    const extra = check({ s: "a", surprise: 1 });
    expect(extra.ok).toBe(false);
    if (!extra.ok) expect(extra.error.message).toMatch(/surprise/);
  });

  it("never annotates the schema it was given", () => {
    const before = JSON.stringify(schema);
    compileArgumentCheck("t", schema)({ s: "x" });
    expect(JSON.stringify(schema)).toBe(before);
  });

  it("accepts everything when the schema cannot be compiled (the upstream still validates)", () => {
    const broken = compileArgumentCheck("t", { $ref: "https://example.invalid/schema.json" });
    expect(broken({ anything: 1 }).ok).toBe(true);
  });
});
