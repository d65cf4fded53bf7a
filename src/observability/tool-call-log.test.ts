import { afterEach, describe, expect, it, vi } from "vitest";
import { fail, ok } from "../core/errors";
import type { ToolResult } from "../core/schemas";
import type { ToolCallEvent } from "./tool-call";
import { loggedResult } from "./tool-call-log";

afterEach(() => vi.restoreAllMocks());

const call: ToolCallEvent = { request_id: "r1", session_id: "s1", tool_name: "local_exit", source: "local", status: "success", duration_ms: 2 };
const result: ToolResult = { success: true, action: "none", result: null };

describe("loggedResult", () => {
  it("writes one tool.call line for the call and returns the result without it", () => {
    const info = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(loggedResult({ ...ok(result), call })).toEqual(ok(result));
    expect(info).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(info.mock.calls[0]?.[0]))).toMatchObject({ level: "info", event: "tool.call", ...call });
  });

  it("logs failed calls as warnings, and writes nothing when no tool was asked", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const timeout = fail("timeout", "No answer");
    expect(loggedResult({ ...timeout, call: { ...call, status: "timeout" } })).toEqual(timeout);
    expect(JSON.parse(String(warn.mock.calls[0]?.[0]))).toMatchObject({ level: "warn", status: "timeout" });
    const missing = fail("session_not_found", "Session is not bound");
    expect(loggedResult(missing)).toEqual(missing);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
