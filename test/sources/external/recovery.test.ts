/**
 * Recovery with real upstreams: a hanging tool, a server down at start that comes up later, a server
 * restarted mid-session, list_changed, and a catalogue that survives Durable Object eviction.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "../../support/api";
import { control, eventually, execute, session, stats, tools } from "./support";

const names = async (id: string) => (await tools(id)).map((tool) => tool.name);
const serverState = async (name: string) =>
  ((await call("/api/v1/mcp/servers")).body.servers as { name: string; state: string; last_error: string | null }[]).find((s) => s.name === name);

describe("external server recovery", () => {
  it("times a hanging call out within the server's timeout_ms (504 timeout), and the server stays usable", async () => {
    const id = await session();
    const started = Date.now();
    const hung = await execute(id, "mcp_hang");
    const elapsed = Date.now() - started;
    expect(hung.status).toBe(504);
    expect(hung.body.error.code).toBe("timeout");
    expect(hung.body.error.message).toMatch(/slowpoke/);
    expect(elapsed).toBeLessThan(10_000); // timeout_ms is 800; generous bound, no timing precision asserted
    // A slow tool is not a dead server: its other tool still answers, and it is still healthy.
    const nap = await execute(id, "mcp_nap");
    expect(nap.body).toEqual({ success: true, action: "req_llm", result: "awake" });
    expect((await serverState("slowpoke"))?.state).toBe("healthy");
  });

  it("reads no answer past limits.max_answer_bytes (64 KiB here): the call fails at once, the server stays usable", async () => {
    const id = await session();
    expect((await execute(id, "mcp_bulky", { bytes: 1_000 })).body).toMatchObject({ success: true, result: "x".repeat(1_000) });
    const bulky = await execute(id, "mcp_bulky", { bytes: 1_000_000 });
    expect(bulky.status, JSON.stringify(bulky.body)).toBe(502);
    expect(bulky.body.error).toMatchObject({ code: "upstream_error", message: expect.stringMatching(/limits\.max_answer_bytes/) });
    // Too long an answer is the server's fault, not its death: still healthy, its tools still answer.
    expect((await execute(id, "mcp_nap")).body).toEqual({ success: true, action: "req_llm", result: "awake" });
    expect((await serverState("slowpoke"))?.state).toBe("healthy");
  });

  it("serves the others while a server is down at start, and adds its tools when it comes up", async () => {
    const id = await session();
    const before = await names(id);
    expect(before).not.toContain("mcp_late_hello");
    expect(before).toContain("mcp_echo");
    expect(await serverState("late")).toMatchObject({ state: "unhealthy" });

    expect((await control("/late/start")).status).toBe(200);
    // Background retries (alarm, backoff ≤ 1 s here) bring it back without a restart of the service.
    await eventually(async () => ((await names(id)).includes("mcp_late_hello") ? true : undefined), 15_000, "late's tools");
    const hello = await execute(id, "mcp_late_hello");
    expect(hello.body).toEqual({ success: true, action: "req_llm", result: "hello from late" });
    expect(await serverState("late")).toMatchObject({ state: "healthy" });
  });

  it("re-initializes a server restarted mid-session: the next call succeeds", async () => {
    const id = await session();
    const first = await execute(id, "mcp_rise");
    expect(first.body).toMatchObject({ success: true, action: "req_llm" });
    const initializedBefore = (await stats("phoenix")).initialize;

    expect((await control("/phoenix/restart")).status).toBe(200);
    const next = await execute(id, "mcp_rise");
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ success: true, action: "req_llm" });
    expect((await stats("phoenix")).initialize).toBe(initializedBefore + 1);
    expect((await serverState("phoenix"))?.state).toBe("healthy");
  });

  it("refreshes the catalogue on notifications/tools/list_changed", async () => {
    const id = await session();
    await execute(id, "mcp_rise"); // a live connection (and its notification stream) exists
    expect(await names(id)).not.toContain("mcp_phoenix_fresh");
    expect((await control("/phoenix/add-tool?name=phoenix_fresh")).status).toBe(200);
    await eventually(async () => ((await names(id)).includes("mcp_phoenix_fresh") ? true : undefined), 10_000, "the added tool");
    const fresh = await execute(id, "mcp_phoenix_fresh");
    expect(fresh.body).toEqual({ success: true, action: "req_llm", result: "phoenix_fresh ran" });
  });

  it("does not re-discover on every request, and the cached catalogue outlives the objects' memory", async () => {
    const id = await session();
    await names(id);
    const after = await stats("phoenix");
    await names(id);
    await names(await session());
    // Every object loses its in-memory state (as after an eviction); storage stays. (Graceful eviction
    // would wait for the open notification stream, which the object closes only after IDLE_CLOSE_MS.)
    await abortAllDurableObjects();
    expect(await names(id)).toContain("mcp_rise");
    const now = await stats("phoenix");
    expect(now.list).toBe(after.list);
    expect(now.initialize).toBe(after.initialize);
  });

  it("re-lists a server once its cache TTL has passed (serving the cached list meanwhile)", async () => {
    const id = await session();
    expect(await names(id)).toContain("mcp_flaky_ping");
    const before = (await stats("flaky")).list;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // cache_ttl_seconds: 1
    expect(await names(id)).toContain("mcp_flaky_ping");
    await eventually(async () => ((await stats("flaky")).list > before ? true : undefined), 5_000, "a refresh after the TTL");
  });

  it("keeps an unhealthy server's tools for its grace period, then hides them, and brings them back", async () => {
    const id = await session();
    expect(await names(id)).toContain("mcp_flaky_ping");
    expect((await control("/flaky/stop")).status).toBe(200);
    const failed = await execute(id, "mcp_flaky_ping");
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe("upstream_error");
    expect(failed.body.error.message).toMatch(/flaky/);
    // Other servers are untouched.
    expect((await execute(id, "mcp_echo", { message: "still here" })).body.result).toBe("Echo: still here");
    expect(await serverState("flaky")).toMatchObject({ state: "unhealthy" });
    // unhealthy_grace_seconds: 1 → hidden soon after.
    await eventually(async () => (!(await names(id)).includes("mcp_flaky_ping") ? true : undefined), 5_000, "flaky's tools hidden");
    expect((await execute(id, "mcp_flaky_ping")).body.error.code).toBe("tool_not_found");

    expect((await control("/flaky/start")).status).toBe(200);
    await eventually(async () => ((await names(id)).includes("mcp_flaky_ping") ? true : undefined), 15_000, "flaky's tools back");
    expect((await execute(id, "mcp_flaky_ping")).body).toEqual({ success: true, action: "req_llm", result: "pong" });
  });
});
