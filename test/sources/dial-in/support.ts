/**
 * The dial-in tests' peers, in workerd: minted endpoint URLs, WebSockets opened through the real Worker (its
 * upgrade by fetch), tool providers (SDK servers and raw JSON-RPC ones) and xiaozhi consumers. Everything opened
 * here is closed by {@link closePeers}, which each test file runs after every test.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { exports } from "cloudflare:workers";
import type { MintEndpointRequest, ProviderEndpoint } from "../../../src/client";
import { expect } from "vitest";
import { consumerUrlOf, XiaozhiConsumer } from "../../fixtures/xiaozhi-consumer";
import { call } from "../../support/api";
import { waitFor } from "../../support/wait";
import { WebSocketServerSideTransport } from "../../support/websocket-transport";


const opened: (() => Promise<unknown> | unknown)[] = [];

/** Has {@link closePeers} also run `close` (a client a test opened itself). */
export function track(close: () => Promise<unknown> | unknown): void {
  opened.push(close);
}

/** Closes every peer opened since the last call (run it in `afterEach`). */
export async function closePeers(): Promise<void> {
  for (const close of opened.splice(0)) await Promise.resolve(close()).catch(() => undefined);
}

/** `POST /api/v1/mcp/agents/{agentId}/endpoint` with the service token. */
export async function mintEndpoint(agentId: string, body: MintEndpointRequest = {}): Promise<ProviderEndpoint> {
  const response = await call(`/api/v1/mcp/agents/${encodeURIComponent(agentId)}/endpoint`, { body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.endpoint as ProviderEndpoint;
}

/** A WebSocket to `url` through the Worker, not yet accepted; throws with the answer when there is no upgrade. */
export async function dialWorker(url: string): Promise<WebSocket> {
  const response = await exports.default.fetch(new Request(url.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } }));
  if (!response.webSocket) throw new Error(`no websocket: ${response.status} ${await response.text()}`);
  return response.webSocket;
}

/** {@link dialWorker}, accepted. */
export async function openSocket(url: string): Promise<WebSocket> {
  const ws = await dialWorker(url);
  ws.accept();
  return ws;
}

/** A provider that is a real SDK MCP server, dialled in like mcp_pipe does it. */
export async function sdkProvider(url: string, name: string, register: (server: McpServer) => void): Promise<{ server: McpServer; ws: WebSocket }> {
  const server = new McpServer({ name, version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  register(server);
  const ws = await dialWorker(url);
  await server.connect(new WebSocketServerSideTransport(ws));
  opened.push(() => server.close());
  return { server, ws };
}

export type ToolAnswer = (name: string, args: unknown) => unknown;

/**
 * A provider written against the wire, for tool sets the SDK would not build: answers `initialize`, `tools/list`
 * (every tool with an open object schema), `ping`, and each `tools/call` with `answer(name, args)`; an answer of
 * `undefined` is never sent (a tool that does not answer).
 */
export async function rawProvider(
  url: string,
  tools: { name: string; description?: string }[],
  answer: ToolAnswer = (name, args) => ({ content: [{ type: "text", text: `${name} ${JSON.stringify(args)}` }] }),
): Promise<WebSocket> {
  const ws = await openSocket(url);
  ws.addEventListener("message", async (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; method?: string; params?: { name: string; arguments: unknown } };
    if (message.id === undefined) return;
    const respond = (result: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
    if (message.method === "initialize") respond({ protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } });
    else if (message.method === "tools/list") respond({ tools: tools.map((tool) => ({ name: tool.name, description: tool.description ?? tool.name, inputSchema: { type: "object" } })) });
    else if (message.method === "ping") respond({});
    else if (message.method === "tools/call") {
      const result = await answer(message.params!.name, message.params!.arguments);
      if (result !== undefined) respond(result);
    }
  });
  opened.push(() => ws.close());
  return ws;
}

/** xiaozhi-esp32-server's consumer, dialling what it makes of the configured `mcp_endpoint`. */
export async function consumer(mcpEndpoint: string, callTimeoutMs = 5_000): Promise<XiaozhiConsumer> {
  const url = consumerUrlOf(mcpEndpoint);
  if (!url) throw new Error(`xiaozhi-esp32-server refuses ${mcpEndpoint}`);
  const client = new XiaozhiConsumer(await openSocket(url), callTimeoutMs);
  opened.push(() => client.close());
  return client;
}

/** Resolves when the agent has exactly `count` providers, all ready. */
export async function waitForProviders(agentId: string, count: number): Promise<void> {
  await waitFor(
    async () => {
      const listed = (await call(`/api/v1/mcp/agents/${encodeURIComponent(agentId)}/providers`)).body.providers as { phase: string }[];
      return listed.length === count && listed.every((provider) => provider.phase === "ready") ? true : undefined;
    },
    5000,
    `${count} providers ready`,
  );
}

/** The LLM names of a session's tools. */
export async function toolNames(sessionId: string): Promise<string[]> {
  return (await call(`/api/v1/mcp/tools?session_id=${sessionId}`)).body.tools.map((tool: { name: string }) => tool.name);
}

/** Resolves when `tool` is listed for the session (or, with `present` false, no longer is). */
export const waitForTool = (sessionId: string, tool: string, present = true) =>
  waitFor(async () => ((await toolNames(sessionId)).includes(tool) === present ? true : undefined), 5000, `${tool} ${present ? "listed" : "gone"}`);
