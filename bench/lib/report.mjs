// Run metadata and the side-by-side tables printed at the end of `npm run bench`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { OBJECT_CLASSES } from "./object-requests.mjs";
import { markdownTable, ms, rate, ratio, textTable } from "./table.mjs";

/** Versions and machine facts, recorded with every run. */
export function runMeta(root) {
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
    } catch {
      return "unknown";
    }
  };
  const run = (file, args) => {
    try {
      return execFileSync(file, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 15_000 }).trim();
    } catch {
      return "unknown";
    }
  };
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    commit: run("git", ["rev-parse", "--short", "HEAD"]),
    dirty: run("git", ["status", "--porcelain", "--untracked-files=no", "--", "src", "durable-objects", "wrangler.toml", "config"]) !== "",
    node: process.version,
    wrangler: version("wrangler"),
    miniflare: version("miniflare"),
    workerd: run(join(root, "node_modules", ".bin", "workerd"), ["--version"]),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadavgStart: os.loadavg().map((value) => Number(value.toFixed(2))),
  };
}

const HEADER = ["suite", "conc", "target", "p50 ms", "p99 ms", "calls/s", "p50 ÷ base", "base calls/s ÷", "srv CPU ms/call", "p50 range (rounds)"];
const ALIGN = /** @type {("l"|"r")[]} */ (["l", "r", "l", "r", "r", "r", "r", "r", "r", "r"]);

function rows(results) {
  return results.map((r) => [
    r.suite,
    r.concurrency,
    r.isBaseline ? `${r.target} (baseline)` : r.target,
    ms(r.p50),
    ms(r.p99),
    rate(r.callsPerSec),
    r.isBaseline ? "1.00x" : ratio(r.p50Ratio),
    r.isBaseline ? "1.00x" : ratio(r.throughputRatio),
    ms(r.serverCpuMsPerCall),
    `${ms(r.p50Range[0])}–${ms(r.p50Range[1])}`,
  ]);
}

export function resultsTable(results, markdown = false) {
  return (markdown ? markdownTable : textTable)(HEADER, rows(results), ALIGN);
}

/** The ratios a suite's aim applies to (bench/lib/suite.mjs `aimOn`). */
export function aimRatios(suite) {
  if (Array.isArray(suite.aimOn)) return suite.aimOn;
  return suite.aimOn === "p50" ? ["p50"] : ["p50", "throughput"];
}

const RATIO_LABEL = { p50: "p50", throughput: "calls/s", cpu: "workerd CPU per call" };
const RATIO_KEY = { p50: "p50Ratio", throughput: "throughputRatio", cpu: "cpuRatio" };

/** What the aim applies to, in words: "p50 and calls/s". */
export const aimScope = (suite) => aimRatios(suite).map((name) => RATIO_LABEL[name]).join(" and ");

/**
 * One line per checked target: every ratio it has (workerd CPU only where both sides name their server), and
 * whether the ones the aim applies to are all within it. A ratio the aim needs but the run could not measure
 * (no /proc) is "n/a", never a pass.
 */
export function aimLines(suite, results) {
  if (!suite.aim) return [];
  const checked = aimRatios(suite);
  return results
    .filter((r) => r.checkedAgainstAim)
    .map((r) => {
      const shown = ["p50", "throughput", ...(checked.includes("cpu") || Number.isFinite(r.cpuRatio) ? ["cpu"] : [])];
      const figures = shown.map((name) => `${name === "throughput" ? "throughput" : RATIO_LABEL[name]} ${ratio(r[RATIO_KEY[name]])}`).join(", ");
      const values = checked.map((name) => r[RATIO_KEY[name]]);
      const verdict = values.some((value) => !Number.isFinite(value)) ? "n/a (a ratio is missing)" : Math.max(...values) <= suite.aim ? "within aim" : "MISSES aim";
      return `  ${r.target.padEnd(10)} c=${String(r.concurrency).padEnd(3)} ${figures} of baseline -> ${verdict} (<= ${suite.aim.toFixed(2)}x)`;
    });
}

const perCallFigure = (value) => (Number.isFinite(value) ? (value === 0 ? "0" : value.toFixed(3)) : "-");

/**
 * Durable Object requests per call of every target whose server is an instance of the service (its counters),
 * as a table, or nothing when no target has them. The session's own object is shown for reference; the aim is 0
 * requests to any other object in steady state. Metrics are batched per isolate per 200 ms window, so a small
 * figure there is expected: metrics/s shows the flush rate (about 5/s at most).
 */
export function objectRequestTable(results, markdown = false) {
  const counted = results.filter((r) => r.objectRequestsPerCall);
  if (counted.length === 0) return "";
  const header = ["suite", "conc", "target", ...OBJECT_CLASSES.map((name) => `${name}/call`), "metrics/s", "other objects"];
  const rows = counted.map((r) => {
    const counts = r.objectRequestsPerCall;
    return [
      r.suite,
      r.concurrency,
      r.target,
      ...OBJECT_CLASSES.map((name) => perCallFigure(counts[name])),
      Number.isFinite(r.metricsRequestsPerSec) ? r.metricsRequestsPerSec.toFixed(1) : "-",
      counts.upstream > 0 || counts.agent > 0 ? "REACHED (upstream/agent)" : "none beyond metrics",
    ];
  });
  const align = /** @type {("l"|"r")[]} */ (["l", "r", "l", "r", "r", "r", "r", "r", "l"]);
  return (markdown ? markdownTable : textTable)(header, rows, align);
}

/** The line under the object-request table. */
export const OBJECT_REQUESTS_NOTE =
  "Requests per call that reached each Durable Object class (the service's per-isolate counters, read before and after each measured batch; " +
  "under wrangler dev one isolate serves the Worker and every object, so they are the server's). Aim: 0 beyond the session's own object. " +
  "metrics: batched per isolate per 200 ms window, so a small nonzero figure is expected (one flush per window: about 5 requests/s over a long batch; a short batch rounds up).";

/** Server CPU per call split by process (wrangler's Node process vs workerd). */
export function cpuLines(results) {
  return results.map((r) => {
    const parts = Object.entries(r.serverCpuMsPerCallByCommand ?? {})
      .filter(([, value]) => value > 0.001)
      .sort((a, b) => b[1] - a[1])
      .map(([command, value]) => `${command} ${value.toFixed(3)}`)
      .join(", ");
    const own = r.server && Number.isFinite(r.ownCpuMsPerCall) ? ` [own server ${r.server}: ${ms(r.ownCpuMsPerCall)}, workerd ${ms(r.ownWorkerdCpuMsPerCall)}]` : "";
    return `  ${r.suite} c=${r.concurrency} ${r.target.padEnd(12)} server ${ms(r.serverCpuMsPerCall)} ms/call (${parts || "n/a"})${own}; load generator ${ms(r.clientCpuMsPerCall)} ms/call; machine busy ${(r.machineBusy * 100).toFixed(0)}%, of which other processes ${(Math.max(0, r.foreignBusy) * 100).toFixed(0)}%`;
  });
}
