// MCP clients suite (opt-in, issue 15: `npm run bench -- --suite mcp-clients [--clients 1000]`): N MCP clients
// at once on the shared `/mcp` endpoint, each with the official v2 client (@modelcontextprotocol/client): connect,
// tools/list, tools/call local_get_time, close. Aim: every client served.
//
// Not a per-call comparison with a baseline, so it measures itself (bench/lib/suite.mjs `run`): one wave of N
// clients, started together and bounded only by the sockets of Node's global fetch (undici's default agent has
// no per-origin connection limit, so every client gets its own socket when it needs one). The eras are mixed,
// a third each: pinned to 2026-07-28 (server/discover, then stateless requests), `auto` (probe, then whatever the
// server offers) and `legacy` (initialize, 2025-era requests). Every step has a deadline: a server that stops
// answering makes clients fail with "no answer within …", never a hanging run.
import { performance } from "node:perf_hooks";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { BENCH_TOKEN } from "../lib/context.mjs";
import { groupCpuByGroup, machineTicks } from "../lib/cpu.mjs";
import { MODERN_VERSION } from "../lib/mcp.mjs";
import { OBJECT_CLASSES, perCall } from "../lib/object-requests.mjs";
import { percentile } from "../lib/stats.mjs";
import { ms, textTable } from "../lib/table.mjs";

const TOOL = "local_get_time";
/** Longest wait for one step of one client (also bounded by the suite's --max-seconds). */
const STEP_MS = 60_000;
const CLOSE_MS = 5_000;
/** Longest wait for one step of a warm-up client: a server that does not answer is the measured wave's finding. */
const WARMUP_STEP_MS = 15_000;
const STEPS = /** @type {const} */ (["connect", "list", "call"]);
/** Distinct failure messages printed (all are in --json). */
const SHOWN_FAILURES = 5;

/** @typedef {{ label: string, mode: "auto" | "legacy" | { pin: string } }} Era */
/** @type {Era[]} */
const ERAS = [
  { label: MODERN_VERSION, mode: { pin: MODERN_VERSION } },
  { label: "auto", mode: "auto" },
  { label: "legacy", mode: "legacy" },
];

/**
 * @typedef {object} ClientOutcome
 * @property {string} era
 * @property {Partial<Record<(typeof STEPS)[number], number>>} times ms per step that completed
 * @property {string} [failedAt] the step that failed
 * @property {string} [error] its message (first line)
 */

/** @type {import("../lib/suite.mjs").Suite} */
export default {
  name: "mcp-clients",
  description: "N MCP clients at once on the shared /mcp (official v2 client, eras mixed): connect, tools/list, tools/call local_get_time, close; all must be served",
  optIn: true,
  async run(ctx, options) {
    const count = ctx.options.clients;
    const service = await ctx.service();
    const url = new URL("/mcp", service.url);
    const stepBudget = () => Math.max(1, Math.min(STEP_MS, options.deadline - Date.now()));

    // One client per era first, not measured: the isolate's first requests compile the code paths.
    for (const era of ERAS) {
      const warm = await oneClient(url, era, 0, () => Math.min(WARMUP_STEP_MS, stepBudget()));
      if (warm.error) ctx.log(`mcp-clients: warm-up client (${era.label}) failed at ${warm.failedAt}: ${warm.error}`);
    }

    const groups = ctx.started().map((server) => server.pid);
    const countersBefore = await options.objectRequests?.(service.name);
    const cpuBefore = groupCpuByGroup(groups);
    const clientBefore = process.cpuUsage();
    const machineBefore = machineTicks();
    let done = 0;
    const started = performance.now();
    const progress = setInterval(() => options.progress(`  mcp-clients: ${done}/${count} clients done after ${((performance.now() - started) / 1000).toFixed(0)} s`), 5_000);
    /** @type {ClientOutcome[]} */
    let outcomes;
    try {
      outcomes = await Promise.all(
        Array.from({ length: count }, (_, index) =>
          oneClient(url, ERAS[index % ERAS.length], index + 1, stepBudget).finally(() => {
            done += 1;
          }),
        ),
      );
    } finally {
      clearInterval(progress);
    }
    const wallMs = performance.now() - started;
    const clientCpu = process.cpuUsage(clientBefore);
    const machineAfter = machineTicks();
    const cpuAfter = groupCpuByGroup(groups);
    const countersAfter = countersBefore ? await options.objectRequests?.(service.name) : null;

    const serviceCpu = commandDelta(cpuBefore.get(service.pid), cpuAfter.get(service.pid));
    const serviceCpuMs = Object.values(serviceCpu).reduce((sum, value) => sum + value, 0);
    const serversCpuMs = groups.reduce(
      (sum, pid) => sum + Object.values(commandDelta(cpuBefore.get(pid), cpuAfter.get(pid))).reduce((total, value) => total + value, 0),
      0,
    );
    const clientCpuMs = (clientCpu.user + clientCpu.system) / 1000;
    const machineTotal = machineAfter.total - machineBefore.total;
    const succeeded = outcomes.filter((outcome) => !outcome.error).length;
    const calls = outcomes.filter((outcome) => outcome.times.call !== undefined).length;
    const result = {
      suite: "mcp-clients",
      kind: "clients",
      target: "shared-mcp",
      description: `${count} MCP clients at once on /mcp (official v2 client, a third each: pinned ${MODERN_VERSION}, auto, legacy): connect, tools/list, tools/call ${TOOL}, close`,
      concurrency: count,
      clients: count,
      succeeded,
      failed: count - succeeded,
      byEra: Object.fromEntries(
        ERAS.map((era) => {
          const mine = outcomes.filter((outcome) => outcome.era === era.label);
          return [era.label, { clients: mine.length, succeeded: mine.filter((outcome) => !outcome.error).length }];
        }),
      ),
      errors: failureGroups(outcomes),
      wallMs,
      steps: Object.fromEntries(STEPS.map((step) => [step, stepFigures(outcomes, step)])),
      serverCpuMs: serviceCpuMs,
      serverWorkerdCpuMs: serviceCpu.workerd ?? 0,
      serverCpuMsPerClient: serviceCpuMs / count,
      allServersCpuMs: serversCpuMs,
      clientCpuMs,
      machineBusy: (machineAfter.busy - machineBefore.busy) / machineTotal,
      foreignBusy: (machineAfter.busy - machineBefore.busy - serversCpuMs / 10 - clientCpuMs / 10) / machineTotal,
      objectRequestsPerCall: perCall(countersBefore, countersAfter, calls),
      ...(options.keepLatencies
        ? { latenciesMs: Object.fromEntries(STEPS.map((step) => [step, outcomes.flatMap((outcome) => (outcome.times[step] === undefined ? [] : [round3(outcome.times[step])]))])) }
        : {}),
    };
    return {
      results: [result],
      lines: report(result),
      ...(result.failed > 0 ? { failure: `${result.failed} of ${count} MCP clients failed (first: ${result.errors[0]?.message ?? "?"})` } : {}),
    };
  },
};

/**
 * One client's life: connect (with the era's negotiation), tools/list, tools/call, close. Never throws: the
 * outcome says which step failed and why.
 * @param {URL} url
 * @param {Era} era
 * @param {number} index
 * @param {() => number} budget ms the next step may take
 * @returns {Promise<ClientOutcome>}
 */
async function oneClient(url, era, index, budget) {
  const client = new Client({ name: `bench-client-${index}`, version: "1.0.0" }, { versionNegotiation: { mode: era.mode } });
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${BENCH_TOKEN}` } } });
  /** @type {ClientOutcome} */
  const outcome = { era: era.label, times: {} };
  /** @type {(typeof STEPS)[number]} */
  let step = "connect";
  const timed = async (name, work) => {
    step = name;
    const timeout = budget();
    const began = performance.now();
    // The SDK's own timeout, and a deadline of ours around it for what the SDK does not bound (e.g. its probe).
    const value = await withDeadline(work(timeout), timeout + 1_000, name);
    outcome.times[name] = performance.now() - began;
    return value;
  };
  try {
    await timed("connect", (timeout) => client.connect(transport, { timeout }));
    const listed = await timed("list", (timeout) => client.listTools(undefined, { timeout }));
    if (!listed.tools.some((tool) => tool.name === TOOL)) throw new Error(`${TOOL} not in tools/list (${listed.tools.length} tools)`);
    const called = await timed("call", (timeout) => client.callTool({ name: TOOL, arguments: {} }, { timeout }));
    if (called.isError) throw new Error(`tool error: ${JSON.stringify(called.content).slice(0, 160)}`);
  } catch (error) {
    outcome.failedAt = step;
    outcome.error = (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 240);
  } finally {
    await withDeadline(client.close(), CLOSE_MS, "close").catch(() => undefined);
  }
  return outcome;
}

/** `promise`, or a rejection after `ms`. */
function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function commandDelta(before = {}, after = {}) {
  return Object.fromEntries(Object.entries(after).map(([command, value]) => [command, value - (before[command] ?? 0)]));
}

const round3 = (value) => Math.round(value * 1000) / 1000;

/** Distinct failures, most frequent first. */
function failureGroups(outcomes) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const outcome of outcomes) {
    if (!outcome.error) continue;
    const key = `${outcome.era} at ${outcome.failedAt}: ${outcome.error}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([message, count]) => ({ message, count }));
}

/** p50/p99/max of one step over the clients that completed it. */
function stepFigures(outcomes, step) {
  const sorted = Float64Array.from(outcomes.flatMap((outcome) => (outcome.times[step] === undefined ? [] : [outcome.times[step]]))).sort();
  return { done: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN };
}

/** The suite's printed section. */
function report(r) {
  const eras = Object.entries(r.byEra).map(([era, figures]) => `${era} ${figures.succeeded}/${figures.clients}`);
  const counts = r.objectRequestsPerCall;
  const lines = [
    `mcp-clients: ${r.description}`,
    textTable(
      ["step", "done", "p50 ms", "p99 ms", "max ms"],
      STEPS.map((step) => [step, r.steps[step].done, ms(r.steps[step].p50), ms(r.steps[step].p99), ms(r.steps[step].max)]),
      ["l", "r", "r", "r", "r"],
    ),
    `served ${r.succeeded} of ${r.clients} (failed ${r.failed}) in ${(r.wallMs / 1000).toFixed(1)} s wall; by era: ${eras.join(", ")}`,
    `service server CPU ${r.serverCpuMs.toFixed(0)} ms (workerd ${r.serverWorkerdCpuMs.toFixed(0)}), ${ms(r.serverCpuMsPerClient)} ms per client; ` +
      `load generator ${r.clientCpuMs.toFixed(0)} ms; machine busy ${(r.machineBusy * 100).toFixed(0)}%, of which other processes ${(Math.max(0, r.foreignBusy) * 100).toFixed(0)}%`,
    counts
      ? `Durable Object requests per tool call: ${OBJECT_CLASSES.map((name) => `${name} ${counts[name].toFixed(3)}`).join(", ")} ` +
        `(the whole client life: connect and list included; metrics batched per 200 ms window)`
      : `Durable Object requests per tool call: n/a (${r.steps.call.done === 0 ? "no tool call succeeded" : "no counters on this service"})`,
    `\nAim of suite mcp-clients: all ${r.clients} clients served -> ${r.failed === 0 ? "met" : `MISSED (${r.failed} failed)`}`,
  ];
  if (r.errors.length > 0) {
    lines.push(`failures (${Math.min(SHOWN_FAILURES, r.errors.length)} most frequent of ${r.errors.length} distinct):`);
    for (const { message, count } of r.errors.slice(0, SHOWN_FAILURES)) lines.push(`  ${String(count).padStart(5)}x ${message}`);
  }
  return lines;
}
