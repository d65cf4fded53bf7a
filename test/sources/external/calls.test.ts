/** Calling external tools: routing, exact arguments, result mapping, validation, both transports. */
import { describe, expect, it } from "vitest";
import { call } from "../../support/api";
import { execute, session, stats } from "./support";

const EVERY_JSON_TYPE = {
  text: "héllo \"wörld\" \n 你好 😀",
  count: 42,
  ratio: -0.125,
  flag: false,
  nothing: null,
  list: [1, "two", true, null, { three: [3.5] }, []],
  object: { nested: { deep: [{ a: null }], empty: {} }, big: 2 ** 53 - 1, tiny: 1e-7 },
};

describe("calling external tools", () => {
  it.each([
    ["Streamable HTTP", "mcp_alpha_inspect"],
    ["legacy SSE", "mcp_b_inspect"],
  ])("round-trips arguments of every JSON type over %s", async (_transport, tool) => {
    const id = await session();
    const response = await execute(id, tool, EVERY_JSON_TYPE);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ success: true, action: "req_llm" });
    expect(JSON.parse(response.body.result)).toEqual(EVERY_JSON_TYPE);
    expect(response.body.content).toBeUndefined(); // a single text item: the text is the whole result
  });

  it("routes same-named tools to their own servers with the original tool name", async () => {
    const id = await session();
    const alpha = await execute(id, "mcp_alpha_search", { query: "cats" });
    const beta = await execute(id, "mcp_b_search", { query: "cats" });
    expect(alpha.body).toEqual({ success: true, action: "req_llm", result: "alpha results for cats" });
    expect(beta.body).toEqual({ success: true, action: "req_llm", result: "beta results for cats" });
  });

  it("calls server-everything's echo and get-sum", async () => {
    const id = await session();
    const echo = await execute(id, "mcp_echo", { message: "ping 1" });
    expect(echo.body).toEqual({ success: true, action: "req_llm", result: "Echo: ping 1" });
    const sum = await execute(id, "mcp_get-sum", { a: 2.5, b: 40 });
    expect(sum.status).toBe(200);
    expect(sum.body.action).toBe("req_llm");
    expect(sum.body.result).toContain("42.5");
  });

  it("calls a tool that declares an outputSchema and keeps its structured content reachable", async () => {
    const id = await session();
    const everything = await execute(id, "mcp_get-structured-content", { location: "Chicago" });
    expect(everything.status).toBe(200);
    expect(everything.body.action).toBe("req_llm");
    expect(JSON.parse(everything.body.result)).toEqual({ temperature: 36, conditions: "Light rain / drizzle", humidity: 82 });
    // The structured result also arrives as JSON, not only as text.
    expect(everything.body.structured_content).toEqual({ temperature: 36, conditions: "Light rain / drizzle", humidity: 82 });
    const weather = await execute(id, "mcp_weather", { city: "Oslo" });
    expect(weather.body).toMatchObject({ success: true, action: "req_llm" });
    expect(JSON.parse(weather.body.result)).toEqual({ city: "Oslo", celsius: 21.5, tags: ["sunny", "calm"] });
    expect(weather.body.content).toEqual([{ type: "text", text: JSON.stringify({ city: "Oslo", celsius: 21.5, tags: ["sunny", "calm"] }) }]);
    expect(weather.body.structured_content).toEqual({ city: "Oslo", celsius: 21.5, tags: ["sunny", "calm"] });
  });

  it("describes non-text items for the LLM and keeps the raw MCP items as content (REST and tRPC)", async () => {
    const id = await session();
    const rest = await execute(id, "mcp_gallery");
    expect(rest.status).toBe(200);
    expect(rest.body.action).toBe("req_llm");
    expect(rest.body.result).toBe("A picture:\n[image: image/png, 70 bytes]\n[resource memo://note]\na note");
    expect(rest.body.content.map((item: { type: string }) => item.type)).toEqual(["text", "image", "resource"]);
    expect(rest.body.content[1]).toMatchObject({ type: "image", mimeType: "image/png" });
    expect(rest.body.content[1].data).toMatch(/^iVBOR/);

    const trpc = await call("/trpc/executeTool", { body: { session_id: id, tool_name: "mcp_gallery", arguments: {} } });
    expect(trpc.status).toBe(200);
    expect(trpc.body.result.data).toEqual(rest.body);
  });

  it("turns isError into action error, as a tool result (HTTP 200)", async () => {
    const id = await session();
    const response = await execute(id, "mcp_fail");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: false, action: "error", result: "the tool failed on purpose" });
  });

  it("validates arguments against the upstream's schema before sending (400, nothing sent)", async () => {
    const id = await session();
    const before = (await stats("alpha")).call;
    const wrongType = await execute(id, "mcp_alpha_inspect", { text: 5, count: -1 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.code).toBe("invalid_request");
    expect(wrongType.body.error.message).toMatch(/text/);
    expect(wrongType.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(["text", "count"]));
    const missing = await execute(id, "mcp_alpha_inspect", {});
    expect(missing.status).toBe(400);
    const extra = await execute(id, "mcp_alpha_inspect", { text: "a", surprise: true });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/surprise/);
    const enumMiss = await execute(id, "mcp_get-structured-content", { location: "Atlantis" });
    expect(enumMiss.status).toBe(400);
    expect((await stats("alpha")).call).toBe(before);
  });

  it("answers 404 tool_not_found for an unknown external tool", async () => {
    const id = await session();
    const response = await execute(id, "mcp_no_such_tool");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("tool_not_found");
  });
});
