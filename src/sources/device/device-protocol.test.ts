import { describe, expect, it } from "vitest";
import { deviceToolResult } from "./device-protocol";

describe("device protocol", () => {
  it("speaks a {action: RESPONSE} text directly, for any device tool, as xiaozhi-esp32-server does", () => {
    const text = (value: string) => ({ id: 3, result: { content: [{ type: "text", text: value }] } });
    const spoken = JSON.stringify({ success: true, action: "RESPONSE", response: "图中是一只猫" });
    expect(deviceToolResult("self.camera.take_photo", text(spoken))).toEqual({ success: true, action: "response", result: "图中是一只猫", response: "图中是一只猫" });
    expect(deviceToolResult("self.board.custom", text(spoken))).toMatchObject({ action: "response", response: "图中是一只猫" });
    // Anything else stays text for the LLM: other actions, a non-string response, JSON without an action.
    for (const other of ['{"action":"response","response":"x"}', '{"action":"RESPONSE","response":1}', '{"a":1}', "RESPONSE"]) {
      expect(deviceToolResult("self.x", text(other))).toEqual({ success: true, action: "req_llm", result: other });
    }
  });

  it("maps text to req_llm, take_photo to its handler and code-less errors to action error", () => {
    const text = { id: 3, result: { content: [{ type: "text", text: "true" }], isError: false } };
    expect(deviceToolResult("self.audio_speaker.set_volume", text)).toEqual({ success: true, action: "req_llm", result: "true" });
    expect(deviceToolResult("self.camera.take_photo", text)).toEqual({
      success: true,
      action: "call_handler",
      result: { handler: "mcp_handler_take_photo", args: "true" },
    });
    expect(deviceToolResult("self.x", { id: 3, error: { message: "Unknown tool: self.x" } })).toEqual({
      success: false,
      action: "error",
      result: "Unknown tool: self.x",
    });
  });

  it("decodes firmware images into MCP image content", () => {
    const reply = { id: 4, result: { content: [{ type: "image", image: JSON.stringify({ type: "image", mimeType: "image/png", data: "AAAAAAAA" }) }] } };
    expect(deviceToolResult("self.screen.snapshot", reply)).toEqual({
      success: true,
      action: "req_llm",
      result: "[image: image/png, 6 bytes]",
      content: [{ type: "image", mimeType: "image/png", data: "AAAAAAAA" }],
    });
  });
});
