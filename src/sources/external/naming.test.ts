import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nameExternalTools, type NamingInput } from "./naming";
import { DEFAULT_NAMING, hash8, MAX_NAME_LENGTH, shorten } from "../../tools/naming";

const assignNames = (inputs: readonly NamingInput[]) => nameExternalTools(undefined, inputs, DEFAULT_NAMING);
const names = (inputs: readonly NamingInput[]) => assignNames(inputs).tools.map((t) => `${t.server}/${t.tool}=${t.name}`);

describe("assignNames", () => {
  it("names unique tools mcp_<tool>, as today's voice server does", () => {
    expect(names([{ server: "calc", prefix: "calc", tools: ["calculator", "get-sum"] }])).toEqual([
      "calc/calculator=mcp_calculator",
      "calc/get-sum=mcp_get-sum",
    ]);
  });

  it("replaces characters LLM APIs reject, and transliterates other scripts", () => {
    expect(names([{ server: "s", prefix: "s", tools: ["a.b c/d", "中文"] }])).toEqual(["s/a.b c/d=mcp_a_b_c_d", "s/中文=mcp_zhong_wen"]);
  });

  it("keeps a tool's name when another server later lists a colliding tool", () => {
    const first = nameExternalTools(undefined, [{ server: "alpha", prefix: "alpha", tools: ["search"] }], DEFAULT_NAMING);
    const later = nameExternalTools(
      first.assignment.names,
      [
        { server: "alpha", prefix: "alpha", tools: ["search"] },
        { server: "beta", prefix: "b", tools: ["search"] },
      ],
      DEFAULT_NAMING,
    );
    expect(later.tools.map((t) => t.name)).toEqual(["mcp_search", "mcp_b_search"]);
  });

  it("qualifies every claimant of a colliding name with its prefix, whatever the server order", () => {
    const a = { server: "alpha", prefix: "alpha", tools: ["search", "only_a"] };
    const b = { server: "beta", prefix: "b", tools: ["search"] };
    expect(names([a, b])).toEqual(["alpha/search=mcp_alpha_search", "alpha/only_a=mcp_only_a", "beta/search=mcp_b_search"]);
    expect(new Set(names([b, a]))).toEqual(new Set(names([a, b])));
    const { collisions } = assignNames([a, b]);
    expect(collisions).toEqual([{ name: "mcp_search", claimants: [{ server: "alpha", tool: "search" }, { server: "beta", tool: "search" }] }]);
  });

  it("treats names that only differ by sanitised characters as a collision", () => {
    expect(names([{ server: "x", prefix: "x", tools: ["a.b"] }, { server: "y", prefix: "y", tools: ["a_b"] }])).toEqual([
      "x/a.b=mcp_x_a_b",
      "y/a_b=mcp_y_a_b",
    ]);
  });

  it("suffixes a qualified name that still clashes, deterministically", () => {
    // alpha + "b_x" and alpha_b + "x" both qualify to mcp_alpha_b_x.
    const inputs = [
      { server: "one", prefix: "alpha", tools: ["b_x"] },
      { server: "two", prefix: "alpha_b", tools: ["x"] },
      { server: "three", prefix: "z", tools: ["b_x", "x"] },
    ];
    const first = assignNames(inputs).tools.map((t) => t.name);
    expect(new Set(first).size).toBe(first.length);
    expect(first[0]).toMatch(/^mcp_alpha_b_x_[0-9a-f]{8}$/);
    expect(first[1]).toMatch(/^mcp_alpha_b_x_[0-9a-f]{8}$/);
    expect(assignNames(inputs).tools.map((t) => t.name)).toEqual(first);
  });

  it("keeps every name within 64 characters with a stable shortening", () => {
    const long = "a_really_long_tool_name_that_goes_on_and_on_and_on_and_on_forever_and_ever";
    const [tool] = assignNames([{ server: "s", prefix: "s", tools: [long] }]).tools;
    expect(tool!.name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    // The cut ends on `_` here: one underscore before the hash, never two.
    expect(tool!.name).toBe(`mcp_${long}`.slice(0, 55).replace(/_+$/, "") + "_" + hash8(`mcp_${long}`));
    // Two long names sharing their first 55 characters stay distinct.
    const both = assignNames([{ server: "s", prefix: "s", tools: [`${long}_1`, `${long}_2`] }]).tools.map((t) => t.name);
    expect(both[0]).not.toBe(both[1]);
    expect(both.every((n) => n.length <= MAX_NAME_LENGTH)).toBe(true);
  });

  it("answers a tool listed twice by one server once", () => {
    expect(names([{ server: "s", prefix: "s", tools: ["t", "t"] }])).toEqual(["s/t=mcp_t"]);
  });

  it("shorten leaves short names alone", () => {
    expect(shorten("mcp_x")).toBe("mcp_x");
  });
});

describe("external names (properties)", () => {
  const tool = fc.oneof(fc.constantFrom("search", "get.time", "get_time", "查天气", "a__b", "_x", "x_", " ", "_", "x".repeat(70)), fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }));
  const server = fc.record({ server: fc.constantFrom("alpha", "beta", "gamma"), prefix: fc.constantFrom("a", "b", "b_", "alpha", "search"), tools: fc.uniqueArray(tool, { maxLength: 6 }) });
  const servers = fc.uniqueArray(server, { selector: (input) => input.server, maxLength: 3 });

  it("are unique, safe, start with mcp_, route to their own tool, and never take a provider's `__` of their own making", () => {
    fc.assert(
      fc.property(servers, (inputs) => {
        const { tools, assignment } = nameExternalTools(undefined, inputs, DEFAULT_NAMING);
        expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
        for (const named of tools) {
          // A tool named only of punctuation (" ") is `mcp_` itself: safe, and unique like any other name.
          expect(named.name).toMatch(/^mcp_[A-Za-z0-9_-]{0,60}$/);
          expect(named.name).not.toMatch(/__/);
          expect(assignment.byName.get(named.name)).toBe(`${named.server}\u0000${named.tool}`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("keep every name of a tool that stays, whatever servers' tools join and leave, and never give a name to another tool", () => {
    fc.assert(
      fc.property(fc.array(servers, { minLength: 1, maxLength: 6 }), (history) => {
        let stored: ReturnType<typeof nameExternalTools>["assignment"]["names"] | undefined;
        const ever = new Map<string, string>(); // name → the tool it was given to
        let before = new Map<string, string>(); // tool → name at the previous step
        for (const inputs of history) {
          const { tools, assignment } = nameExternalTools(stored, inputs, DEFAULT_NAMING);
          stored = assignment.names;
          const now = new Map(tools.map((t) => [`${t.server}\u0000${t.tool}`, t.name]));
          for (const [key, name] of now) {
            if (before.has(key)) expect(name).toBe(before.get(key));
            const owner = ever.get(name);
            if (owner !== undefined && ever.size <= 256) expect(owner).toBe(key);
            ever.set(name, key);
          }
          before = now;
        }
      }),
      { numRuns: 300 },
    );
  });
});
