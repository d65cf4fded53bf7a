// Runs a worker on wrangler's own local dev server (`unstable_startWorker`, the API the `wrangler dev` command is
// built on: same miniflare, same workerd, same proxy worker in front) with the DevTools inspector detached.
//
// Why: the `wrangler dev` command always attaches DevTools to the runtime, and then every `console.log` of the
// worker is also serialised as a `Runtime.consoleAPICalled` event, relayed through wrangler's inspector proxy
// worker and parsed in wrangler's Node process — a debugger cost (about 3 ms of CPU per log line on this
// machine) that a deployed Worker does not have. Without the inspector, worker logs still reach this process's
// output (workerd's structured stdout logs), so the service still writes every log line. They are written out
// verbatim: wrangler's default printer also runs each line through its stack-trace source mapper, a second
// development aid that costs Node CPU per line.
//
// The local observability collector is off too (X_LOCAL_OBSERVABILITY=false, unless the caller's environment
// sets it): by default this wrangler attaches a streaming tail worker to every local worker, which receives each
// invocation's trace events (onset, every log line, outcome) and keeps them for its local explorer. That costs
// about 2 ms of runtime CPU per invocation, and more per log line (measured: docs/benchmarks.md) — a development
// aid, not part of a deployed Worker, applied alike to the baseline and the service.
//
//   node bench/lib/dev-server.mjs --config wrangler.json --port 8791 --persist-to dir [--var NAME:value]… [--no-bundle]
//
// Started by bench/lib/processes.mjs (startWrangler with runtime "api"); stops on SIGTERM/SIGINT.
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

// Read by wrangler when the worker starts, not at import.
process.env.X_LOCAL_OBSERVABILITY ??= "false";

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    port: { type: "string" },
    "persist-to": { type: "string" },
    var: { type: "string", multiple: true, default: [] },
    "no-bundle": { type: "boolean", default: false },
  },
  strict: true,
});
if (!values.config || !values.port || !values["persist-to"]) {
  console.error("dev-server: --config, --port and --persist-to are required");
  process.exit(2);
}

/** `--var NAME:value` as wrangler dev takes it; the value may itself contain colons (JSON). */
const bindings = Object.fromEntries(
  values.var.map((entry) => {
    const colon = entry.indexOf(":");
    if (colon < 1) throw new Error(`--var expects NAME:value, got ${entry}`);
    return [entry.slice(0, colon), { type: "plain_text", value: entry.slice(colon + 1) }];
  }),
);

const worker = await unstable_startWorker({
  config: values.config,
  bindings,
  build: values["no-bundle"] ? { bundle: false } : undefined,
  dev: {
    inspector: false,
    server: { hostname: "127.0.0.1", port: Number(values.port) },
    persist: values["persist-to"],
    watch: false,
    structuredLogsHandler: ({ level, message }) => {
      (level === "error" || level === "warn" ? process.stderr : process.stdout).write(`${message}\n`);
    },
  },
});
await worker.ready;
console.log(
  `[dev-server] ready on ${String(await worker.url)} (DevTools inspector detached, local observability ${process.env.X_LOCAL_OBSERVABILITY === "true" ? "on" : "off"})`,
);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await worker.dispose().catch(() => undefined);
    process.exit(0);
  });
}
