/** External tools through the service's own MCP endpoints, with the official SDK client. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, TOKEN } from "../../support/api";
import { session, tools } from "./support";

async function connect(path: string): Promise<Client> {
  const client = new Client({ name: "external-endpoint-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${BASE}${path}`), {
      fetch: (url, init) => exports.default.fetch(new Request(url, init)),
      requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
    }),
  );
  return client;
}

describe("external tools over the MCP endpoints", () => {
  it("lists and calls them through a session's endpoint, as getTools and executeTool do", async () => {
    const id = await session();
    const client = await connect(`/api/v1/mcp/sessions/${id}/mcp`);
    try {
      const listed = (await client.listTools()).tools;
      expect(listed.map((tool) => tool.name)).toEqual((await tools(id)).map((tool) => tool.name));
      const echo = await client.callTool({ name: "mcp_echo", arguments: { message: "over mcp" } });
      expect(echo.structuredContent).toEqual({ success: true, action: "req_llm", result: "Echo: over mcp" });
      expect(echo.content).toEqual([{ type: "text", text: "Echo: over mcp" }]);
    } finally {
      await client.close();
    }
  });

  it("serves them on the shared /mcp endpoint", async () => {
    const client = await connect("/mcp");
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("mcp_get-sum");
      const sum = await client.callTool({ name: "mcp_get-sum", arguments: { a: 1, b: 2 } });
      expect(sum.isError).toBe(false);
      expect(String((sum.structuredContent as { result: string }).result)).toContain("3");
    } finally {
      await client.close();
    }
  });
});
