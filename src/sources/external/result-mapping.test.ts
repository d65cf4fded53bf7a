import { describe, expect, it } from "vitest";
import { base64Bytes } from "../../tools/tool-content";
import { toToolResult } from "./result-mapping";

describe("toToolResult", () => {
  it("maps a single text item to req_llm with the text", () => {
    expect(toToolResult({ content: [{ type: "text", text: "42" }] })).toEqual({ success: true, action: "req_llm", result: "42" });
  });

  it("joins several text items and keeps the raw items", () => {
    const content = [
      { type: "text", text: "a" },
      { type: "text", text: "b" },
    ];
    expect(toToolResult({ content })).toEqual({ success: true, action: "req_llm", result: "a\nb", content });
  });

  it("describes images by type and size, keeping the raw items", () => {
    const content = [
      { type: "text", text: "here:" },
      { type: "image", mimeType: "image/png", data: "AAAA" },
    ];
    const result = toToolResult({ content });
    expect(result).toEqual({ success: true, action: "req_llm", result: "here:\n[image: image/png, 3 bytes]", content });
  });

  it("describes embedded resources and resource links", () => {
    const result = toToolResult({
      content: [
        { type: "resource", resource: { uri: "file:///a.txt", text: "hello" } },
        { type: "resource", resource: { uri: "file:///b.bin", mimeType: "application/octet-stream", blob: "AAAAAA==" } },
        { type: "resource_link", uri: "file:///c", name: "c" },
        { type: "audio", mimeType: "audio/wav", data: "" },
      ],
    });
    expect(result.result).toBe(
      "[resource file:///a.txt]\nhello\n[resource file:///b.bin: application/octet-stream, 4 bytes]\n[resource link: c file:///c]\n[audio: audio/wav, 0 bytes]",
    );
    expect(result.content).toHaveLength(4);
  });

  it("keeps structured content reachable: raw items kept, JSON given to the LLM when no text mirrors it", () => {
    const mirrored = toToolResult({ content: [{ type: "text", text: '{"t":1}' }], structuredContent: { t: 1 } });
    expect(mirrored).toEqual({
      success: true,
      action: "req_llm",
      result: '{"t":1}',
      content: [{ type: "text", text: '{"t":1}' }],
      structured_content: { t: 1 },
    });
    const bare = toToolResult({ content: [], structuredContent: { t: [1, true, null] } });
    expect(bare).toEqual({ success: true, action: "req_llm", result: '{"t":[1,true,null]}', content: [], structured_content: { t: [1, true, null] } });
  });

  it("maps isError to action error with the message", () => {
    expect(toToolResult({ content: [{ type: "text", text: "boom" }], isError: true })).toEqual({ success: false, action: "error", result: "boom" });
    expect(toToolResult({ content: [], isError: true }).result).toMatch(/error/);
  });
});

describe("base64Bytes", () => {
  it("computes the decoded size", () => {
    expect(base64Bytes("aGVsbG8=")).toBe(5);
    expect(base64Bytes("aGVsbG8h")).toBe(6);
    expect(base64Bytes("aGk=")).toBe(2);
    expect(base64Bytes(undefined)).toBe(0);
  });
});
