/** Worker entry: the Hono app, and the Durable Object classes the runtime must find here. */
import { app } from "./http/app";

export { SessionObject } from "./session/session-object";
export { UpstreamObject } from "./tools/external/upstream-object";

export default app satisfies ExportedHandler<Env>;
