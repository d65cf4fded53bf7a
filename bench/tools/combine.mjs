// Combines several `npm run bench -- --json <file>` results into one table (markdown, for docs/benchmarks.md):
// medians across runs of each figure, and medians of the within-run ratios against the baseline (a ratio is
// only meaningful inside one run, where both sides saw the same machine), with their min–max across runs.
//
//   node bench/tools/combine.mjs run1.json run2.json run3.json [--text]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { median } from "../lib/stats.mjs";
import { markdownTable, ms, rate, ratio, textTable } from "../lib/table.mjs";

const { values: flags, positionals: files } = parseArgs({ options: { text: { type: "boolean", default: false } }, allowPositionals: true });
if (files.length === 0) throw new Error("usage: node bench/tools/combine.mjs <run.json>... [--text]");

const runs = files.map((file) => JSON.parse(readFileSync(file, "utf8")));
/** @type {Map<string, any[]>} */
const groups = new Map();
for (const run of runs) {
  for (const result of run.results) {
    const key = `${result.suite}\u0000${result.concurrency}\u0000${result.target}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)?.push(result);
  }
}

const span = (values) => {
  const finite = values.filter(Number.isFinite);
  return finite.length > 1 ? `${ratio(Math.min(...finite))}–${ratio(Math.max(...finite))}` : "-";
};
const header = ["suite", "conc", "target", "runs", "p50 ms", "p99 ms", "calls/s", "p50 ÷ base", "(runs)", "base calls/s ÷", "(runs)", "srv CPU ms/call", "others busy"];
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
    `${Math.round(100 * Math.max(0, median(pick("foreignBusy"))))}%`,
  ];
});
const align = /** @type {("l"|"r")[]} */ (["l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"]);
console.log((flags.text ? textTable : markdownTable)(header, rows, align));
console.log("");
for (const run of runs) {
  const { meta, options } = run;
  console.log(
    `- ${meta.date} commit ${meta.commit}${meta.code === "head" ? "" : meta.dirty ? " + uncommitted changes" : ""}: ${options.rounds} rounds x ${options.requests} calls, ` +
      `client ${options.client}, load avg ${meta.loadavgStart?.[0]} -> ${meta.loadavgEnd?.[0]}`,
  );
}
