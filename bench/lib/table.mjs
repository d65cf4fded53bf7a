// Plain-text tables for stdout (and the markdown variant used in docs/benchmarks.md).

/** @param {string[]} header @param {(string|number)[][]} rows @param {("l"|"r")[]} [align] */
export function textTable(header, rows, align = []) {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => width(row[column] ?? ""))));
  const line = (row) =>
    row.map((cell, column) => (align[column] === "l" ? padEnd(cell, widths[column]) : padStart(cell, widths[column]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** @param {string[]} header @param {(string|number)[][]} rows @param {("l"|"r")[]} [align] */
export function markdownTable(header, rows, align = []) {
  const rule = header.map((_, column) => (align[column] === "l" ? ":--" : "--:"));
  return [header, rule, ...rows.map((row) => row.map(String))].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

// East Asian wide characters would misalign columns; the bench only prints ASCII, so length is the width.
const width = (text) => text.length;
const padEnd = (text, size) => text + " ".repeat(Math.max(0, size - width(text)));
const padStart = (text, size) => " ".repeat(Math.max(0, size - width(text))) + text;

export const ms = (value) => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) : "-");
export const rate = (value) => (Number.isFinite(value) ? value.toFixed(0) : "-");
export const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "-");
