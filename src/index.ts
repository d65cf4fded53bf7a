/** Worker entry: the Hono app, and the Durable Object classes the runtime must find here. */
import { app } from "./http/app";

export { AgentObject } from "../durable-objects/agent-object";
export { SessionObject } from "../durable-objects/session-object";
export { MetricsObject } from "../durable-objects/metrics-object";
export { UpstreamObject } from "../durable-objects/upstream-object";

export default app satisfies ExportedHandler<Env>;
