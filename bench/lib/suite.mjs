// The suite interface and the runner that measures a suite's targets in interleaved rounds.
//
// A suite is a module in bench/suites/*.mjs whose default export is a {@link Suite}: a setup function that
// starts (or reuses) what it needs through the {@link BenchContext} and returns named targets. A target is one
// async call (`callOnce(conn)`), or, for stateful transports such as WebSockets, a `connect(conn)` that opens
// one connection and returns its `callOnce`. The runner owns everything else: concurrency, warm-up, rounds,
// statistics and ratios against the suite's baseline target.
//
// A suite whose measurement is not "calls of a target" (e.g. mcp-clients: many clients at once, once) has a
// `run(ctx, options)` instead of `setup`: it measures itself and returns its results and the lines to print.
import { performance } from "node:perf_hooks";
import { cpuDelta, groupCpuByGroup, machineTicks } from "./cpu.mjs";
import { perCall } from "./object-requests.mjs";
import { acrossRounds, median, summarise } from "./stats.mjs";

/**
 * @typedef {object} Connection
 * @property {() => Promise<void>} callOnce one call on this connection; throws on a wrong reply
 * @property {() => (Promise<void> | void)} [close]
 *
 * @typedef {object} Target
 * @property {string} name short id, unique within the suite (e.g. "rest")
 * @property {string} description what one call does, for the docs and `--list`
 * @property {(conn: number) => Promise<void>} [callOnce] one call from load-generator connection `conn`
 *   (0 .. concurrency-1); HTTP targets use it, keep-alive sockets come from a shared pool
 * @property {(conn: number) => Promise<Connection>} [connect] used instead of callOnce when present: opened
 *   before each measured batch (not timed) and closed after it
 * @property {string} [server] name of the bench server the calls go to (a `ctx.started()` name such as
 *   "service", "proxy"; clients from `ctx.client` carry it as `client.server`): its own CPU per call is reported
 *   (and compared with the baseline's, for a CPU aim), and for an instance of the service its Durable Object
 *   request counters are read around every measured batch. Absent: neither (e.g. a server in this process).
 *
 * @typedef {object} SuiteSetup
 * @property {Target[]} targets measured in this order, rotated every round
 * @property {string} baseline name of the target the ratios are computed against
 * @property {string[]} [aimTargets] targets whose ratios are checked against `suite.aim`
 * @property {() => Promise<void>} [teardown]
 *
 * @typedef {object} Suite
 * @property {string} name
 * @property {string} description
 * @property {boolean} [optIn] left out of the default run; runs with `--suite <name>` or `--suite all`
 * @property {number} [aim] largest acceptable ratio against the baseline (e.g. 1.25)
 * @property {"p50" | "both" | AimRatio[]} [aimOn] which ratios the aim applies to (default "both": p50 and
 *   calls/s); a list picks any of them, e.g. ["p50", "cpu"]
 * @property {(results: any[]) => string[]} [notes] extra lines printed under the suite's aim (e.g. what
 *   bounds the achievable ratio on this machine)
 * @property {number[]} [concurrency] overrides `--concurrency` for this suite
 * @property {(ctx: import("./context.mjs").BenchContext) => Promise<string | null>} [unavailable] a reason
 *   why the suite cannot run in this tree (e.g. a feature not merged yet), or null
 * @property {(ctx: import("./context.mjs").BenchContext) => Promise<SuiteSetup>} [setup] per-call suites
 * @property {(ctx: import("./context.mjs").BenchContext, options: RunOptions) => Promise<OwnRun>} [run] instead of
 *   `setup`, for a suite that measures something else than calls of targets: the runner hands it the run's
 *   options (deadline, servers, counters) and prints what it returns
 *
 * @typedef {"p50" | "throughput" | "cpu"} AimRatio "cpu": the workerd CPU per call of the target's own server
 *   against the baseline target's (both targets need `server`)
 *
 * @typedef {object} OwnRun
 * @property {object[]} results written to --json as they are (each with `suite` and a `kind`)
 * @property {string[]} lines printed under the run's results
 * @property {string} [failure] set when the suite's own aim failed: reported like a failed suite (exit code 1)
 *
 * @typedef {object} RunOptions
 * @property {number[]} concurrency
 * @property {number} rounds
 * @property {number} requests measured calls per target, per concurrency level and round
 * @property {number} warmup unmeasured calls before every measured batch (4x before the first round)
 * @property {number} deadline epoch ms after which the run aborts
 * @property {boolean} keepLatencies keep every latency in the results (for --json)
 * @property {() => { name: string, pid: number }[]} servers the running servers (their process groups: CPU)
 * @property {(server: string) => Promise<import("./object-requests.mjs").ObjectCounts | null>} [objectRequests]
 *   a service instance's Durable Object request counters (null for other servers)
 * @property {(line: string) => void} progress
 */

/**
 * Runs `requests` calls at `concurrency` and times each one. Any failed call aborts the run: a benchmark of
 * failing calls measures nothing.
 * @param {Target} target
 */
export async function runBatch(target, concurrency, requests, deadline) {
  /** @type {Connection[]} */
  const connections = [];
  try {
    for (let conn = 0; conn < concurrency; conn++) {
      connections.push(target.connect ? await target.connect(conn) : { callOnce: () => /** @type {any} */ (target).callOnce(conn) });
    }
    const latencies = new Float64Array(requests);
    let next = 0;
    let failed = false;
    const worker = async (connection) => {
      for (;;) {
        const index = next++;
        if (index >= requests || failed) return;
        if (Date.now() > deadline) {
          failed = true;
          throw new Error("time budget exceeded (raise --max-seconds or use --quick)");
        }
        const started = performance.now();
        try {
          await connection.callOnce();
        } catch (error) {
          failed = true; // the other connections stop at their next call
          throw error;
        }
        latencies[index] = performance.now() - started;
      }
    };
    const started = performance.now();
    await Promise.all(connections.map(worker));
    return { latencies, elapsedMs: performance.now() - started };
  } catch (error) {
    throw new Error(`${target.name} (concurrency ${concurrency}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await Promise.all(connections.map((connection) => connection.close?.()));
  }
}

/**
 * Measures every target of a set-up suite: for each concurrency level, `rounds` rounds; in each round every
 * target runs once (order rotated per round: A,B,C then B,C,A …), so a machine hiccup hits one round of
 * every target rather than all rounds of one. Figures are medians across rounds.
 * @param {Suite} suite
 * @param {SuiteSetup} setup
 * @param {RunOptions} options
 */
export async function measureSuite(suite, setup, options) {
  const levels = suite.concurrency ?? options.concurrency;
  const results = [];
  for (const concurrency of levels) {
    /** @type {Map<string, any[]>} */
    const perTarget = new Map(setup.targets.map((target) => [target.name, []]));
    /** @type {Map<string, Float64Array[]>} */
    const raw = new Map(setup.targets.map((target) => [target.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      const shift = round % setup.targets.length;
      const order = [...setup.targets.slice(shift), ...setup.targets.slice(0, shift)];
      for (const target of order) {
        const warmup = round === 0 ? options.warmup * 4 : options.warmup;
        if (warmup > 0) await runBatch(target, concurrency, warmup, options.deadline);
        const servers = options.servers();
        const own = servers.find((server) => server.name === target.server);
        // Counters are read outside the CPU window: the reading is a request of its own.
        const countersBefore = own ? await options.objectRequests?.(own.name) : null;
        const cpuBefore = groupCpuByGroup(servers.map((server) => server.pid));
        const clientBefore = process.cpuUsage();
        const machineBefore = machineTicks();
        const batch = await runBatch(target, concurrency, options.requests, options.deadline);
        const clientCpu = process.cpuUsage(clientBefore);
        const machineAfter = machineTicks();
        const cpuAfter = groupCpuByGroup(servers.map((server) => server.pid));
        const countersAfter = countersBefore ? await options.objectRequests?.(/** @type {any} */ (own).name) : null;
        /** @type {Record<string, number>} */
        const serverCpu = {};
        for (const server of servers) {
          for (const [command, ms] of Object.entries(cpuDelta(cpuBefore.get(server.pid) ?? {}, cpuAfter.get(server.pid) ?? {}))) {
            serverCpu[command] = (serverCpu[command] ?? 0) + ms;
          }
        }
        const ownCpu = own ? cpuDelta(cpuBefore.get(own.pid) ?? {}, cpuAfter.get(own.pid) ?? {}) : null;
        const serverTotal = Object.values(serverCpu).reduce((sum, value) => sum + value, 0);
        const objectRequests = perCall(countersBefore, countersAfter, options.requests);
        const summary = {
          ...summarise(batch.latencies, batch.elapsedMs),
          // CPU ms per call in all wrangler dev process groups (only the target's server is busy during its batch).
          serverCpuMsPerCall: serverTotal / options.requests,
          serverCpuMsPerCallByCommand: Object.fromEntries(Object.entries(serverCpu).map(([command, value]) => [command, value / options.requests])),
          // The same for the target's own server alone, and its workerd processes alone: what a CPU aim compares
          // (the proxy's workerd against the service's; an upstream in this process's group is in neither).
          ownCpuMsPerCall: ownCpu ? Object.values(ownCpu).reduce((sum, value) => sum + value, 0) / options.requests : Number.NaN,
          ownWorkerdCpuMsPerCall: ownCpu ? (ownCpu.workerd ?? 0) / options.requests : Number.NaN,
          // Durable Object requests per call, by class (null unless the target's server is a service instance).
          objectRequestsPerCall: objectRequests,
          // Metrics object requests per second of the batch: batched per isolate per 200 ms window, so about 5/s.
          metricsRequestsPerSec: objectRequests ? (objectRequests.metrics * options.requests) / (batch.elapsedMs / 1000) : Number.NaN,
          // CPU ms per call of the bench process itself (load generator, on the same cores).
          clientCpuMsPerCall: (clientCpu.user + clientCpu.system) / 1000 / options.requests,
          // Share of all cores busy during the batch (anything on the machine, other engineers' tests included).
          machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
          // Share of all cores used by processes that are neither the bench nor its servers (jiffies are 10 ms).
          foreignBusy:
            (machineAfter.busy - machineBefore.busy - serverTotal / 10 - (clientCpu.user + clientCpu.system) / 10_000) /
            (machineAfter.total - machineBefore.total),
        };
        // A process of a server group that exits mid-batch (a runtime restart) makes its CPU delta negative.
        if (Object.values(serverCpu).some((value) => value < 0)) summary.serverCpuMsPerCall = Number.NaN;
        if (ownCpu && Object.values(ownCpu).some((value) => value < 0)) summary.ownCpuMsPerCall = summary.ownWorkerdCpuMsPerCall = Number.NaN;
        perTarget.get(target.name)?.push(summary);
        if (options.keepLatencies) raw.get(target.name)?.push(batch.latencies);
        options.progress(
          `  ${suite.name} c=${concurrency} round ${round + 1}/${options.rounds} ${target.name.padEnd(14)} ` +
            `p50 ${summary.p50.toFixed(2)} ms  p99 ${summary.p99.toFixed(2)} ms  ${summary.callsPerSec.toFixed(0).padStart(5)} calls/s  ` +
            `server CPU ${summary.serverCpuMsPerCall.toFixed(2)} ms/call${own ? ` (${own.name} workerd ${summary.ownWorkerdCpuMsPerCall.toFixed(2)})` : ""}  busy ${(summary.machineBusy * 100).toFixed(0)}% (others ${(Math.max(0, summary.foreignBusy) * 100).toFixed(0)}%)`,
        );
      }
    }
    const baseRounds = perTarget.get(setup.baseline) ?? [];
    const base = acrossRounds(baseRounds);
    const baseWorkerd = median(baseRounds.map((round) => round.ownWorkerdCpuMsPerCall));
    for (const target of setup.targets) {
      const rounds = perTarget.get(target.name) ?? [];
      const figures = acrossRounds(rounds);
      const ownWorkerd = median(rounds.map((round) => round.ownWorkerdCpuMsPerCall));
      const counted = rounds.every((round) => round.objectRequestsPerCall) && rounds.length > 0;
      results.push({
        suite: suite.name,
        target: target.name,
        description: target.description,
        concurrency,
        isBaseline: target.name === setup.baseline,
        checkedAgainstAim: (setup.aimTargets ?? []).includes(target.name),
        ...figures,
        serverCpuMsPerCall: median(rounds.map((round) => round.serverCpuMsPerCall)),
        serverCpuMsPerCallByCommand: medianByKey(rounds.map((round) => round.serverCpuMsPerCallByCommand)),
        clientCpuMsPerCall: median(rounds.map((round) => round.clientCpuMsPerCall)),
        server: target.server ?? null,
        ownCpuMsPerCall: median(rounds.map((round) => round.ownCpuMsPerCall)),
        ownWorkerdCpuMsPerCall: ownWorkerd,
        objectRequestsPerCall: counted ? medianByKey(rounds.map((round) => round.objectRequestsPerCall)) : null,
        metricsRequestsPerSec: median(rounds.map((round) => round.metricsRequestsPerSec)),
        machineBusy: median(rounds.map((round) => round.machineBusy)),
        foreignBusy: median(rounds.map((round) => round.foreignBusy)),
        // Both ratios read "times slower than the baseline": 1.00x = as fast, the aim is <= suite.aim.
        p50Ratio: figures.p50 / base.p50,
        p99Ratio: figures.p99 / base.p99,
        throughputRatio: base.callsPerSec / figures.callsPerSec,
        // workerd CPU per call of the target's own server against the baseline target's (NaN without both).
        cpuRatio: ownWorkerd / baseWorkerd,
        perRound: rounds,
        ...(options.keepLatencies ? { latenciesMs: (raw.get(target.name) ?? []).map((batch) => Array.from(batch, (v) => Math.round(v * 1000) / 1000)) } : {}),
      });
    }
  }
  return results;
}

/** Per-key medians of a list of records. */
function medianByKey(records) {
  const keys = new Set(records.flatMap((record) => Object.keys(record)));
  return Object.fromEntries([...keys].map((key) => [key, median(records.map((record) => record[key] ?? 0))]));
}
