// Statistics for the bench: nearest-rank percentiles, medians across rounds.

/** Nearest-rank percentile of an ascending-sorted array (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/**
 * Summary of one measured batch.
 * @param {ArrayLike<number>} latenciesMs
 * @param {number} elapsedMs wall time of the whole batch
 */
export function summarise(latenciesMs, elapsedMs) {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: sum / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    callsPerSec: sorted.length / (elapsedMs / 1000),
    elapsedMs,
  };
}

/** Medians across rounds of each figure, plus the spread (min..max across rounds) of p50 and calls/s. */
export function acrossRounds(rounds) {
  const pick = (key) => rounds.map((round) => round[key]);
  return {
    rounds: rounds.length,
    p50: median(pick("p50")),
    p90: median(pick("p90")),
    p99: median(pick("p99")),
    mean: median(pick("mean")),
    callsPerSec: median(pick("callsPerSec")),
    p50Range: [Math.min(...pick("p50")), Math.max(...pick("p50"))],
    callsPerSecRange: [Math.min(...pick("callsPerSec")), Math.max(...pick("callsPerSec"))],
  };
}
