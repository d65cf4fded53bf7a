// Reads a wrangler configuration file as wrangler does: TOML (the service's wrangler.toml) or JSONC (the bench
// baseline's wrangler.jsonc), for the scripts and the bench.
import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { stripJsonc } from "./jsonc.mjs";

export function readWranglerConfig(path) {
  const text = readFileSync(path, "utf8");
  return path.endsWith(".toml") ? JSON.parse(JSON.stringify(parseToml(text))) : JSON.parse(stripJsonc(text));
}
