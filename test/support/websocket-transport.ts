/**
 * An MCP SDK transport over a WebSocket the provider opened: lets a real SDK `McpServer` dial in to the
 * service's provider endpoint, the way xiaozhi's `mcp_pipe` connects a server from behind a firewall.
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export class WebSocketServerSideTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(private readonly ws: WebSocket) {}

  async start(): Promise<void> {
    this.ws.addEventListener("message", (event) => this.onmessage?.(JSON.parse(String(event.data)) as JSONRPCMessage));
    this.ws.addEventListener("close", () => this.onclose?.());
    this.ws.addEventListener("error", () => this.onerror?.(new Error("websocket error")));
    this.ws.accept();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.ws.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.ws.close(1000, "provider closing");
  }
}
