/** Local tools under an operator's MCP_CONFIG (YAML, with a ${VAR}): disabled tools are absent and refused. */
import { describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../../support/api";
import { transports } from "../../support/transports";

describe.each(transports)("configured local tools over $name", (t) => {
  it("omits disabled tools and change_role without roles, and refuses to run them", async () => {
    const id = newSessionId(t.name);
    await bind(id);
    const names = (await t.getTools(id)).data.tools.map((tool: { name: string }) => tool.name);
    expect(names).toEqual(["local_get_time", "local_exit", "local_change_voice"]);
    for (const tool of ["local_play_music", "local_switch_agent", "local_change_role"]) {
      const refused = await t.execute(tool, { session_id: id, arguments: {} });
      expect({ tool, status: refused.status, code: refused.code }).toEqual({ tool, status: 404, code: "tool_not_found" });
    }
    expect((await t.execute("local_change_voice", { session_id: id, arguments: { voice: "Aria" } })).code).toBe("invalid_request");
    expect((await t.execute("local_change_voice", { session_id: id, arguments: { voice: "Nova" } })).data.result).toEqual({
      handler: "mcp_handler_change_voice",
      args: "Nova",
    });
  });

  it("reads the time zone from the expanded variable", async () => {
    const id = newSessionId(t.name);
    await bind(id);
    const time = await t.execute("local_get_time", { session_id: id, arguments: {} });
    expect(time.data.result).toContain("（Europe/Berlin）");
  });
});

describe("health under this config", () => {
  it("is ok", async () => {
    expect((await call("/healthz", { token: null })).body.status).toBe("ok");
  });
});
