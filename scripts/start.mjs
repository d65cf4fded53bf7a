// `npm start`: local wrangler dev with local Durable Object storage. Creates .dev.vars from the example on
// first start so the documented dev token works out of the box.
import { copyFileSync, existsSync } from "node:fs";
import { spawn } from "node:child_process";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (bearer token: dev-token)");
}

const child = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", process.env.PORT ?? "8787", ...process.argv.slice(2)], {
  stdio: "inherit",
  // No usage metrics, and no fetch of the Request.cf placeholder from workers.cloudflare.com: loopback only
  // (set CLOUDFLARE_CF_FETCH_ENABLED=true to get a real Request.cf object on a machine with internet).
  env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
