/** Hono's environment for this service: bindings plus what the middleware puts on the context. */
import type { ServiceConfig } from "../core/config";
import type { McpService } from "../core/service";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: ServiceConfig;
    service: McpService;
  };
}
