// Run metadata and the side-by-side tables printed at the end of `npm run bench`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
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

/** One line per checked target: within the suite's aim (on both ratios, or on p50 alone if the suite says so), or not. */
export function aimLines(suite, results) {
  if (!suite.aim) return [];
  return results
    .filter((r) => r.checkedAgainstAim)
    .map((r) => {
      const worst = suite.aimOn === "p50" ? r.p50Ratio : Math.max(r.p50Ratio, r.throughputRatio);
      const verdict = worst <= suite.aim ? "within aim" : "MISSES aim";
      return `  ${r.target.padEnd(10)} c=${String(r.concurrency).padEnd(3)} p50 ${ratio(r.p50Ratio)}, throughput ${ratio(r.throughputRatio)} of baseline -> ${verdict} (<= ${suite.aim.toFixed(2)}x)`;
    });
}

/** Server CPU per call split by process (wrangler's Node process vs workerd). */
export function cpuLines(results) {
  return results.map((r) => {
    const parts = Object.entries(r.serverCpuMsPerCallByCommand ?? {})
      .filter(([, value]) => value > 0.001)
      .sort((a, b) => b[1] - a[1])
      .map(([command, value]) => `${command} ${value.toFixed(3)}`)
      .join(", ");
    return `  ${r.suite} c=${r.concurrency} ${r.target.padEnd(12)} server ${ms(r.serverCpuMsPerCall)} ms/call (${parts || "n/a"}); load generator ${ms(r.clientCpuMsPerCall)} ms/call; machine busy ${(r.machineBusy * 100).toFixed(0)}%, of which other processes ${(Math.max(0, r.foreignBusy) * 100).toFixed(0)}%`;
  });
}
