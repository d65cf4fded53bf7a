/**
 * The hot path of an external tool call: the caller (here a session object) and the upstream, nothing else.
 * The per-isolate object request counts (`GET /api/v1/diagnostics/object-requests`) show whether a call
 * reached the upstream's Durable Object.
 */
import { describe, expect, it } from "vitest";
import { REVALIDATE_MS } from "../../../src/sources/external/catalogue-freshness";
import { execute, objectRequests, session, stats } from "./support";

const CALLS = 10;

describe("the hot path of external tool calls", () => {
  it("after a warm-up call, calls to a 2026-07-28 upstream add no request to its upstream object", async () => {
    const id = await session();
    expect((await execute(id, "mcp_nova_echo", { message: "warm-up" })).status).toBe(200);
    const before = await objectRequests();
    for (let i = 0; i < CALLS; i += 1) {
      const called = await execute(id, "mcp_nova_echo", { message: `call ${i}` });
      expect(called.body).toEqual({ success: true, action: "req_llm", result: `nova: call ${i}` });
    }
    const after = await objectRequests();
    expect(after.upstream - before.upstream).toBe(0);
    expect(after.session - before.session).toBeGreaterThanOrEqual(CALLS); // the calls did go through the session
  });

  it("calls to a 2025 Streamable HTTP upstream revalidate the catalogue at most once a second, never per call", async () => {
    const id = await session();
    expect((await execute(id, "mcp_alpha_search", { query: "warm-up" })).status).toBe(200);
    const before = await objectRequests();
    const callsBefore = (await stats("alpha")).call;
    const started = Date.now();
    for (let i = 0; i < CALLS; i += 1) expect((await execute(id, "mcp_alpha_search", { query: `q${i}` })).status).toBe(200);
    const elapsed = Date.now() - started;
    const reached = (await objectRequests()).upstream - before.upstream;
    // alpha's list has no ttlMs: each execute lists first, which asks the object again once the 1 s window is over.
    expect(reached).toBeLessThanOrEqual(Math.ceil(elapsed / REVALIDATE_MS) + 1);
    expect(reached).toBeLessThan(CALLS);
    expect((await stats("alpha")).call - callsBefore).toBe(CALLS);
  });
});
