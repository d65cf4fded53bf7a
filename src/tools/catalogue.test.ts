import { describe, expect, it } from "vitest";
import { reqLlm } from "../core/actions";
import { ok } from "../core/errors";
import type { ToolDescriptor, ToolSource } from "../core/schemas";
import { Catalogue } from "./catalogue";
import type { Source } from "./tool-source";

function provider(source: ToolSource, names: string[]): Source {
  const tools: ToolDescriptor[] = names.map((name) => ({ name, description: name, input_schema: { type: "object" }, source }));
  return { kind: source, list: async () => tools, call: async (name) => ok(reqLlm(`${source}:${name}`)) };
}

describe("Catalogue", () => {
  const providers = [provider("external", ["mcp_search"]), provider("local", ["local_exit", "dup"]), provider("device", ["self_x", "dup"])];

  it("orders device, local, external whatever the provider order", async () => {
    const catalogue = await Catalogue.build(providers);
    expect(catalogue.tools.map((t) => t.name)).toEqual(["self_x", "local_exit", "dup", "mcp_search"]);
    const again = await Catalogue.build([...providers].reverse());
    expect(JSON.stringify(again.tools)).toBe(JSON.stringify(catalogue.tools));
  });

  it("gives a name two sources offer to the configured source, so a device cannot shadow a local tool", async () => {
    const catalogue = await Catalogue.build(providers);
    expect(await catalogue.call("dup", {})).toEqual(ok(reqLlm("local:dup")));
    expect(catalogue.tools.filter((t) => t.name === "dup")).toEqual([{ name: "dup", description: "dup", input_schema: { type: "object" }, source: "local" }]);
  });

  it("filters by enabled_tools for listing and calling", async () => {
    const catalogue = await Catalogue.build(providers, ["local_exit"]);
    expect(catalogue.tools.map((t) => t.name)).toEqual(["local_exit"]);
    const refused = await catalogue.call("self_x", {});
    expect(refused.ok ? null : refused.error.code).toBe("tool_not_found");
  });
});
