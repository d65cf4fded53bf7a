import { describe, expect, it } from "vitest";
import { ServiceConfig } from "../../core/config";
import { describeTime, LocalTools } from "./local-tools";

const config = ServiceConfig.parse({
  local_tools: {
    change_voice: { voices: [{ name: "Aria", description: "clear" }, { name: "Bo" }] },
    change_role: { roles: [{ name: "teacher", prompt: "You teach." }] },
  },
}).local_tools;
const at = new Date("2026-11-25T08:06:40Z"); // a Wednesday
const tools = new LocalTools({ config, timezone: "Asia/Shanghai", now: () => at });

async function run(name: string, args: Record<string, unknown>) {
  const result = await tools.call(name, args as never);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe("local tools (spec §5)", () => {
  it("lists all six with JSON Schemas and no $schema key", async () => {
    const list = await tools.list();
    expect(list.map((t) => t.name)).toEqual([
      "local_get_time",
      "local_exit",
      "local_play_music",
      "local_change_voice",
      "local_change_role",
      "local_switch_agent",
    ]);
    const exit = list.find((t) => t.name === "local_exit");
    expect(exit?.input_schema).toMatchObject({ type: "object", properties: { say_goodbye: { type: "string" } }, required: ["say_goodbye"] });
    expect(exit?.input_schema).not.toHaveProperty("$schema");
    const voice = list.find((t) => t.name === "local_change_voice");
    expect(voice?.description).toContain("Aria (clear)");
    expect(voice?.input_schema).toMatchObject({ properties: { voice: { enum: ["Aria", "Bo"] } } });
  });

  it("get_time speaks the zone's wall clock and weekday", async () => {
    expect(describeTime(at, "Asia/Shanghai")).toBe("现在是 2026-11-25 16:06:40，星期三（Asia/Shanghai）。");
    expect(await run("local_get_time", {})).toEqual({ success: true, action: "req_llm", result: describeTime(at, "Asia/Shanghai") });
  });

  it("get_time text follows the clock second by second and per zone (the last text is reused within a second)", () => {
    const base = Date.parse("2026-11-25T08:06:40.100Z");
    expect(describeTime(new Date(base), "Asia/Shanghai")).toBe("现在是 2026-11-25 16:06:40，星期三（Asia/Shanghai）。");
    expect(describeTime(new Date(base + 800), "Asia/Shanghai")).toBe("现在是 2026-11-25 16:06:40，星期三（Asia/Shanghai）。");
    expect(describeTime(new Date(base + 900), "Asia/Shanghai")).toBe("现在是 2026-11-25 16:06:41，星期三（Asia/Shanghai）。");
    expect(describeTime(new Date(base + 900), "UTC")).toBe("现在是 2026-11-25 08:06:41，星期三（UTC）。");
    expect(describeTime(new Date(base - 86_400_000), "Asia/Shanghai")).toBe("现在是 2026-11-24 16:06:40，星期二（Asia/Shanghai）。");
  });

  it("exit, play_music and change_voice call their handlers with a string", async () => {
    expect(await run("local_exit", { say_goodbye: "再见" })).toEqual({
      success: true,
      action: "call_handler",
      result: { handler: "mcp_handler_exit", args: "再见" },
    });
    expect((await run("local_play_music", { song_name: "random" })).result).toEqual({ handler: "mcp_handler_play_music", args: "random" });
    expect((await run("local_change_voice", { voice: "Bo" })).result).toEqual({ handler: "mcp_handler_change_voice", args: "Bo" });
  });

  it("change_role passes {role, prompt} as an object", async () => {
    expect((await run("local_change_role", { role: "teacher" })).result).toEqual({
      handler: "mcp_handler_change_role",
      args: { role: "teacher", prompt: "You teach." },
    });
  });

  it("switch_agent asks the LLM when neither id nor name is given, else forwards typed arguments", async () => {
    expect((await run("local_switch_agent", {})).action).toBe("req_llm");
    expect((await run("local_switch_agent", { agent_id: 7 })).result).toEqual({ handler: "mcp_handler_switch_agent", args: { agent_id: 7 } });
  });

  it("refuses arguments that fail the schema with invalid_request", async () => {
    for (const [name, args] of [
      ["local_change_role", { role: "pirate" }],
      ["local_change_voice", { voice: "Nobody" }],
      ["local_exit", {}],
      ["local_switch_agent", { agent_id: "seven" }],
    ] as const) {
      const result = await tools.call(name, args as never);
      expect(result.ok, name).toBe(false);
      if (!result.ok) expect(result.error.code).toBe("invalid_request");
    }
  });

  it("omits disabled tools, and change_role when no roles exist", async () => {
    const sparse = ServiceConfig.parse({ local_tools: { time: { enabled: false }, change_role: { roles: [] } } }).local_tools;
    const names = (await new LocalTools({ config: sparse, timezone: "UTC" }).list()).map((t) => t.name);
    expect(names).not.toContain("local_get_time");
    expect(names).not.toContain("local_change_role");
    expect(names).toContain("local_change_voice");
  });
});
