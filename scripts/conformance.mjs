// `npm run test:conformance`: the official MCP conformance suite (server scenarios) against the shared MCP
// endpoint of a real `wrangler dev` — the production runtime, not the test pool. The suite sends no custom
// headers, so it authenticates with `?token=`. Scenarios that do not apply to a tools-only server are listed,
// with reasons, in conformance/expected-failures.yml; anything else failing fails this command.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, startWrangler, stopAll } from "../bench/lib/processes.mjs";

const root = resolve(import.meta.dirname, "..");
const state = mkdtempSync(join(tmpdir(), "xz-mcp-conformance-"));
const token = "conformance-token";
let status = 1;
try {
  const server = await startWrangler({
    name: "service",
    root,
    config: join(root, "wrangler.toml"),
    port: await freePort(),
    persistTo: join(state, "state"),
    logFile: join(state, "wrangler.log"),
    vars: { MCP_SERVICE_TOKEN: token },
  });
  const run = spawnSync(
    join(root, "node_modules", ".bin", "conformance"),
    ["server", "--url", `${server.url}/mcp?token=${token}`, "--expected-failures", join(root, "conformance", "expected-failures.yml")],
    { stdio: ["ignore", "pipe", "inherit"], cwd: root, timeout: 300_000, encoding: "utf8" },
  );
  // The suite's "<scenario>: N passed, M failed" lines count the expected failures too; CI log readers must
  // not take them for the test run's own summary line, so they are reworded.
  const output = (run.stdout ?? "")
    .replace(/^Total: (\d+) passed, (\d+) failed$/m, "Conformance checks: $1 passing, $2 not passing (see baseline check below)")
    .replace(/^(. \S+): (\d+) passed, (\d+) failed$/gm, "$1 — checks passing $2, not passing $3");
  process.stdout.write(output);
  status = run.status ?? 1;
} finally {
  await stopAll();
  rmSync(state, { recursive: true, force: true });
}
process.exit(status);
