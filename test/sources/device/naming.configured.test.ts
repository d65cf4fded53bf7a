/**
 * `naming.keep_cjk: true` (this project's MCP_CONFIG) reaches every source that names tools of its own: a
 * device's and a dial-in provider's CJK tool names keep their characters, as xiaozhi-esp32-server names them,
 * and still run their own tool; punctuation is still replaced.
 */
import { afterEach, describe, expect, it } from "vitest";
import { bind, call, newSessionId } from "../../support/api";
import { FakeEsp32, type FakeTool } from "../../support/fake-esp32";
import { waitFor } from "../../support/wait";
import { closePeers, mintEndpoint, rawProvider, waitForProviders } from "../dial-in/support";

afterEach(closePeers);

const textTool = (name: string): FakeTool => ({ name, description: `The ${name} tool`, inputSchema: { type: "object", properties: {} }, run: () => [{ type: "text", text: `ran ${name}` }] });

describe("naming.keep_cjk", () => {
  it("keeps CJK in device and provider tool names, each still running its own tool", async () => {
    const agent = newSessionId("cjk-agent");
    const id = newSessionId("cjk");
    await bind(id, { agent_id: agent });
    const device = new FakeEsp32([textTool("self.打开灯"), textTool("self.light:off")]);
    device.sessionId = id;
    await device.attachWebSocket(id);
    const { url } = await mintEndpoint(agent, { provider: "home" });
    await rawProvider(url, [{ name: "关闭灯" }]);
    await waitForProviders(agent, 1);
    const names = async () => ((await call(`/api/v1/mcp/tools?session_id=${id}`)).body.tools as { name: string; description: string }[]);
    await waitFor(async () => ((await names()).some((tool) => tool.name === "self_打开灯") && (await names()).some((tool) => tool.name === "home__关闭灯") ? true : undefined), 5_000, "both named");
    const listed = await names();
    expect(listed.map((tool) => tool.name)).toEqual(expect.arrayContaining(["self_打开灯", "self_light_off", "home__关闭灯"]));
    // Nothing was romanized, so no original is prefixed to the description.
    expect(listed.find((tool) => tool.name === "self_打开灯")!.description).toBe("The self.打开灯 tool");
    const ran = await call(`/api/v1/mcp/tools/${encodeURIComponent("self_打开灯")}/execute`, { body: { session_id: id, arguments: {} } });
    expect(ran.body.result).toBe("ran self.打开灯");
    const provided = await call(`/api/v1/mcp/tools/${encodeURIComponent("home__关闭灯")}/execute`, { body: { session_id: id, arguments: {} } });
    expect(JSON.stringify(provided.body)).toContain("关闭灯");
  });
});
