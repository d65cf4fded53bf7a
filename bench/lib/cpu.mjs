// CPU accounting from /proc (Linux only; elsewhere every figure is NaN): CPU time used by the process groups
// of the wrangler dev servers (wrangler's Node process, workerd, esbuild), split by command name, and the
// whole machine's busy share. Lets the bench report server-side CPU per call next to latency.
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms used so far by every process whose group is in `pgids`, by command name. */
export function groupCpu(pgids) {
  /** @type {Record<string, number>} */
  const byCommand = {};
  for (const commands of groupCpuByGroup(pgids).values()) {
    for (const [command, ms] of Object.entries(commands)) byCommand[command] = (byCommand[command] ?? 0) + ms;
  }
  return byCommand;
}

/**
 * CPU ms used so far by the processes of each group in `pgids`, by command name, in one pass over /proc: the
 * runner needs both the total of all servers and the share of the one server a target calls (e.g. the proxy's
 * workerd against the service's, whatever the other servers of the run do meanwhile).
 * @param {number[]} pgids
 * @returns {Map<number, Record<string, number>>}
 */
export function groupCpuByGroup(pgids) {
  /** @type {Map<number, Record<string, number>>} */
  const byGroup = new Map(pgids.map((pgid) => [pgid, {}]));
  if (pgids.length === 0) return byGroup;
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return byGroup;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(")");
    const command = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" "); // fields[0] is field 3 (state)
    const commands = byGroup.get(Number(fields[2])); // field 5: pgrp
    if (!commands) continue;
    const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // fields 14, 15: utime, stime
    commands[command] = (commands[command] ?? 0) + ms;
  }
  return byGroup;
}

/** Difference of two {@link groupCpu} snapshots. */
export function cpuDelta(before, after) {
  /** @type {Record<string, number>} */
  const delta = {};
  for (const [command, ms] of Object.entries(after)) delta[command] = ms - (before[command] ?? 0);
  return delta;
}

/** Busy and total jiffies of the whole machine (all cores). */
export function machineTicks() {
  try {
    const [line] = readFileSync("/proc/stat", "utf8").split("\n");
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/**
 * Waits (bounded) until the machine is quiet: all cores together less than `maxBusy` busy over a 3 s window.
 * Resolves the last measured busy share, and whether the machine became quiet in time.
 */
export async function waitForQuiet({ maxBusy = 0.35, timeoutMs = 120_000, log = () => {} }) {
  const deadline = Date.now() + timeoutMs;
  let busy = Number.NaN;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const before = machineTicks();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = machineTicks();
    busy = (after.busy - before.busy) / (after.total - before.total);
    if (!(busy >= maxBusy)) return { quiet: true, busy };
    if (Date.now() > deadline) return { quiet: false, busy };
    if (attempt % 5 === 0) log(`machine ${(busy * 100).toFixed(0)}% busy: waiting for it to calm down (up to ${Math.round((deadline - Date.now()) / 1000)} s more)`);
  }
  return { quiet: false, busy };
}
