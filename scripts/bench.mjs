// `npm run bench`: latency and throughput of the service against a baseline, side by side in one run.
// Benchmarks are not tests: this prints figures (see docs/benchmarks.md); it is not part of `npm test`.
//
//   npm run bench                         all default suites
//   npm run bench -- --quick              short run (fewer rounds and calls)
//   npm run bench -- --suite breakdown    one suite (repeatable, or comma-separated; "all" = every suite)
//   npm run bench -- --json out.json      also write the raw results
//   npm run bench -- --list               list the suites and their targets' descriptions
//   npm run bench -- --suite mcp-clients --clients 1000   opt-in: that many MCP clients at once on /mcp
//
// Suites live in bench/suites/*.mjs, shared helpers in bench/lib/*.mjs (interface: bench/lib/suite.mjs).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createContext } from "../bench/lib/context.mjs";
import { waitForQuiet } from "../bench/lib/cpu.mjs";
import { stopAll } from "../bench/lib/processes.mjs";
import { aimLines, aimScope, cpuLines, OBJECT_REQUESTS_NOTE, objectRequestTable, resultsTable, runMeta } from "../bench/lib/report.mjs";
import { measureSuite } from "../bench/lib/suite.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const { values: flags } = parseArgs({
  options: {
    suite: { type: "string", multiple: true },
    quick: { type: "boolean", default: false },
    concurrency: { type: "string" },
    rounds: { type: "string" },
    requests: { type: "string" },
    warmup: { type: "string" },
    clients: { type: "string" },
    client: { type: "string", default: "http" },
    code: { type: "string", default: "working" },
    "dev-server": { type: "string", default: "api" },
    json: { type: "string" },
    "max-seconds": { type: "string", default: "600" },
    "wait-idle": { type: "string", default: "0" },
    "fixed-ports": { type: "boolean", default: false },
    "keep-temp": { type: "boolean", default: false },
    list: { type: "boolean", default: false },
    markdown: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (flags.help) {
  console.log(`npm run bench -- [options]
  --suite <name>        suite to run (repeatable or comma-separated; "all" = every suite incl. opt-in ones)
  --quick               short run: 3 rounds x 150 calls, 20 warm-up (default 5 x 400, 50 warm-up)
  --concurrency <list>  connections per target, e.g. 1,8 (default 1,8)
  --rounds <n>  --requests <n per round>  --warmup <n per round>
  --clients <n>         mcp-clients suite: MCP clients started at once (default 1000, or BENCH_MCP_CLIENTS)
  --client http|fetch   load-generator HTTP client (default node:http keep-alive agent)
  --code working|head   service code to run: a copy of the working tree (default) or of the last commit;
                        copied at start so edits made during the run do not reload wrangler dev
  --dev-server api|cli  how the workers run locally (default api): "api" = wrangler's dev server API, the
                        engine of \`wrangler dev\`, with the DevTools inspector and the local observability
                        collector detached (X_LOCAL_OBSERVABILITY=true turns the collector back on); "cli" =
                        the \`wrangler dev\` command as \`npm start\` runs it, both attached (every invocation and
                        console.log then also feeds wrangler's development aids: their cost, see docs)
  --json <file>         write meta, options and raw results (per-round figures and latencies)
  --max-seconds <n>     abort a suite's measurement after n seconds (default 600); other suites still run
  --wait-idle <n>       before measuring, wait up to n seconds for the machine to be < 35% busy (default 0)
  --fixed-ports         use 8791 (service), 8792 (baseline), 8793 (profile) instead of free ports
  --keep-temp           keep the temp dir (wrangler logs, local DO state)
  --markdown            print the result tables as markdown too (for docs/benchmarks.md)
  --list                list suites and targets

Every service target also reports the Durable Object requests per call it caused (the service's
diagnostics.object_requests counters, which the bench's service instances enable).`);
  process.exit(0);
}

const int = (text, fallback, name) => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a non-negative integer, got ${text}`);
  return value;
};
const concurrency = (flags.concurrency ?? "1,8").split(",").map((part) => int(part.trim(), 1, "concurrency"));
if (concurrency.some((value) => value < 1 || value > 64)) throw new Error("--concurrency values must be 1..64");
if (!["http", "fetch"].includes(flags.client ?? "")) throw new Error("--client is http or fetch");
if (!["api", "cli"].includes(flags["dev-server"] ?? "")) throw new Error("--dev-server is api or cli");
const options = {
  quick: flags.quick,
  concurrency,
  rounds: Math.max(1, int(flags.rounds, flags.quick ? 3 : 5, "rounds")),
  requests: Math.max(1, int(flags.requests, flags.quick ? 150 : 400, "requests")),
  warmup: int(flags.warmup, flags.quick ? 20 : 50, "warmup"),
  client: flags.client,
  code: flags.code,
  devServer: flags["dev-server"],
  fixedPorts: flags["fixed-ports"],
  maxSeconds: int(flags["max-seconds"], 600, "max-seconds"),
  waitIdle: int(flags["wait-idle"], 0, "wait-idle"),
  clients: Math.max(1, int(flags.clients ?? process.env.BENCH_MCP_CLIENTS, 1000, "clients")),
};

/** @returns {Promise<import("../bench/lib/suite.mjs").Suite[]>} */
async function loadSuites() {
  const dir = join(root, "bench", "suites");
  const files = readdirSync(dir).filter((file) => file.endsWith(".mjs")).sort();
  const suites = [];
  for (const file of files) {
    const suite = (await import(pathToFileURL(join(dir, file)).href)).default;
    if (suite && (typeof suite.setup === "function" || typeof suite.run === "function")) suites.push(suite);
  }
  return suites;
}

/** wrangler's local observability collector: on by default under `wrangler dev`, off in the `api` dev server. */
const localObservability = (kind) => process.env.X_LOCAL_OBSERVABILITY === "true" || (kind === "cli" && process.env.X_LOCAL_OBSERVABILITY !== "false");
const devServerLabel = (kind) =>
  `${kind === "cli" ? "`wrangler dev` (DevTools attached" : "wrangler API (DevTools detached"}, local observability ${localObservability(kind) ? "on" : "off"})`;

const log = (line) => process.stderr.write(`${line}\n`);

async function main() {
  const suites = await loadSuites();
  if (flags.list) {
    for (const suite of suites) console.log(`${suite.name}${suite.optIn ? " (opt-in)" : ""}: ${suite.description}`);
    console.log("(targets are listed with their descriptions in the --json output and in docs/benchmarks.md)");
    return;
  }
  const requested = (flags.suite ?? []).flatMap((entry) => entry.split(",")).map((name) => name.trim()).filter(Boolean);
  const selected = requested.length === 0 ? suites.filter((suite) => !suite.optIn) : requested.includes("all") ? suites : requested.map((name) => {
    const suite = suites.find((candidate) => candidate.name === name);
    if (!suite) throw new Error(`unknown suite "${name}"; available: ${suites.map((s) => s.name).join(", ")}`);
    return suite;
  });

  const meta = { ...runMeta(root), code: options.code, devServer: options.devServer, localObservability: localObservability(options.devServer) };
  const tmp = mkdtempSync(join(os.tmpdir(), "xiaozhi-bench-"));
  const ctx = createContext({ root, tmp, options, log });

  // `npm run` forwards the signal it gets to this process too: the same Ctrl-C arrives twice. Keep the handler
  // installed (a second signal must not kill the process before the servers are stopped).
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping servers …`);
    await ctx.close().catch(() => undefined);
    await stopAll();
    if (!flags["keep-temp"]) rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  log(
    `bench: ${selected.map((s) => s.name).join(", ")} | concurrency ${options.concurrency.join(",")} | ${options.rounds} rounds x ${options.requests} calls ` +
      `(+${options.warmup} warm-up) per target | client ${options.client} | dev server ${options.devServer} | node ${meta.node}, wrangler ${meta.wrangler}, ${meta.workerd}, ${meta.cpus} CPUs | temp ${tmp}`,
  );
  if (meta.loadavgStart[0] > 0.7) log(`note: load average ${meta.loadavgStart.join(" ")} at start: something else is running, figures may be noisy`);

  const all = [];
  const sections = [];
  /** @type {{ suite: string, error: string }[]} */
  const failures = [];
  try {
    for (const suite of selected) {
      if (stopping) break;
      const reason = (await suite.unavailable?.(ctx)) ?? null;
      if (reason) {
        log(`skipping suite ${suite.name}: ${reason}`);
        continue;
      }
      log(`suite ${suite.name}: ${suite.description}`);
      // A failing suite is reported and the others still run: one broken suite must not cost the whole run.
      let setup;
      const waitIdle = async () => {
        if (options.waitIdle <= 0) return;
        const { quiet, busy } = await waitForQuiet({ timeoutMs: options.waitIdle * 1000, log });
        log(quiet ? `machine quiet (${(busy * 100).toFixed(0)}% busy)` : `machine still ${(busy * 100).toFixed(0)}% busy: measuring anyway`);
      };
      const runOptions = () => ({
        ...options,
        deadline: Date.now() + options.maxSeconds * 1000, // per suite
        keepLatencies: Boolean(flags.json),
        servers: () => ctx.started(),
        objectRequests: (server) => ctx.objectRequests(server),
        progress: log,
      });
      try {
        if (suite.run) {
          await waitIdle();
          const outcome = await suite.run(ctx, runOptions());
          all.push(...outcome.results);
          sections.push({ suite, results: outcome.results, lines: outcome.lines });
          if (outcome.failure) failures.push({ suite: suite.name, error: outcome.failure });
          continue;
        }
        setup = await /** @type {NonNullable<typeof suite.setup>} */ (suite.setup)(ctx);
        await waitIdle();
        const results = await measureSuite(suite, setup, runOptions());
        all.push(...results);
        sections.push({ suite, results });
      } catch (error) {
        if (stopping) break;
        failures.push({ suite: suite.name, error: error instanceof Error ? error.message : String(error) });
        log(`suite ${suite.name} FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      } finally {
        try {
          await setup?.teardown?.();
        } catch (error) {
          log(`suite ${suite.name}: teardown failed: ${String(error)}`);
        }
      }
    }
  } finally {
    meta.loadavgEnd = os.loadavg().map((value) => Number(value.toFixed(2)));
    log("stopping servers …");
    await ctx.close();
    await stopAll();
    if (!flags["keep-temp"] && failures.length === 0) rmSync(tmp, { recursive: true, force: true });
    else log(`temp dir kept: ${tmp}`);
  }

  // Suites with their own measurement (`run`) print their own method; the rounds line is about the others.
  const perCallRun = sections.some((section) => !section.lines);
  console.log("");
  console.log(
    `Results (${perCallRun ? `medians of ${options.rounds} interleaved rounds x ${options.requests} calls per target; ` : ""}dev server ${devServerLabel(options.devServer)}; node ${meta.node}, wrangler ${meta.wrangler}, ${meta.workerd}, ` +
      `${meta.cpus} x ${meta.cpuModel}; load avg ${meta.loadavgStart[0]} -> ${meta.loadavgEnd[0]})`,
  );
  if (perCallRun) console.log(`"p50 ÷ base" and "base calls/s ÷" read "times slower than the baseline": 1.00x = as fast as the baseline.`);
  for (const { suite, results, lines } of sections) {
    console.log("");
    if (lines) {
      // A suite with its own measurement (bench/lib/suite.mjs `run`) prints its own figures.
      for (const line of lines) console.log(line);
      continue;
    }
    console.log(resultsTable(results));
    const aims = aimLines(suite, results);
    if (aims.length > 0) {
      console.log(`\nAim of suite ${suite.name}: service within ${suite.aim}x of the baseline (${aimScope(suite)})`);
      for (const line of aims) console.log(line);
    }
    for (const line of suite.notes?.(results) ?? []) console.log(line);
    const objects = objectRequestTable(results);
    if (objects) console.log(`\n${OBJECT_REQUESTS_NOTE}\n${objects}`);
    console.log("\nServer-side CPU per call (all wrangler dev processes), load-generator CPU per call:");
    for (const line of cpuLines(results)) console.log(line);
    if (flags.markdown) console.log(`\n${resultsTable(results, true)}${objects ? `\n\n${objectRequestTable(results, true)}` : ""}`);
  }
  if (flags.json) {
    writeFileSync(flags.json, `${JSON.stringify({ meta, options, results: all, failures }, null, 1)}\n`);
    console.log(`\nraw results written to ${flags.json}`);
  }
  if (failures.length > 0) {
    console.log("");
    for (const failure of failures) console.log(`suite ${failure.suite} FAILED: ${failure.error.split("\n")[0]}`);
    process.exitCode = 1;
  }
}

main().catch(async (error) => {
  console.error(`\nbench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
});
