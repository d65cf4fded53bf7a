/**
 * Fault injection on dial-in providers, in workerd: providers that speak raw JSON-RPC over real WebSockets
 * and misbehave — oversized replies to calls in flight, floods of garbage, deep nesting, silence — and
 * sequences of connects and closes under one name. (Provider processes killed and frozen, and the runtime
 * restarted, are in test/e2e/peers-wrangler-dev.test.ts.)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../../support/api";
import { dialWorker, mintEndpoint, waitForTool } from "./support";

const FRAME_LIMIT = 64 * 1024; // limits.max_frame_bytes of the test config

const mint = async (agentId: string, provider?: string) => (await mintEndpoint(agentId, provider ? { provider } : {})).url;

type Message = { id?: number; method?: string; params?: { name?: string; arguments?: unknown } };

/**
 * A provider written against the wire: answers initialize and tools/list with `tools`, and each tools/call with
 * `answer(name, args)` (a string reply text, or a raw frame to send instead). `silent` stops all answers.
 */
class RawProvider {
  silent = false;
  readonly closed: Promise<number>;
  constructor(
    readonly ws: WebSocket,
    tools: string[],
    answer: (name: string, args: unknown, id: number) => string | { raw: string } = (name, args) => `${name} ${JSON.stringify(args)}`,
  ) {
    this.closed = new Promise((resolve) => ws.addEventListener("close", (event) => resolve(event.code)));
    ws.accept();
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as Message;
      if (this.silent || message.id === undefined) return;
      const send = (text: string) => ws.readyState === WebSocket.OPEN && ws.send(text);
      const reply = (result: unknown) => send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
      if (message.method === "initialize") reply({ protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } });
      else if (message.method === "tools/list") reply({ tools: tools.map((name) => ({ name, description: name, inputSchema: { type: "object" } })) });
      else if (message.method === "ping") reply({});
      else if (message.method === "tools/call") {
        const answered = answer(String(message.params?.name), message.params?.arguments, message.id);
        if (typeof answered === "string") reply({ content: [{ type: "text", text: answered }] });
        else send(answered.raw);
      }
    });
  }
}

async function execute(sessionId: string, tool: string, args: Record<string, unknown> = {}) {
  const started = Date.now();
  const response = await call(`/api/v1/mcp/tools/${encodeURIComponent(tool)}/execute`, { body: { session_id: sessionId, arguments: args } });
  return { ...response, elapsed: Date.now() - started };
}

describe("dial-in provider faults", () => {
  it("fails a call at once when the provider's reply is over the frame limit", async () => {
    const agent = newSessionId("agent");
    const huge = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "x".repeat(FRAME_LIMIT) }] } });
    new RawProvider(await dialWorker(await mint(agent, "big")), ["huge", "small"], (name, args, id) => (name === "huge" ? { raw: huge(id) } : `${name} ok`));
    const session = newSessionId();
    await bind(session, { agent_id: agent });
    await waitForTool(session, "big__huge");
    const result = await execute(session, "big__huge");
    expect(result.status, JSON.stringify(result.body)).toBe(502);
    expect(result.body.error.message).toMatch(/exceeds limits\.max_frame_bytes/);
    expect(result.elapsed).toBeLessThan(1500); // providers.call_timeout_ms of the test config
    expect((await execute(session, "big__small")).body.result).toBe("small ok");
  });

  it("survives floods of garbage and deep nesting, and keeps serving", async () => {
    const agent = newSessionId("agent");
    const provider = new RawProvider(await dialWorker(await mint(agent, "noisy")), ["echo"]);
    const session = newSessionId();
    await bind(session, { agent_id: agent });
    await waitForTool(session, "noisy__echo");
    const deep = (levels: number) => `{"jsonrpc":"2.0","id":99,"result":${"[".repeat(levels)}${"]".repeat(levels)}}`;
    for (let i = 0; i < 1000; i += 1) provider.ws.send(i % 3 === 0 ? "garbage" : i % 3 === 1 ? "[1,2,3]" : deep(i % 100 === 2 ? 10_000 : 100));
    const result = await execute(session, "noisy__echo", { after: "flood" });
    expect(result.body.result).toBe('echo {"after":"flood"}');
    expect(result.elapsed).toBeLessThan(2000);
    const providers = (await call(`/api/v1/mcp/agents/${agent}/providers`)).body.providers;
    expect(providers).toEqual([expect.objectContaining({ name: "noisy", attached: true, responsive: true })]);
  });

  it("hides the tools of a provider that stops answering ping, and shows them again when it speaks", async () => {
    const agent = newSessionId("agent");
    const provider = new RawProvider(await dialWorker(await mint(agent, "sleepy")), ["echo"]);
    const session = newSessionId();
    await bind(session, { agent_id: agent });
    await waitForTool(session, "sleepy__echo");
    provider.silent = true;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // providers.ping_after_ms of the test config
    await waitForTool(session, "sleepy__echo", false);
    expect((await execute(session, "sleepy__echo")).status).toBe(404);
    provider.silent = false;
    await waitForTool(session, "sleepy__echo");
    expect((await execute(session, "sleepy__echo", { n: 1 })).body.result).toBe('echo {"n":1}');
  });

  it("keeps a provider's name working after any sequence of connects and closes under it (property)", async () => {
    const agent = newSessionId("agent");
    const url = await mint(agent, "home");
    const session = newSessionId();
    await bind(session, { agent_id: agent });
    // Each step opens a new connection under the name, or closes one of those still open.
    const step = fc.oneof(fc.constant({ kind: "connect" as const }), fc.nat({ max: 4 }).map((index) => ({ kind: "close" as const, index })));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const opened: RawProvider[] = [];
        let current: RawProvider | undefined;
        for (const action of steps) {
          if (action.kind === "connect") {
            current = new RawProvider(await dialWorker(url), ["echo"]);
            opened.push(current);
          } else if (opened.length > 0) {
            // Closing a replaced connection must not touch the current one; closing the current one ends it.
            const closing = opened[action.index % opened.length]!;
            closing.ws.close(1000, "bye");
            if (closing === current) current = undefined;
          }
        }
        if (current) {
          await waitForTool(session, "home__echo");
          expect((await execute(session, "home__echo", { ok: 1 })).body.result).toBe('echo {"ok":1}');
          for (const replaced of opened.filter((provider) => provider !== current)) expect([1000, 4001]).toContain(await replaced.closed);
        }
        for (const provider of opened) provider.ws.close(1000, "cleanup");
        await waitForTool(session, "home__echo", false);
      }),
      { numRuns: 12 },
    );
  });
});
