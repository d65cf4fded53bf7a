// Starting and stopping `wrangler dev` for the bench: free ports, a process group per server, readiness by
// polling an HTTP route, output to a log file (never through the bench process: it shares the CPU with the
// load generator), and a stop by process group (wrangler dev spawns esbuild and two workerd processes).
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { delimiter, join } from "node:path";

/** A started server; `inspectorPort` is 0 when no DevTools inspector is attached (runtime `api`).
 * @typedef {{ name: string, url: string, port: number, inspectorPort: number, logFile: string, pid: number, stop: () => Promise<void> }} RunningServer */

/** Every process group started here, so signal and exit handlers can stop what is still running. */
const groups = new Set();

/** A free TCP port on 127.0.0.1, found by binding port 0. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves true if nothing listens on 127.0.0.1:port. */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** One GET; resolves the status code (0 on connection errors). Bounded by `timeoutMs`. */
export function probe(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

/**
 * Environment for every local wrangler process: no usage metrics, and no fetch of the `Request.cf` placeholder
 * from workers.cloudflare.com (miniflare's default) — nothing but loopback traffic.
 */
export const LOCAL_ONLY_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** True while any process of the group exists. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already gone
  }
}

/** SIGTERM to the whole group, then SIGKILL after `graceMs`; resolves when the group is gone (bounded). */
export async function stopGroup(pgid, graceMs = 5000) {
  killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) killGroup(pgid, "SIGKILL");
  for (let i = 0; i < 30 && groupAlive(pgid); i++) await sleep(100);
  groups.delete(pgid);
}

/** Stops every group still running (signal handlers, errors). */
export async function stopAll() {
  await Promise.all([...groups].map((pgid) => stopGroup(pgid)));
}

// Last resort on a synchronous exit: no waiting possible, so SIGKILL what is left.
process.on("exit", () => {
  for (const pgid of groups) killGroup(pgid, "SIGKILL");
});

/** Last `lines` lines of a file, for error messages. */
export function tail(file, lines = 40) {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/**
 * Starts `wrangler dev` in its own process group and waits until `readyPath` answers 200.
 * @param {object} options
 * @param {string} options.name label for messages
 * @param {string} options.root project root (node_modules/.bin is put first on PATH so wrangler runs on Node 22)
 * @param {string} options.config wrangler config file
 * @param {number} options.port
 * @param {string} options.persistTo directory for local Durable Object storage
 * @param {string} options.logFile wrangler's stdout and stderr go here
 * @param {Record<string, string>} [options.vars] `--var NAME:value` bindings
 * @param {string} [options.readyPath] polled until it answers 200
 * @param {number} [options.timeoutMs] readiness budget
 * @param {boolean} [options.noBundle] run `config.main` as it is (already bundled)
 * @param {"cli" | "api"} [options.runtime] `cli`: the `wrangler dev` command, DevTools inspector attached (as
 *   `npm start`); `api`: wrangler's dev server API without the inspector (bench/lib/dev-server.mjs)
 * @returns {Promise<RunningServer>}
 */
export async function startWrangler(options) {
  const { name, root, config, port, persistTo, logFile, vars = {}, readyPath = "/healthz", timeoutMs = 90_000, noBundle = false, runtime = "cli" } = options;
  const varArgs = Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]);
  const bin = join(root, "node_modules", ".bin");
  const inspectorPort = runtime === "cli" ? await freePort() : 0;
  const [command, args] =
    runtime === "cli"
      ? [
          join(bin, "wrangler"),
          [
            "dev",
            "--config",
            config,
            "--ip",
            "127.0.0.1",
            "--port",
            String(port),
            "--inspector-port",
            String(inspectorPort),
            "--persist-to",
            persistTo,
            "--show-interactive-dev-session=false",
            ...varArgs,
            ...(noBundle ? ["--no-bundle"] : []),
          ],
        ]
      : [
          join(bin, "node"),
          [join(import.meta.dirname, "dev-server.mjs"), "--config", config, "--port", String(port), "--persist-to", persistTo, ...varArgs, ...(noBundle ? ["--no-bundle"] : [])],
        ];
  const server = await startProcess({
    name,
    command,
    args,
    cwd: root,
    env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, ...LOCAL_ONLY_ENV, NO_COLOR: "1", FORCE_COLOR: "0" },
    logFile,
    readyUrl: `http://127.0.0.1:${port}${readyPath}`,
    // wrangler dev stays up in watch mode after a build error: fail fast instead of waiting out the budget.
    failOn: /\[ERROR\]/,
    timeoutMs,
  });
  return { ...server, url: `http://127.0.0.1:${port}`, port, inspectorPort };
}

/**
 * Starts any server process in its own process group (stopped as a whole, also on exit and Ctrl-C) and waits
 * until `readyUrl` answers 200. For later suites' helpers (e.g. an external MCP server); wrangler uses it too.
 * @param {object} options
 * @param {string} options.name
 * @param {string} options.command
 * @param {string[]} options.args
 * @param {string} options.cwd
 * @param {Record<string, string>} [options.env] added to process.env
 * @param {string} options.logFile stdout and stderr
 * @param {string} options.readyUrl
 * @param {RegExp} [options.failOn] a log line that means the start failed
 * @param {number} [options.timeoutMs]
 * @returns {Promise<{ name: string, logFile: string, pid: number, stop: () => Promise<void> }>}
 */
export async function startProcess({ name, command, args, cwd, env = {}, logFile, readyUrl, failOn, timeoutMs = 90_000 }) {
  const out = openSync(logFile, "a");
  const child = spawn(command, args, {
    cwd,
    detached: true, // own process group: stopped as a whole
    stdio: ["ignore", out, out],
    env: { ...process.env, ...env },
  });
  closeSync(out);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  groups.add(pgid);
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  child.on("error", (error) => {
    exited = { error: error.message };
  });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      groups.delete(pgid);
      throw new Error(`${name}: exited early (${JSON.stringify(exited)}). Log ${logFile}:\n${tail(logFile)}`);
    }
    if ((await probe(readyUrl)) === 200) break;
    if (failOn && failOn.test(tail(logFile, 200).replace(/\x1b\[[0-9;]*m/g, ""))) {
      await stopGroup(pgid);
      throw new Error(`${name}: start failed. Log ${logFile}:\n${tail(logFile)}`);
    }
    if (Date.now() > deadline) {
      await stopGroup(pgid);
      throw new Error(`${name}: not ready on ${readyUrl} after ${timeoutMs} ms. Log ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(250);
  }
  return { name, logFile, pid: pgid, stop: () => stopGroup(pgid) };
}

