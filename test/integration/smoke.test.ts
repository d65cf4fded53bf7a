import { describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../support/api";

describe("smoke", () => {
  it("binds and lists local tools", async () => {
    const id = newSessionId();
    const bound = await bind(id);
    expect(bound.success).toBe(true);
    const tools = await call(`/api/v1/mcp/tools?session_id=${id}`);
    expect(tools.status).toBe(200);
    expect(tools.body.tools.map((t: { name: string }) => t.name)).toContain("local_get_time");
  });
});
