// The suite interface and the runner that measures a suite's targets in interleaved rounds.
//
// A suite is a module in bench/suites/*.mjs whose default export is a {@link Suite}: a setup function that
// starts (or reuses) what it needs through the {@link BenchContext} and returns named targets. A target is one
// async call (`callOnce(conn)`), or, for stateful transports such as WebSockets, a `connect(conn)` that opens
// one connection and returns its `callOnce`. The runner owns everything else: concurrency, warm-up, rounds,
// statistics and ratios against the suite's baseline target.
import { performance } from "node:perf_hooks";
import { cpuDelta, groupCpu, machineTicks } from "./cpu.mjs";
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
 * @property {"p50" | "both"} [aimOn] which ratios the aim applies to (default both: p50 and calls/s)
 * @property {(results: any[]) => string[]} [notes] extra lines printed under the suite's aim (e.g. what
 *   bounds the achievable ratio on this machine)
 * @property {number[]} [concurrency] overrides `--concurrency` for this suite
 * @property {(ctx: import("./context.mjs").BenchContext) => Promise<string | null>} [unavailable] a reason
 *   why the suite cannot run in this tree (e.g. a feature not merged yet), or null
 * @property {(ctx: import("./context.mjs").BenchContext) => Promise<SuiteSetup>} setup
 *
 * @typedef {object} RunOptions
 * @property {number[]} concurrency
 * @property {number} rounds
 * @property {number} requests measured calls per target, per concurrency level and round
 * @property {number} warmup unmeasured calls before every measured batch (4x before the first round)
 * @property {number} deadline epoch ms after which the run aborts
 * @property {boolean} keepLatencies keep every latency in the results (for --json)
 * @property {() => number[]} serverGroups process groups of the running servers (CPU accounting)
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
        const groups = options.serverGroups();
        const cpuBefore = groupCpu(groups);
        const clientBefore = process.cpuUsage();
        const machineBefore = machineTicks();
        const batch = await runBatch(target, concurrency, options.requests, options.deadline);
        const clientCpu = process.cpuUsage(clientBefore);
        const machineAfter = machineTicks();
        const serverCpu = cpuDelta(cpuBefore, groupCpu(groups));
        const serverTotal = Object.values(serverCpu).reduce((sum, value) => sum + value, 0);
        const summary = {
          ...summarise(batch.latencies, batch.elapsedMs),
          // CPU ms per call in all wrangler dev process groups (only the target's server is busy during its batch).
          serverCpuMsPerCall: serverTotal / options.requests,
          serverCpuMsPerCallByCommand: Object.fromEntries(Object.entries(serverCpu).map(([command, value]) => [command, value / options.requests])),
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
        perTarget.get(target.name)?.push(summary);
        if (options.keepLatencies) raw.get(target.name)?.push(batch.latencies);
        options.progress(
          `  ${suite.name} c=${concurrency} round ${round + 1}/${options.rounds} ${target.name.padEnd(14)} ` +
            `p50 ${summary.p50.toFixed(2)} ms  p99 ${summary.p99.toFixed(2)} ms  ${summary.callsPerSec.toFixed(0).padStart(5)} calls/s  ` +
            `server CPU ${summary.serverCpuMsPerCall.toFixed(2)} ms/call  busy ${(summary.machineBusy * 100).toFixed(0)}% (others ${(Math.max(0, summary.foreignBusy) * 100).toFixed(0)}%)`,
        );
      }
    }
    const base = acrossRounds(perTarget.get(setup.baseline) ?? []);
    for (const target of setup.targets) {
      const rounds = perTarget.get(target.name) ?? [];
      const figures = acrossRounds(rounds);
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
        machineBusy: median(rounds.map((round) => round.machineBusy)),
        foreignBusy: median(rounds.map((round) => round.foreignBusy)),
        // Both ratios read "times slower than the baseline": 1.00x = as fast, the aim is <= suite.aim.
        p50Ratio: figures.p50 / base.p50,
        p99Ratio: figures.p99 / base.p99,
        throughputRatio: base.callsPerSec / figures.callsPerSec,
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
