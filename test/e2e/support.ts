/**
 * Helpers of the end-to-end tests: a real `wrangler dev` (stopped and started again on the same persisted
 * state), and peers in processes of their own (tool providers, a gateway with its device) that a test can
 * kill with SIGKILL or freeze with SIGSTOP.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, startWrangler, type RunningServer } from "../../bench/lib/processes.mjs";
import { waitFor } from "../support/wait";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const TOKEN = "e2e-token";
const FIXTURES = join(ROOT, "test", "fixtures");

/** `wrangler dev` on a fixed port and persisted state, so it can be restarted where peers expect it. */
export class Service {
  readonly dir = mkdtempSync(join(tmpdir(), "xiaozhi-e2e-"));
  #wrangler: RunningServer | undefined;
  #port = 0;

  constructor(
    private readonly config: Record<string, unknown>,
    private readonly vars: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    this.#port ||= await freePort();
    this.#wrangler = await startWrangler({
      name: "e2e",
      root: ROOT,
      config: join(ROOT, "wrangler.toml"),
      port: this.#port,
      persistTo: join(this.dir, "state"),
      logFile: join(this.dir, "wrangler.log"),
      vars: { MCP_SERVICE_TOKEN: TOKEN, MCP_ENDPOINT_SECRET: "e2e-endpoint-secret", MCP_CONFIG: JSON.stringify(this.config), ...this.vars },
      runtime: "cli",
    });
  }

  /** Stops the runtime (process group): every socket it held dies with it. */
  async stop(): Promise<void> {
    await this.#wrangler?.stop();
    this.#wrangler = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** wrangler dev's output so far, for failure messages. */
  output(): string {
    try {
      return readFileSync(join(this.dir, "wrangler.log"), "utf8").slice(-8_000);
    } catch {
      return "";
    }
  }

  /** A REST call with the service token, or with `token` (an agent's). */
  async api(path: string, body?: unknown, method = body === undefined ? "GET" : "POST", token = TOKEN): Promise<{ status: number; body: any; elapsed: number }> {
    const started = Date.now();
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed, elapsed: Date.now() - started };
  }

  async toolNames(sessionId: string): Promise<string[]> {
    const listed = await this.api(`/api/v1/mcp/tools?session_id=${sessionId}`);
    if (listed.status !== 200) throw new Error(`tools: ${listed.status} ${JSON.stringify(listed.body)}`);
    return listed.body.tools.map((tool: { name: string }) => tool.name);
  }
}

/** A peer process: its output is kept, it can be signalled, and it never outlives the test run. */
export class Peer {
  readonly #child: ChildProcess;
  #output = "";
  readonly exited: Promise<void>;

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.#child = spawn(process.execPath, [join(FIXTURES, script), ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    const keep = (chunk: Buffer) => {
      if (this.#output.length < 20_000) this.#output += chunk.toString();
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => this.#child.once("exit", () => resolve()));
    peers.add(this);
  }

  get output(): string {
    return this.#output;
  }

  signal(signal: "SIGKILL" | "SIGSTOP" | "SIGCONT"): void {
    this.#child.kill(signal);
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    await eventually(async () => (pattern.test(this.#output) ? true : undefined), timeoutMs, `${pattern} in:\n${this.#output}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGCONT");
    this.#child.kill("SIGKILL");
    await this.exited;
    peers.delete(this);
  }
}

const peers = new Set<Peer>();
export async function stopPeers(): Promise<void> {
  await Promise.all([...peers].map((peer) => peer.stop()));
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
/** Polls a running service or peer: the tests' one polling helper, at a pace for processes. */
export function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  return waitFor(check, timeoutMs, what, 100);
}

let counter = 0;
/** A name no earlier test (or earlier run on the same persisted state) used. */
export function fresh(label: string): string {
  return `${label}-${Date.now().toString(36)}-${(counter += 1)}`;
}
