/** Worker entry: the Hono app, and the Durable Object classes the runtime must find here. */
import { app } from "./http/app";

export { AgentObject } from "./agents/agent-object";
export { SessionObject } from "./session/session-object";
export { MetricsObject } from "./observability/metrics-object";
export { UpstreamObject } from "./tools/external/upstream-object";

export default app satisfies ExportedHandler<Env>;
