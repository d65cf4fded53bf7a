/**
 * Scraping `/metrics` from tests: a strict parser of the Prometheus text format (any malformed line fails the
 * test) and lookups by metric name and exact label set.
 */
import { call } from "../support/api";
import { waitFor } from "../support/wait";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  text: string;
  samples: Sample[];
  types: Map<string, string>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP \S+ .+$/.test(line)) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? "";
    LABEL_PAIR.lastIndex = 0;
    while (LABEL_PAIR.lastIndex < body.length) {
      const pair = LABEL_PAIR.exec(body);
      if (!pair) throw new Error(`bad labels in: ${line}`);
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    const value = match[3] === "+Inf" ? Infinity : Number(match[3]);
    if (Number.isNaN(value)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return { text, samples, types };
}

/** The value of the sample with exactly these labels; 0 when absent (a counter not yet incremented). */
export function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = find(scrape, name, labels);
  return found?.value ?? 0;
}

export function find(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample | undefined {
  const wanted = Object.entries(labels);
  return scrape.samples.find(
    (sample) => sample.name === name && Object.keys(sample.labels).length === wanted.length && wanted.every(([k, v]) => sample.labels[k] === v),
  );
}

/** Every sample of a metric name. */
export function series(scrape: Scrape, name: string): Sample[] {
  return scrape.samples.filter((sample) => sample.name === name);
}

export function sum(scrape: Scrape, name: string, where: (labels: Record<string, string>) => boolean = () => true): number {
  return series(scrape, name)
    .filter((sample) => where(sample.labels))
    .reduce((total, sample) => total + sample.value, 0);
}

export async function scrape(token = "test-token-1"): Promise<Scrape> {
  const response = await call("/metrics", { token });
  if (response.status !== 200) throw new Error(`scrape failed: ${response.status} ${JSON.stringify(response.body)}`);
  return parsePrometheus(String(response.body));
}

/**
 * Metrics are written after the response (waitUntil): scrape until `ready` holds, then the caller asserts
 * exact values on that scrape.
 */
export function scrapeUntil(ready: (scrape: Scrape) => boolean, label: string, timeoutMs = 10_000): Promise<Scrape> {
  return waitFor(async () => {
    const current = await scrape();
    return ready(current) ? current : undefined;
  }, timeoutMs, label);
}
