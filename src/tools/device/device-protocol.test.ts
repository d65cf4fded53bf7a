import { describe, expect, it } from "vitest";
import { deviceToolResult, llmName } from "./device-protocol";

describe("device protocol", () => {
  it("names device tools with underscores and no prefix", () => {
    expect(llmName("self.audio_speaker.set_volume")).toBe("self_audio_speaker_set_volume");
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
