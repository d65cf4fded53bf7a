/**
 * The isolation matrix: every authenticated route × {the service token, an agent token of the agent the
 * request is about, another agent's token, a revoked token of the right agent}, against the real Worker and
 * objects, with the status each cell must answer. An agent token reaches its own agent's sessions and
 * endpoints only; another agent's sessions answer as unbound ones (404), another agent's named resources 403;
 * what only the service may do (configuration, tokens, metrics, server states) answers agents 403; a revoked
 * token 401 everywhere.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../src/http/routes";
import { BASE, bind, call, newSessionId, TOKEN } from "../support/api";

type Who = "service" | "own" | "other" | "revoked";
const WHO: Who[] = ["service", "own", "other", "revoked"];

const tokens: Record<Who, string> = { service: TOKEN, own: "", other: "", revoked: "" };
const agentA = newSessionId("tenant-a");
const agentB = newSessionId("tenant-b");
/** Sessions bound by the service: one to each agent. */
const sessionA = newSessionId("tenant-sa");

async function mint(agent: string): Promise<{ id: string; token: string }> {
  const minted = await call(`/api/v1/mcp/agents/${agent}/tokens`, { body: {} });
  expect(minted.status).toBe(200);
  return minted.body;
}

beforeAll(async () => {
  tokens.own = (await mint(agentA)).token;
  tokens.other = (await mint(agentB)).token;
  const revoked = await mint(agentA);
  tokens.revoked = revoked.token;
  expect((await call(`/api/v1/mcp/agents/${agentA}/tokens/${revoked.id}`, { method: "DELETE" })).body).toMatchObject({ revoked: true });
  await bind(sessionA, { agent_id: agentA });
  expect((await call(`/api/v1/mcp/agents/${agentA}/config`, { method: "PUT", body: { tools: { deny: ["local_play_music"] } } })).status).toBe(200);
});

/** One request of a route, as `who`; resolves to the status it answered (streams are let go at once). */
type Send = (who: Who) => Promise<number>;

async function status(path: string, who: Who, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens[who]}`, ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await exports.default.fetch(
    new Request(`${BASE}${path}`, { method: init.method ?? (init.body === undefined ? "GET" : "POST"), headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) }),
  );
  response.webSocket?.accept();
  response.webSocket?.close();
  await response.body?.cancel();
  return response.status;
}

/** A session bound by the service to agent A, used once (for calls that end a session). */
async function freshSessionOfA(): Promise<string> {
  const id = newSessionId("tenant-once");
  await bind(id, { agent_id: agentA });
  return id;
}

const MCP = { accept: "application/json, text/event-stream", "content-type": "application/json" };
const INITIALIZE = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "matrix", version: "1" } } };
const trpcQuery = (name: string, input: unknown) => `/trpc/${name}?input=${encodeURIComponent(JSON.stringify(input))}`;

/** The matrix: per operationId, how to send it and what each principal gets. */
const MATRIX: Record<string, { send: Send; expect: Record<Who, number> }> = {
  getOpenApi: { send: (who) => status("/api/v1/openapi.json", who), expect: { service: 200, own: 200, other: 200, revoked: 401 } },
  getMetrics: { send: (who) => status("/metrics", who), expect: { service: 200, own: 403, other: 403, revoked: 401 } },
  getObjectRequests: { send: (who) => status("/api/v1/diagnostics/object-requests", who), expect: { service: 404, own: 403, other: 403, revoked: 401 } },
  listServers: { send: (who) => status("/api/v1/mcp/servers", who), expect: { service: 200, own: 403, other: 403, revoked: 401 } },

  bindSession: {
    send: (who) => status(`/api/v1/mcp/sessions/${newSessionId("tenant-bind")}/bind`, who, { body: { device_id: "d", agent_id: agentA } }),
    expect: { service: 200, own: 200, other: 403, revoked: 401 },
  },
  getSession: { send: (who) => status(`/api/v1/mcp/sessions/${sessionA}`, who), expect: { service: 200, own: 200, other: 404, revoked: 401 } },
  unbindSession: {
    send: async (who) => status(`/api/v1/mcp/sessions/${await freshSessionOfA()}`, who, { method: "DELETE" }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },
  getTools: { send: (who) => status(`/api/v1/mcp/tools?session_id=${sessionA}`, who), expect: { service: 200, own: 200, other: 404, revoked: 401 } },
  executeTool: {
    send: (who) => status("/api/v1/mcp/tools/local_get_time/execute", who, { body: { session_id: sessionA, arguments: {} } }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },

  attachDeviceRelay: {
    send: (who) => status(`/api/v1/mcp/sessions/${sessionA}/device`, who, { headers: { upgrade: "websocket" } }),
    expect: { service: 101, own: 101, other: 404, revoked: 401 },
  },
  attachDeviceEvents: { send: (who) => status(`/api/v1/mcp/sessions/${sessionA}/device/events`, who), expect: { service: 200, own: 200, other: 404, revoked: 401 } },
  postDeviceFrames: {
    send: (who) => status(`/api/v1/mcp/sessions/${sessionA}/messages`, who, { body: { session_id: sessionA, type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/x" } } }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },

  sessionMcpPost: {
    send: (who) => status(`/api/v1/mcp/sessions/${sessionA}/mcp`, who, { body: INITIALIZE, headers: MCP }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },
  sessionMcpStream: {
    send: (who) => status(`/api/v1/mcp/sessions/${sessionA}/mcp`, who, { headers: { accept: "text/event-stream" } }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },
  sessionMcpClose: {
    send: (who) => status(`/api/v1/mcp/sessions/${sessionA}/mcp`, who, { method: "DELETE", headers: MCP }),
    expect: { service: 405, own: 405, other: 404, revoked: 401 },
  },
  sharedMcpPost: { send: (who) => status(`/mcp?agent_id=${agentA}`, who, { body: INITIALIZE, headers: MCP }), expect: { service: 200, own: 200, other: 403, revoked: 401 } },
  sharedMcpStream: {
    send: (who) => status(`/mcp?agent_id=${agentA}`, who, { headers: { accept: "text/event-stream" } }),
    expect: { service: 200, own: 200, other: 403, revoked: 401 },
  },
  sharedMcpClose: { send: (who) => status(`/mcp?agent_id=${agentA}`, who, { method: "DELETE", headers: MCP }), expect: { service: 405, own: 405, other: 403, revoked: 401 } },

  mintProviderEndpoint: { send: (who) => status(`/api/v1/mcp/agents/${agentA}/endpoint`, who, { body: {} }), expect: { service: 200, own: 200, other: 403, revoked: 401 } },
  listProviders: { send: (who) => status(`/api/v1/mcp/agents/${agentA}/providers`, who), expect: { service: 200, own: 200, other: 403, revoked: 401 } },

  putAgentConfig: {
    send: (who) => status(`/api/v1/mcp/agents/${agentA}/config`, who, { method: "PUT", body: { tools: { deny: ["local_play_music"] } } }),
    expect: { service: 200, own: 403, other: 403, revoked: 401 },
  },
  getAgentConfig: { send: (who) => status(`/api/v1/mcp/agents/${agentA}/config`, who), expect: { service: 200, own: 403, other: 403, revoked: 401 } },
  deleteAgentConfig: {
    // Put back right after, so the cells that follow see the same agent.
    send: async (who) => {
      const answered = await status(`/api/v1/mcp/agents/${agentA}/config`, who, { method: "DELETE" });
      await call(`/api/v1/mcp/agents/${agentA}/config`, { method: "PUT", body: { tools: { deny: ["local_play_music"] } } });
      return answered;
    },
    expect: { service: 200, own: 403, other: 403, revoked: 401 },
  },
  mintAgentToken: { send: (who) => status(`/api/v1/mcp/agents/${agentA}/tokens`, who, { body: {} }), expect: { service: 200, own: 403, other: 403, revoked: 401 } },
  listAgentTokens: { send: (who) => status(`/api/v1/mcp/agents/${agentA}/tokens`, who), expect: { service: 200, own: 403, other: 403, revoked: 401 } },
  revokeAgentToken: {
    send: (who) => status(`/api/v1/mcp/agents/${agentA}/tokens/0000000000000000`, who, { method: "DELETE" }),
    expect: { service: 200, own: 403, other: 403, revoked: 401 },
  },

  trpcBindSession: {
    send: (who) => status("/trpc/bindSession", who, { body: { session_id: newSessionId("tenant-tb"), device_id: "d", agent_id: agentA } }),
    expect: { service: 200, own: 200, other: 403, revoked: 401 },
  },
  trpcGetSession: { send: (who) => status(trpcQuery("getSession", { session_id: sessionA }), who), expect: { service: 200, own: 200, other: 404, revoked: 401 } },
  trpcUnbindSession: {
    send: async (who) => status("/trpc/unbindSession", who, { body: { session_id: await freshSessionOfA() } }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },
  trpcGetTools: { send: (who) => status(trpcQuery("getTools", { session_id: sessionA }), who), expect: { service: 200, own: 200, other: 404, revoked: 401 } },
  trpcExecuteTool: {
    send: (who) => status("/trpc/executeTool", who, { body: { session_id: sessionA, tool_name: "local_get_time", arguments: {} } }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },
  trpcHandleXiaoZhiMessage: {
    send: (who) => status("/trpc/handleXiaoZhiMessage", who, { body: { session_id: sessionA, type: "mcp", payload: { jsonrpc: "2.0", method: "notifications/x" } } }),
    expect: { service: 200, own: 200, other: 404, revoked: 401 },
  },
};

describe("isolation matrix", () => {
  it("covers every route that takes a bearer token", () => {
    // Public routes and the xiaozhi endpoint routes (their own URL tokens) take no bearer token.
    const bearerRoutes = ROUTES.filter((route) => !route.public).map((route) => route.operationId);
    expect(Object.keys(MATRIX).sort()).toEqual([...bearerRoutes].sort());
  });

  for (const [operationId, cell] of Object.entries(MATRIX)) {
    it(`${operationId}: ${WHO.map((who) => `${who} ${cell.expect[who]}`).join(", ")}`, async () => {
      const answered: Record<string, number> = {};
      for (const who of WHO) answered[who] = await cell.send(who);
      expect(answered).toEqual(cell.expect);
    });
  }

  it("public routes answer everyone, bearer token or not", async () => {
    for (const who of WHO) {
      expect(await status("/healthz", who)).toBe(200);
      expect(await status("/readyz", who)).toBe(200);
    }
  });
});

describe("what another agent's token learns", () => {
  it("nothing of another agent's session: the same answer as for a session nobody bound", async () => {
    const theirs = await call(`/api/v1/mcp/sessions/${sessionA}`, { token: tokens.other });
    const nobody = await call(`/api/v1/mcp/sessions/${newSessionId("never")}`, { token: tokens.other });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(nobody.body);
    const tool = await call("/api/v1/mcp/tools/local_get_time/execute", { token: tokens.other, body: { session_id: sessionA, arguments: {} } });
    expect(tool.body.error.code).toBe("session_not_found");
  });

  it("cannot take a session over by binding its id for itself", async () => {
    const takeover = await call(`/api/v1/mcp/sessions/${sessionA}/bind`, { token: tokens.other, body: { device_id: "intruder", agent_id: agentB } });
    expect(takeover.status).toBe(403);
    expect(takeover.body.error.code).toBe("forbidden");
    expect((await call(`/api/v1/mcp/sessions/${sessionA}`)).body).toMatchObject({ agent_id: agentA });
  });

  it("an agent token binds for its own agent only: no agent_id is refused too", async () => {
    const none = await call(`/api/v1/mcp/sessions/${newSessionId("tenant-none")}/bind`, { token: tokens.own, body: { device_id: "d" } });
    expect(none.status).toBe(403);
  });

  it("an agent token opens the shared /mcp endpoint of its own agent only: without agent_id it is refused too", async () => {
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
    const headers = { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" };
    const bare = await call("/mcp", { token: tokens.own, body: list, headers });
    expect(bare.status).toBe(403);
    expect(bare.body.error).toMatchObject({ data: { app_code: "forbidden" } });
    expect((await call(`/mcp?agent_id=${agentA}`, { token: tokens.own, body: list, headers })).body.result.tools.length).toBeGreaterThan(0);
  });
});
