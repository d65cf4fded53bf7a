/**
 * Hono's environment for this service: bindings plus what the middleware puts on the context.
 * Read the variables with `c.get(name)`: Hono's `c.var` builds a fresh object of all of them on every access.
 */
import type { ServiceConfig } from "../core/config";
import type { Principal } from "../core/principal";
import type { McpService } from "../core/service";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: ServiceConfig;
    /** Who the bearer token acts for (src/core/principal.ts). */
    principal: Principal;
    /** The core, confined to the principal's agent when it holds an agent token. */
    service: McpService;
  };
}
