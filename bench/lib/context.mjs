// What suites get to work with: the servers under test (started on first use, one after another, shared by
// every suite of the run), HTTP clients, and the run's options.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { createJsonClient } from "./http.mjs";
import { objectRequestReader } from "./object-requests.mjs";
import { freePort, portIsFree, startWrangler, tail } from "./processes.mjs";
import { readWranglerConfig } from "../../scripts/lib/wrangler-config.mjs";

/** Bearer token the bench passes to the service with `--var` (no .dev.vars needed). */
export const BENCH_TOKEN = "bench-token";

/**
 * @typedef {import("./processes.mjs").RunningServer} RunningServer
 * @typedef {object} BenchContext
 * @property {string} root project root
 * @property {string} code root of the snapshot of the service's code that the servers run (see snapshotCode)
 * @property {string} tmp temp dir of this run (state, logs, generated configs)
 * @property {string} runId short id, unique per run (for session ids)
 * @property {Record<string, any>} options parsed CLI options
 * @property {() => Promise<RunningServer>} service the service (`wrangler.toml`, `src/index.ts`)
 * @property {(name: string, mcpConfig: object) => Promise<RunningServer>} configuredService another instance of the
 *   service, started once per name, with `mcpConfig` as its MCP_CONFIG
 * @property {() => Promise<RunningServer>} baseline the bench baseline worker (bench/baseline)
 * @property {() => Promise<RunningServer>} profile the service's code behind a bench-only entry (bench/profile)
 * @property {(upstreamUrl: string) => Promise<RunningServer>} proxy the bench proxy worker (bench/proxy): one
 *   `fetch` to `upstreamUrl` per MCP POST; started once per run, with the first caller's upstream
 * @property {(server: string) => Promise<import("./object-requests.mjs").ObjectCounts | null>} objectRequests
 *   the Durable Object request counters of a running instance of the service (null for other servers, and for
 *   code without the counters)
 * @property {(baseUrl: string, headers?: Record<string, string>) => import("./http.mjs").JsonClient} client
 *   keep-alive client (its `server` names the started server at `baseUrl`); closed by the context at the end
 * @property {(line: string) => void} log progress line (stderr)
 */

/**
 * @param {{ root: string, tmp: string, options: Record<string, any>, log: (line: string) => void }} init
 * @returns {BenchContext & { close: () => Promise<void>, started: () => RunningServer[] }}
 */
export function createContext({ root, tmp, options, log }) {
  /** @type {Map<string, Promise<RunningServer>>} */
  const servers = new Map();
  /** @type {RunningServer[]} */
  const running = [];
  const clients = [];
  /** Servers that run the service's code (their object-request counters can be read), and their readers. */
  const serviceInstances = new Set(["service", "profile"]);
  /** @type {Map<string, () => Promise<import("./object-requests.mjs").ObjectCounts | null>>} */
  const counterReaders = new Map();
  const code = snapshotCode(root, join(tmp, "code"), options.code);
  // Servers start strictly one after another: two wrangler dev processes starting together can clash on ports.
  let queue = Promise.resolve();

  const once = (name, start) => () => {
    let server = servers.get(name);
    if (!server) {
      server = queue.then(async () => {
        const began = Date.now();
        log(`starting ${name}: bundle, then ${options.devServer === "cli" ? "wrangler dev" : "wrangler's dev server (inspector detached)"} --no-bundle …`);
        const started = await start();
        running.push(started);
        log(`${name} ready on ${started.url} in ${((Date.now() - began) / 1000).toFixed(1)} s (log: ${started.logFile})`);
        return started;
      });
      queue = server.then(
        () => undefined,
        () => undefined,
      );
      servers.set(name, server);
    }
    return server;
  };

  const port = async (fixed) => {
    if (fixed === undefined) return freePort();
    if (!(await portIsFree(fixed))) throw new Error(`port ${fixed} is taken: stop what listens there or drop --fixed-ports`);
    return fixed;
  };

  const common = (name) => {
    const dir = join(tmp, name);
    mkdirSync(join(dir, "state"), { recursive: true });
    return { name, root, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log") };
  };

  /**
   * Bundles a worker once (`wrangler deploy --dry-run`, the production bundle) and runs that bundle with
   * `wrangler dev --no-bundle`: nothing is watched or rebuilt during the run, whatever happens to src/ or
   * node_modules meanwhile (both change often in a shared tree, and a reload mid-batch skews it).
   */
  const serve = async (name, sourceConfig, overrides, fixedPort, vars = {}) => {
    const paths = common(name);
    const config = await bundleWorker({ root, sourceConfig, dir: join(tmp, name), overrides, logFile: paths.logFile });
    return startWrangler({ ...paths, config, port: await port(fixedPort), vars, readyPath: "/healthz", noBundle: true, runtime: options.devServer ?? "api" });
  };
  // MCP_CONFIG: the bundled defaults, whatever a developer's .dev.vars says, plus the object-request counters'
  // route (the counting itself always runs; the flag only opens the route the bench reads them from).
  const diagnostics = { diagnostics: { object_requests: true } };
  const serviceVars = { MCP_SERVICE_TOKEN: BENCH_TOKEN, MCP_CONFIG: JSON.stringify(diagnostics) };

  return {
    root,
    code,
    tmp,
    runId: Date.now().toString(36),
    options,
    log,
    service: once("service", () => serve("service", join(code, "wrangler.toml"), {}, options.fixedPorts ? 8791 : undefined, serviceVars)),
    // A second instance of the service with its own MCP_CONFIG (e.g. external servers), so suites that need
    // a configuration never change what the other suites measure.
    configuredService: (name, mcpConfig) => {
      serviceInstances.add(name);
      return once(name, () => serve(name, join(code, "wrangler.toml"), {}, undefined, { ...serviceVars, MCP_CONFIG: JSON.stringify({ ...diagnostics, ...mcpConfig }) }))();
    },
    baseline: once("baseline", () =>
      serve("baseline", join(code, "bench", "baseline", "wrangler.jsonc"), {}, options.fixedPorts ? 8792 : undefined),
    ),
    // The service's own code behind bench-only entry routes: same bindings, migrations, compatibility date and
    // flags as wrangler.toml, only `name` and `main` changed.
    profile: once("profile", () =>
      serve(
        "profile",
        join(code, "wrangler.toml"),
        { name: "xiaozhi-mcp-bench-profile", main: join(code, "bench", "profile", "worker.ts") },
        options.fixedPorts ? 8793 : undefined,
        serviceVars,
      ),
    ),
    // The upstream URL is a var, not part of the bundle: a suite starts its upstream on a free port first.
    proxy: (upstreamUrl) =>
      once("proxy", () => serve("proxy", join(code, "bench", "proxy", "wrangler.jsonc"), {}, undefined, { UPSTREAM_URL: upstreamUrl }))(),
    async objectRequests(name) {
      const server = running.find((candidate) => candidate.name === name);
      if (!server || !serviceInstances.has(name)) return null;
      let read = counterReaders.get(name);
      if (!read) {
        // Its own small client, always node:http: the load generator's client kind must not matter here.
        const client = createJsonClient({ baseUrl: server.url, headers: { authorization: `Bearer ${BENCH_TOKEN}` }, maxSockets: 2 });
        clients.push(client);
        read = objectRequestReader(client, name, log);
        counterReaders.set(name, read);
      }
      return read();
    },
    client(baseUrl, headers = {}) {
      const server = running.find((candidate) => candidate.url === baseUrl)?.name;
      const client = createJsonClient({ baseUrl, headers, kind: options.client, maxSockets: 64, server });
      clients.push(client);
      return client;
    },
    started: () => [...running],
    async close() {
      for (const client of clients) client.close();
      // Stop one after another too: each takes a few seconds, and parallel stops compete for the 2 cores.
      for (const server of running.reverse()) await server.stop();
    },
  };
}

/** What the service needs to build: its code, bundled config, wrangler and TypeScript config. */
const SERVICE_FILES = ["src", "durable-objects", "config", "wrangler.toml", "package.json", "tsconfig.json"];

/**
 * Copies the service's code into the run's temp dir and returns that copy's root. `wrangler dev` watches its
 * sources and reloads on every change; in a tree where others edit src/ meanwhile, a reload in the middle of
 * a measurement would skew it. The copy pins the code for the whole run.
 * - `working`: the working tree as it is at start (uncommitted edits included), the default;
 * - `head`: the last commit (`git archive HEAD`), for figures tied to a commit.
 * The bench workers (bench/profile, which imports ../../src, bench/baseline and bench/proxy) are copied from the working
 * tree in both cases, so wrangler's .wrangler/ build dirs stay in the temp dir too. node_modules is a link.
 */
function snapshotCode(root, dest, mode = "working") {
  mkdirSync(join(dest, "bench"), { recursive: true });
  if (mode === "head") {
    const archive = execFileSync("git", ["archive", "--format=tar", "HEAD", "--", ...SERVICE_FILES.filter((file) => existsSync(join(root, file)))], {
      cwd: root,
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync("tar", ["-x", "-C", dest], { input: archive });
  } else if (mode === "working") {
    for (const file of SERVICE_FILES) {
      if (existsSync(join(root, file))) cpSync(join(root, file), join(dest, file), { recursive: true, filter: (from) => !/\.test\.ts$/.test(from) });
    }
  } else {
    throw new Error(`--code is working or head, got ${mode}`);
  }
  for (const worker of ["profile", "baseline", "proxy"]) {
    cpSync(join(root, "bench", worker), join(dest, "bench", worker), { recursive: true, filter: (from) => !from.includes(".wrangler") });
  }
  symlinkSync(join(root, "node_modules"), join(dest, "node_modules"), "dir");
  return dest;
}

/**
 * Builds the production bundle of a worker into `dir/dist` and writes `dir/wrangler.json`: the source config
 * (TOML or JSONC) with `overrides` applied and `main` pointing at the bundle. Returns the generated config's path.
 */
async function bundleWorker({ root, sourceConfig, dir, overrides, logFile }) {
  mkdirSync(dir, { recursive: true });
  const config = { ...readWranglerConfig(sourceConfig), ...overrides };
  delete config.$schema;
  // Paths in the generated config are absolute: it lives in another directory than the source config.
  const entry = isAbsolute(config.main) ? config.main : resolve(dirname(sourceConfig), config.main);
  const input = join(dir, "build.json");
  writeFileSync(input, JSON.stringify({ ...config, main: entry }, null, 2));
  const outdir = join(dir, "dist");
  const bin = join(root, "node_modules", ".bin");
  await run(join(bin, "wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "--config", input], {
    cwd: dirname(sourceConfig),
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    logFile,
  });
  const bundle = join(outdir, `${basename(entry).replace(/\.[cm]?[jt]sx?$/, "")}.js`);
  if (!existsSync(bundle)) throw new Error(`bundle ${bundle} missing after wrangler deploy --dry-run (see ${logFile})`);
  const file = join(dir, "wrangler.json");
  writeFileSync(file, JSON.stringify({ ...config, main: bundle }, null, 2));
  return file;
}

/** Runs a command to completion (bounded), its output appended to `logFile`. */
function run(file, args, { cwd, env, logFile, timeoutMs = 180_000 }) {
  return new Promise((resolvePromise, reject) => {
    const out = openSync(logFile, "a");
    const child = spawn(file, args, { cwd, env, stdio: ["ignore", out, out], timeout: timeoutMs, killSignal: "SIGKILL" });
    closeSync(out);
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolvePromise(undefined) : reject(new Error(`${basename(file)} ${args.join(" ")} failed (${code ?? signal}); log ${logFile}:\n${tail(logFile)}`)),
    );
  });
}
