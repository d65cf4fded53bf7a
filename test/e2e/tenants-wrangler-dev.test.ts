/**
 * Agents as tenants under a real `wrangler dev`, restarted on the same persisted state: an agent's config and
 * tokens survive the restart (a token minted before it still works after it, a revoked one stays revoked), and
 * the agent's sessions run the config they had.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fresh, Service } from "./support";

const service = new Service({});

beforeAll(() => service.start());
afterAll(() => service.dispose());

/** A call with an agent's token. */
const as = (token: string, path: string, body?: unknown) => service.api(path, body, undefined, token);

describe("tenants across a restart of the runtime", () => {
  it("keep their config and tokens; revoked tokens stay revoked", async () => {
    const agent = fresh("tenant");
    const put = await service.api(`/api/v1/mcp/agents/${agent}/config`, { tools: { deny: ["local_play_music"] } }, "PUT");
    expect(put.status).toBe(200);
    const kept = (await service.api(`/api/v1/mcp/agents/${agent}/tokens`, {})).body;
    const revoked = (await service.api(`/api/v1/mcp/agents/${agent}/tokens`, {})).body;
    expect((await service.api(`/api/v1/mcp/agents/${agent}/tokens/${revoked.id}`, undefined, "DELETE")).body.revoked).toBe(true);
    const session = fresh("tenant-session");
    expect((await as(kept.token, `/api/v1/mcp/sessions/${session}/bind`, { device_id: "d", agent_id: agent })).status).toBe(200);

    await service.stop();
    await service.start();

    const config = await service.api(`/api/v1/mcp/agents/${agent}/config`);
    expect(config.body).toMatchObject({ agent_id: agent, version: put.body.version, config: { tools: { deny: ["local_play_music"] } } });
    expect((await service.api(`/api/v1/mcp/agents/${agent}/tokens`)).body.tokens.map((token: { id: string }) => token.id)).toEqual([kept.id]);
    const tools = await as(kept.token, `/api/v1/mcp/tools?session_id=${session}`);
    expect(tools.status).toBe(200);
    const names = tools.body.tools.map((tool: { name: string }) => tool.name);
    expect(names).toContain("local_get_time");
    expect(names).not.toContain("local_play_music");
    expect((await as(revoked.token, `/api/v1/mcp/tools?session_id=${session}`)).status).toBe(401);
  }, 120_000);
});
