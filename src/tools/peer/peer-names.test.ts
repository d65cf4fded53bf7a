import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_NAMING, type StoredNames } from "../naming";
import { namePeerTools, outsideOtherNamespaces } from "./peer-names";

const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
/** The other sources' namespaces: local tools, external servers, dial-in providers. */
const FOREIGN = /^(local|mcp)_|__/;

const tool = (name: string) => ({ name, description: `The ${name} tool`, inputSchema: { type: "object" } });
const nameDevice = (raws: readonly string[], previous?: StoredNames) => namePeerTools(previous, [{ peer: "", tools: raws.map(tool) }], DEFAULT_NAMING);

describe("device tool names and the other sources' namespaces", () => {
  it("move a device's local_/mcp_/__ names out of the namespaces of local tools, external servers and providers", () => {
    const { tools } = nameDevice(["local_exit", "mcp_weather", "home__lights", "self.a__b", "self.volume"]);
    expect(tools.map((named) => [named.tool.name, named.name])).toEqual([
      ["local_exit", "device_local_exit"],
      ["mcp_weather", "device_mcp_weather"],
      ["home__lights", "home_lights"],
      ["self.a__b", "self_a_b"],
      ["self.volume", "self_volume"],
    ]);
  });

  it("leave providers' names alone: `<provider>__<tool>` is theirs", () => {
    const { tools } = namePeerTools(undefined, [{ peer: "1", prefix: "home", tools: [tool("lights"), tool("local_x")] }], DEFAULT_NAMING);
    expect(tools.map((named) => named.name)).toEqual(["home__lights", "home__local_x"]);
  });

  it("do not keep a stored name of another namespace (named before this rule): the tool is named anew", () => {
    const stored: StoredNames = { live: [["mcp_weather", "mcp_weather"], ["self.volume", "self_volume"]], retired: [["local_exit", "local_exit"]] };
    const { tools, assignment } = nameDevice(["mcp_weather", "self.volume", "local_exit"], stored);
    expect(tools.map((named) => named.name)).toEqual(["device_mcp_weather", "self_volume", "device_local_exit"]);
    expect(assignment.changed).toBe(true);
  });

  it("are always safe, unique, outside every other namespace, and route to their own tool (property)", () => {
    const raw = fc.oneof(
      fc.constantFrom("local_exit", "mcp_x", "a__b", "local__exit", "mcp__", "__", "_", "self.a.b", "self.a_b", "device_local_exit"),
      fc.tuple(fc.constantFrom("", "local_", "mcp_", "self.", "x__"), fc.string({ unit: "grapheme", maxLength: 70 })).map(([head, tail]) => `${head}${tail}`),
    );
    fc.assert(
      fc.property(fc.uniqueArray(raw.filter((name) => name.length > 0), { maxLength: 10 }), (raws) => {
        const { tools, byName } = nameDevice(raws);
        expect(tools).toHaveLength(raws.length);
        for (const named of tools) {
          expect(named.name).toMatch(SAFE);
          expect(named.name).not.toMatch(FOREIGN);
          expect(byName.get(named.name)?.tool.name).toBe(named.tool.name);
        }
        expect(new Set(tools.map((named) => named.name)).size).toBe(tools.length);
      }),
      { numRuns: 500 },
    );
  });

  it("outsideOtherNamespaces is idempotent", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), (name) => {
        const once = outsideOtherNamespaces(name);
        expect(outsideOtherNamespaces(once)).toBe(once);
      }),
    );
  });
});
