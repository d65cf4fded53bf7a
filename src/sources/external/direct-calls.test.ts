/**
 * A caller's direct call policy against real upstreams (SDK servers over HTTP in this Node process), with the
 * upstream object replaced by a recorder that answers renewals the way the object does (a fresh connection's
 * route): which calls reach the object at all, and what they say.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ok, type Result } from "../../core/errors";
import type { ModernServer } from "../../../test/fixtures/modern-upstream";
import { freePort, startTestServer, type FixtureTool, type TestServer } from "../../../test/fixtures/upstream-servers";
import { startModernServer } from "../../../test/fixtures/modern-upstream";
import { callDirectly, type KnownRoute } from "./direct-calls";
import { initialHealth, recordFailure, recordSuccess, type Health } from "./health";
import { parseServers, type ExternalServer } from "./server-config";
import { UpstreamConnection } from "./upstream-client";
import { routeKey, type UpstreamRoute, type UpstreamTool } from "./upstream-model";
import type { RenewRequest, ReportRequest, UpstreamRpc } from "./upstream-rpc";

const echo: FixtureTool = {
  name: "echo",
  description: "Echoes",
  inputSchema: { type: "object", properties: { text: { type: "string" } } },
  run: (args) => ({ content: [{ type: "text", text: `echo ${String(args.text)}` }] }),
};
const hang: FixtureTool = {
  name: "hang",
  description: "Never answers",
  inputSchema: { type: "object" },
  run: (_args, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ content: [] }))),
};
/** Answers with structured content nested `depth` levels deep. */
const deep: FixtureTool = {
  name: "deep",
  description: "Answers deeply nested JSON",
  inputSchema: { type: "object", properties: { depth: { type: "integer" } } },
  run: (args) => {
    let nested: FixtureTool["inputSchema"] = { leaf: true };
    for (let i = 0; i < Number(args.depth); i += 1) nested = { n: nested };
    return { content: [{ type: "text", text: "deep" }], structuredContent: nested };
  },
};
const tool = (fixture: FixtureTool): UpstreamTool => ({ name: fixture.name, description: fixture.description, inputSchema: fixture.inputSchema });
const healthy = recordSuccess(initialHealth(), Date.now());

/** The object's side, recorded: renewals answered with a fresh connection's route, reports with a health. */
class ObjectRecorder implements Pick<UpstreamRpc, "renew" | "report"> {
  renewals: RenewRequest[] = [];
  reports: ReportRequest["outcome"][] = [];
  constructor(private readonly server: ExternalServer) {}
  async renew(request: RenewRequest): Promise<Result<UpstreamRoute>> {
    this.renewals.push(request);
    const opened = await UpstreamConnection.open(this.server, { onToolsChanged: () => undefined, onDead: () => undefined });
    if (!opened.ok) throw new Error(opened.failure.message);
    const route = opened.value.route!;
    await opened.value.close();
    return ok(route);
  }
  async report(request: ReportRequest): Promise<Result<Health>> {
    this.reports.push(request.outcome);
    const outcome = request.outcome;
    return ok(outcome.type === "failure" ? recordFailure(healthy, outcome.message, Date.now(), this.server) : healthy);
  }
}

let legacy: TestServer;
let modern: ModernServer;

function serverOf(url: string, timeout_ms = 1_000): ExternalServer {
  return parseServers({ mcpServers: { up: { url, timeout_ms, connect_timeout_ms: 1_000 } } }).servers[0]!;
}

async function routeOf(server: ExternalServer): Promise<UpstreamRoute> {
  const opened = await UpstreamConnection.open(server, { onToolsChanged: () => undefined, onDead: () => undefined });
  if (!opened.ok) throw new Error(opened.failure.message);
  const route = opened.value.route!;
  await opened.value.close();
  return route;
}

function call(server: ExternalServer, fixture: FixtureTool, known: KnownRoute, args: Record<string, unknown> = {}) {
  const recorder = new ObjectRecorder(server);
  const upstream = async () => recorder as unknown as UpstreamRpc;
  const outcome = callDirectly(server, tool(fixture), args, known, { upstream, ref: { server: server.name, digest: "d" }, now: Date.now });
  return { recorder, outcome };
}

beforeAll(async () => {
  legacy = await startTestServer({ name: "legacy", transport: "streamable-http", tools: [echo, hang, deep] });
  modern = await startModernServer({ name: "modern", port: await freePort(), tools: [echo, hang, deep] });
});
afterAll(async () => {
  await legacy.stop();
  await modern.stop();
});

describe("direct calls", () => {
  it.each(["legacy", "modern"])("asks nothing of the object while all is well (%s)", async (which) => {
    const server = serverOf(which === "legacy" ? legacy.url : modern.url);
    const { recorder, outcome } = call(server, echo, { route: await routeOf(server), health: healthy }, { text: "hi" });
    expect((await outcome).result).toEqual(ok({ content: [{ type: "text", text: "echo hi" }] }));
    expect(recorder.renewals).toEqual([]);
    expect(recorder.reports).toEqual([]);
  });

  it.each(["legacy", "modern"])("fails an answer nested deeper than limits.max_json_depth as the upstream's error, before parsing it (%s)", async (which) => {
    const server = serverOf(which === "legacy" ? legacy.url : modern.url);
    const known = { route: await routeOf(server), health: healthy };
    const within = call(server, deep, known, { depth: 40 });
    expect((await within.outcome).result).toMatchObject({ ok: true });
    const beyond = call(server, deep, known, { depth: 3_000 });
    const done = await beyond.outcome;
    expect(done.result).toMatchObject({ ok: false, error: { code: "upstream_error", message: expect.stringMatching(/deeper than limits.max_json_depth \(64\)/) } });
    expect(beyond.recorder.reports).toEqual([]); // the server answered: nothing to tell its health
  });

  it("renews a legacy session the restarted upstream forgot, once, and retries the call once", async () => {
    const server = serverOf(legacy.url, 3_000);
    const stale = await routeOf(server);
    await legacy.restart();
    // As after a real restart, the client has seen its idle keep-alive sockets closed: a request racing the
    // close would meet a reset, which is not retried (it cannot tell a call that never arrived from one that ran).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { recorder, outcome } = call(server, echo, { route: stale, health: healthy }, { text: "again" });
    const done = await outcome;
    expect(done.result).toEqual(ok({ content: [{ type: "text", text: "echo again" }] }));
    expect(recorder.renewals.map((renewal) => renewal.stale)).toEqual([routeKey(stale)]);
    expect(done.route).toMatchObject({ era: "legacy" });
    expect(done.route && routeKey(done.route)).not.toBe(routeKey(stale));
    expect(recorder.reports).toEqual([]);
  });

  it("fails at once without network while the caller's copy says the server is cooling down", async () => {
    const server = serverOf(legacy.url);
    const cooling = recordFailure(healthy, "refused", Date.now(), { retry_initial_ms: 60_000, retry_max_ms: 60_000 });
    const calls = legacy.stats.call;
    const { recorder, outcome } = call(server, echo, { route: await routeOf(server), health: cooling });
    const done = await outcome;
    expect(done.result).toMatchObject({ ok: false, error: { code: "upstream_error", message: expect.stringMatching(/unavailable.*next retry/) } });
    expect(legacy.stats.call).toBe(calls);
    expect(recorder.reports).toEqual([]);
  });

  it("reports a dead upstream once and hands back the object's health", async () => {
    const server = serverOf(`http://127.0.0.1:${await freePort()}/mcp`);
    const route: UpstreamRoute = { era: "modern", protocol_version: "2026-07-28", discover: { supportedVersions: ["2026-07-28"], capabilities: { tools: {} } } };
    const started = Date.now();
    const { recorder, outcome } = call(server, echo, { route, health: healthy });
    const done = await outcome;
    expect(Date.now() - started).toBeLessThan(server.timeout_ms);
    expect(done.result).toMatchObject({ ok: false, error: { code: "upstream_error" } });
    expect(recorder.reports).toMatchObject([{ type: "failure", kind: "unreachable" }]);
    expect(done.health?.state).toBe("unhealthy");
  });

  it("reports a timeout for the object to probe, within the call's timeout_ms", async () => {
    const server = serverOf(modern.url, 400);
    const started = Date.now();
    const { recorder, outcome } = call(server, hang, { route: await routeOf(server), health: healthy });
    const done = await outcome;
    expect(done.result).toMatchObject({ ok: false, error: { code: "timeout" } });
    expect(Date.now() - started).toBeLessThan(400 + 300);
    expect(recorder.reports).toEqual([{ type: "timeout" }]);
  });

  it("does not report an upstream that answered with an error: it is alive", async () => {
    const server = serverOf(modern.url);
    const missing: FixtureTool = { ...echo, name: "missing" };
    const { recorder, outcome } = call(server, missing, { route: await routeOf(server), health: healthy });
    expect((await outcome).result).toMatchObject({ ok: false, error: { code: "upstream_error", message: expect.stringMatching(/rejected the call/) } });
    expect(recorder.reports).toEqual([]);
  });

  it("reports a success when the caller's copy of the health was not healthy", async () => {
    const server = serverOf(legacy.url);
    const recovering = { ...recordFailure(healthy, "refused", Date.now() - 10_000, { retry_initial_ms: 100, retry_max_ms: 100 }) };
    const { recorder, outcome } = call(server, echo, { route: await routeOf(server), health: recovering }, { text: "back" });
    const done = await outcome;
    expect(done.result.ok).toBe(true);
    expect(recorder.reports).toEqual([{ type: "success" }]);
    expect(done.health?.state).toBe("healthy");
  });
});
