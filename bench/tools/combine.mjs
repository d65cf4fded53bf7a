// Combines several `npm run bench -- --json <file>` results into one table (markdown, for docs/benchmarks.md):
// medians across runs of each figure, and medians of the within-run ratios against the baseline (a ratio is
// only meaningful inside one run, where both sides saw the same machine), with their min–max across runs.
// Also carried: the workerd-CPU ratio of suites with a CPU aim, the Durable Object requests per call
// (session/upstream/agent/metrics) and, in a table of its own, the mcp-clients suite's figures.
//
//   node bench/tools/combine.mjs run1.json run2.json run3.json [--text]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { OBJECT_CLASSES } from "../lib/object-requests.mjs";
import { median } from "../lib/stats.mjs";
import { markdownTable, ms, rate, ratio, textTable } from "../lib/table.mjs";

const { values: flags, positionals: files } = parseArgs({ options: { text: { type: "boolean", default: false } }, allowPositionals: true });
if (files.length === 0) throw new Error("usage: node bench/tools/combine.mjs <run.json>... [--text]");

const runs = files.map((file) => JSON.parse(readFileSync(file, "utf8")));
/** @type {Map<string, any[]>} */
const groups = new Map();
/** @type {Map<string, any[]>} results of suites that measure themselves (kind "clients": mcp-clients) */
const clientRuns = new Map();
for (const run of runs) {
  for (const result of run.results) {
    if (result.kind === "clients") {
      const key = `${result.suite}\u0000${result.clients}`;
      if (!clientRuns.has(key)) clientRuns.set(key, []);
      clientRuns.get(key)?.push(result);
      continue;
    }
    const key = `${result.suite}\u0000${result.concurrency}\u0000${result.target}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)?.push(result);
  }
}

const span = (values) => {
  const finite = values.filter(Number.isFinite);
  return finite.length > 1 ? `${ratio(Math.min(...finite))}–${ratio(Math.max(...finite))}` : "-";
};
/** Median requests per call of each object class across runs, "session/upstream/agent/metrics"; "-" without counters. */
const objectRequests = (results) => {
  const counted = results.map((result) => result.objectRequestsPerCall).filter(Boolean);
  if (counted.length === 0) return "-";
  return OBJECT_CLASSES.map((name) => {
    const value = median(counted.map((counts) => counts[name]));
    return value === 0 ? "0" : value.toFixed(value >= 0.1 ? 2 : 3);
  }).join("/");
};
const header = [
  "suite", "conc", "target", "runs", "p50 ms", "p99 ms", "calls/s", "p50 ÷ base", "(runs)", "base calls/s ÷", "(runs)",
  "srv CPU ms/call", "workerd CPU ÷ base", "(runs)", "DO req/call s/u/a/m", "others busy",
];
const rows = [...groups.values()].map((results) => {
  const first = results[0];
  const pick = (key) => results.map((result) => result[key]);
  return [
    first.suite,
    first.concurrency,
    first.isBaseline ? `${first.target} (baseline)` : first.target,
    results.length,
    ms(median(pick("p50"))),
    ms(median(pick("p99"))),
    rate(median(pick("callsPerSec"))),
    first.isBaseline ? "1.00x" : ratio(median(pick("p50Ratio"))),
    first.isBaseline ? "" : span(pick("p50Ratio")),
    first.isBaseline ? "1.00x" : ratio(median(pick("throughputRatio"))),
    first.isBaseline ? "" : span(pick("throughputRatio")),
    ms(median(pick("serverCpuMsPerCall"))),
    // Runs written before the CPU ratio existed have none: "-" (JSON turns NaN into null, which median skips).
    first.isBaseline ? (Number.isFinite(median(pick("ownWorkerdCpuMsPerCall"))) ? "1.00x" : "-") : ratio(median(pick("cpuRatio"))),
    first.isBaseline ? "" : span(pick("cpuRatio")),
    objectRequests(results),
    `${Math.round(100 * Math.max(0, median(pick("foreignBusy"))))}%`,
  ];
});
const align = /** @type {("l"|"r")[]} */ (["l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"]);
console.log((flags.text ? textTable : markdownTable)(header, rows, align));
if (clientRuns.size > 0) {
  const step = (results, name, key) => ms(median(results.map((result) => result.steps?.[name]?.[key])));
  const clientRows = [...clientRuns.values()].map((results) => [
    results[0].suite,
    results[0].clients,
    results.length,
    // Per run, so a single bad run shows: "1000, 1000, 968".
    results.map((result) => `${result.succeeded}/${result.clients}`).join(", "),
    ms(median(results.map((result) => result.wallMs / 1000))),
    ...["connect", "list", "call"].flatMap((name) => [step(results, name, "p50"), step(results, name, "p99")]),
    ms(median(results.map((result) => result.serverCpuMsPerClient))),
  ]);
  console.log("");
  console.log(
    (flags.text ? textTable : markdownTable)(
      ["suite", "clients", "runs", "served (per run)", "wall s", "connect p50", "p99", "list p50", "p99", "call p50", "p99", "srv CPU ms/client"],
      clientRows,
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    ),
  );
}
console.log("");
for (const run of runs) {
  const { meta, options } = run;
  console.log(
    `- ${meta.date} commit ${meta.commit}${meta.code === "head" ? "" : meta.dirty ? " + uncommitted changes" : ""}: ${options.rounds} rounds x ${options.requests} calls, ` +
      `client ${options.client}, load avg ${meta.loadavgStart?.[0]} -> ${meta.loadavgEnd?.[0]}`,
  );
}
