/**
 * The built-in tools of spec §5, driven by `local_tools` in the config. Pure: time comes in through `now`.
 */
import { z } from "zod";
import { callHandler, reqLlm } from "../../core/actions";
import { fail, ok, type Result } from "../../core/errors";
import type { LocalToolsConfig } from "../../core/config";
import type { ToolDescriptor, ToolResult } from "../../core/schemas";
import { toInputSchema } from "../../tools/json-schema";
import type { ToolArgs, Source } from "../../tools/tool-source";

export interface LocalToolsOptions {
  config: LocalToolsConfig;
  timezone: string;
  now?: () => Date;
}

interface LocalTool {
  name: string;
  description: string;
  input: z.ZodType<Record<string, unknown>>;
  run(args: Record<string, unknown>): ToolResult;
}

const WEEKDAYS = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];

export class LocalTools implements Source {
  readonly kind = "local" as const;
  readonly #tools: LocalTool[];
  readonly #descriptors: ToolDescriptor[];

  constructor(options: LocalToolsOptions) {
    this.#tools = defineTools(options);
    this.#descriptors = this.#tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: toInputSchema(tool.input),
      source: "local",
    }));
  }

  async list(): Promise<ToolDescriptor[]> {
    return this.#descriptors;
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    const tool = this.#tools.find((candidate) => candidate.name === name);
    if (!tool) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      return fail("invalid_request", `Invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`, parsed.error.issues);
    }
    return ok(tool.run(parsed.data));
  }
}

function defineTools({ config, timezone, now = () => new Date() }: LocalToolsOptions): LocalTool[] {
  const tools: LocalTool[] = [];
  if (config.time.enabled) {
    tools.push({
      name: "local_get_time",
      description: "Get the current date, time and weekday. Use it whenever the user asks about the time or date.",
      input: z.object({}),
      run: () => reqLlm(describeTime(now(), timezone)),
    });
  }
  if (config.exit.enabled) {
    tools.push({
      name: "local_exit",
      description: "End the conversation when the user says goodbye or asks to stop talking.",
      input: z.object({ say_goodbye: z.string().describe("A short goodbye to speak to the user") }),
      run: (args) => callHandler("mcp_handler_exit", args.say_goodbye as string),
    });
  }
  if (config.play_music.enabled) {
    tools.push({
      name: "local_play_music",
      description: "Play a song. Use song_name \"random\" when the user does not name one.",
      input: z.object({ song_name: z.string().describe("Song name, or \"random\" for any song") }),
      run: (args) => callHandler("mcp_handler_play_music", args.song_name as string),
    });
  }
  const voices = config.change_voice.voices;
  if (config.change_voice.enabled) {
    const listing = voices.map((v) => (v.description ? `${v.name} (${v.description})` : v.name)).join("; ");
    // With no configured voices any name goes through: the voice server decides what it can speak.
    const voice = voices.length > 0 ? z.enum(voices.map((v) => v.name) as [string, ...string[]]) : z.string().min(1);
    tools.push({
      name: "local_change_voice",
      description: `Change the assistant's voice when the user asks for it.${listing ? ` Available voices: ${listing}.` : ""}`,
      input: z.object({ voice: voice.describe("Voice name") }),
      run: (args) => callHandler("mcp_handler_change_voice", args.voice as string),
    });
  }
  const roles = config.change_role.roles;
  if (config.change_role.enabled && roles.length > 0) {
    tools.push({
      name: "local_change_role",
      description: `Change the assistant's role (persona) when the user asks for it. Available roles: ${roles.map((r) => r.name).join(", ")}.`,
      input: z.object({ role: z.enum(roles.map((r) => r.name) as [string, ...string[]]).describe("Role name") }),
      run: (args) => {
        const role = roles.find((r) => r.name === args.role);
        return callHandler("mcp_handler_change_role", { role: role?.name ?? "", prompt: role?.prompt ?? "" });
      },
    });
  }
  if (config.switch_agent.enabled) {
    tools.push({
      name: "local_switch_agent",
      description: "Switch to another agent (assistant) by its id or name when the user asks for it.",
      input: z.object({
        agent_id: z.number().optional().describe("Id of the agent to switch to"),
        agent_name: z.string().optional().describe("Name of the agent to switch to"),
      }),
      run: (args) =>
        args.agent_id === undefined && args.agent_name === undefined
          ? reqLlm("没有提供要切换的智能体。请询问用户要切换到哪个智能体（ID 或名称）。")
          : callHandler("mcp_handler_switch_agent", args as ToolResult["result"]),
    });
  }
  return tools;
}

/** Building an Intl.DateTimeFormat costs far more than formatting with one: one per time zone, per isolate. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
      hourCycle: "h23",
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** The last text per time zone: it changes once a second, and formatting is most of this tool's cost. */
const lastTexts = new Map<string, { second: number; text: string }>();

/** "现在是 2026-11-25 16:06:40，星期三（Asia/Shanghai）。" in the configured zone. */
export function describeTime(at: Date, timezone: string): string {
  const second = Math.floor(at.getTime() / 1000);
  const last = lastTexts.get(timezone);
  if (last?.second === second) return last.text;
  const text = formatTime(at, timezone);
  lastTexts.set(timezone, { second, text });
  return text;
}

function formatTime(at: Date, timezone: string): string {
  const parts = Object.fromEntries(formatterFor(timezone).formatToParts(at).map((part) => [part.type, part.value]));
  const weekdayIndex = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday ?? "");
  const stamp = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  return `现在是 ${stamp}，${WEEKDAYS[weekdayIndex] ?? ""}（${timezone}）。`;
}
