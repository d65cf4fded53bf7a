/**
 * Reads the service configuration from a Worker or Durable Object environment. The parsed result is cached
 * per distinct input (pure data only, no I/O objects), so a hot path never re-parses YAML; and per env
 * object, since the runtime hands the same env to every request of an isolate and building the key is itself
 * measurable per request.
 */
import bundled from "../../config/mcp.config.json";
import { loadConfig, type ServiceConfig } from "./config";
import type { Result } from "./errors";

const cache = new Map<string, Result<ServiceConfig>>();
const byEnv = new WeakMap<object, Result<ServiceConfig>>();

export function configFromEnv(env: object): Result<ServiceConfig> {
  let result = byEnv.get(env);
  if (!result) {
    result = configFromVars(env);
    byEnv.set(env, result);
  }
  return result;
}

/** The string bindings of an env: what `${VAR}` references expand from (here and in agent configs). */
export function varsOf(env: object): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") vars[name] = value;
  return vars;
}

function configFromVars(env: object): Result<ServiceConfig> {
  const vars = varsOf(env);
  const key = JSON.stringify(vars);
  let result = cache.get(key);
  if (!result) {
    result = loadConfig({ bundled, override: vars.MCP_CONFIG, vars });
    if (cache.size > 16) cache.clear();
    cache.set(key, result);
  }
  return result;
}
