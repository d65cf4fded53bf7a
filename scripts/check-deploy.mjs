// `npm run check:deploy`: proves the production bundle builds (wrangler deploy --dry-run) into a temp dir,
// for every environment in wrangler.jsonc.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const config = readFileSync("wrangler.jsonc", "utf8");
const environments = [undefined, ...[...config.matchAll(/^\s{4}"(\w+)":\s*\{\s*\/\/\s*env\b/gm)].map((m) => m[1])];

for (const environment of environments) {
  const outdir = mkdtempSync(join(tmpdir(), "xz-mcp-deploy-"));
  const args = ["deploy", "--dry-run", "--outdir", outdir, ...(environment ? ["--env", environment] : [])];
  console.log(`> wrangler ${args.join(" ")}`);
  execFileSync("wrangler", args, { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const size = readdirSync(outdir).reduce((sum, file) => sum + statSync(join(outdir, file)).size, 0);
  console.log(`bundle ${environment ?? "(default)"}: ${(size / 1024).toFixed(0)} KiB in ${outdir}`);
  rmSync(outdir, { recursive: true, force: true });
}
