import { describe, expect, it } from "vitest";
import { NotificationStreams } from "./notification-streams";

async function firstChunk(response: Response): Promise<{ text: string; reader: ReadableStreamDefaultReader<string> }> {
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  return { text: (await reader.read()).value ?? "", reader };
}

describe("NotificationStreams", () => {
  it("opens streams up to its limit, refuses the next, and frees a slot when a client goes away", async () => {
    const streams = new NotificationStreams(60_000, 2);
    const a = streams.open();
    const b = streams.open();
    expect(a && b).toBeTruthy();
    expect(streams.open()).toBeUndefined();
    const { text, reader } = await firstChunk(a!);
    expect(text).toBe(": keepalive\n\n"); // the stream shows itself open at once
    await reader.cancel(); // the client hangs up
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(streams.size).toBe(1);
    expect(streams.open()).toBeDefined();
    streams.closeAll();
    expect(streams.size).toBe(0);
  });

  it("sends each notification to every open stream, and keep-alives on its timer", async () => {
    const streams = new NotificationStreams(20, 10);
    const readers = [streams.open()!, streams.open()!].map((response) => (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader());
    for (const reader of readers) expect((await reader.read()).value).toBe(": keepalive\n\n");
    streams.broadcast({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
    for (const reader of readers) {
      expect((await reader.read()).value).toBe(`event: message\ndata: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n\n`);
      expect((await reader.read()).value).toBe(": keepalive\n\n"); // 20 ms later
    }
    streams.closeAll();
    for (const reader of readers) expect((await reader.read()).done).toBe(true);
  });
});
