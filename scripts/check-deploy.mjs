// `npm run check:deploy`: what CI can prove about a deploy without a Cloudflare account.
//
// 1. wrangler.toml parses, and every named environment repeats the bindings wrangler does not inherit
//    (a missing Durable Object binding in `env.production` deploys fine and fails at the first request).
// 2. Durable Object migrations: unique tags, and every bound class is created by one of them.
// 3. worker-configuration.d.ts is what `wrangler types` generates from this config.
// 4. `wrangler deploy --dry-run` bundles the default environment and every named one.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWranglerConfig } from "./lib/wrangler-config.mjs";

/** Keys wrangler does not inherit from the top level into `env.<name>` (wrangler config docs). */
const NOT_INHERITED = ["vars", "durable_objects", "analytics_engine_datasets", "kv_namespaces", "r2_buckets", "d1_databases", "services", "queues", "ratelimits"];

const wrangler = existsSync("node_modules/.bin/wrangler") ? "node_modules/.bin/wrangler" : "wrangler";
const config = readWranglerConfig("wrangler.toml");
const environments = Object.keys(config.env ?? {});
const problems = [...missingBindings(config, environments), ...migrationProblems(config, environments)];
if (problems.length > 0) {
  for (const problem of problems) console.error(`✘ ${problem}`);
  process.exit(1);
}
console.log(`wrangler.toml: default + ${environments.length} environment(s) [${environments.join(", ")}], bindings and migrations consistent`);

run(["types", "--check", "--strict-vars=false"]);

for (const environment of [undefined, ...environments]) {
  const outdir = mkdtempSync(join(tmpdir(), "xz-mcp-deploy-"));
  try {
    // --env="" names the top level explicitly (wrangler warns about an implicit choice when envs exist).
    run(["deploy", "--dry-run", "--outdir", outdir, `--env=${environment ?? ""}`]);
    const size = readdirSync(outdir).reduce((sum, file) => sum + statSync(join(outdir, file)).size, 0);
    console.log(`bundle ${environment ?? "(default)"}: ${(size / 1024).toFixed(0)} KiB on disk, source map included (wrangler prints the upload size above)`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function run(args) {
  console.log(`> wrangler ${args.join(" ")}`);
  execFileSync(wrangler, args, { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
}

/** Binding names of one non-inherited key, e.g. "SESSIONS→SessionObject" for Durable Objects. */
function bindingNames(block, key) {
  const value = block[key];
  if (value === undefined) return [];
  if (key === "vars") return Object.keys(value);
  const list = key === "durable_objects" ? (value.bindings ?? []) : value;
  return list.map((binding) => (key === "durable_objects" ? `${binding.name}→${binding.class_name}` : (binding.binding ?? binding.name)));
}

function missingBindings(config, environments) {
  const problems = [];
  for (const environment of environments) {
    for (const key of NOT_INHERITED) {
      const have = new Set(bindingNames(config.env[environment], key));
      const missing = bindingNames(config, key).filter((name) => !have.has(name));
      if (missing.length > 0) problems.push(`env.${environment}.${key} lacks ${missing.join(", ")} (not inherited from the top level: repeat it)`);
    }
  }
  return problems;
}

function migrationProblems(config, environments) {
  const problems = [];
  const migrations = config.migrations ?? [];
  const tags = migrations.map((migration) => migration.tag);
  const duplicated = tags.filter((tag, i) => tags.indexOf(tag) !== i);
  if (duplicated.length > 0) problems.push(`migration tags used twice: ${duplicated.join(", ")}`);
  const created = new Set(migrations.flatMap((migration) => [...(migration.new_sqlite_classes ?? []), ...(migration.new_classes ?? [])]));
  const bound = [config, ...environments.map((environment) => config.env[environment])].flatMap((block) => block.durable_objects?.bindings ?? []);
  for (const binding of bound) {
    if (binding.script_name === undefined && !created.has(binding.class_name)) problems.push(`Durable Object class ${binding.class_name} (${binding.name}) has no migration`);
  }
  for (const environment of environments) {
    if (config.env[environment].migrations !== undefined) problems.push(`env.${environment}.migrations: keep migrations top-level, one history for every environment`);
  }
  return [...new Set(problems)];
}

