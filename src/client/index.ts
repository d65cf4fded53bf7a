/**
 * The TypeScript client of the service, for gateways: the REST {@link GatewayClient} with the rollout
 * controls, and the typed tRPC client. Named exports only.
 */
export { ServiceError, type FailureKind, type ServiceErrorInit } from "./errors";
export {
  GatewayClient,
  type AgentConfigRequest,
  type BindSessionRequest,
  type CallOptions,
  type ExecuteToolRequest,
  type GatewayClientOptions,
  type MintEndpointRequest,
  type ProviderEndpoint,
  type ProviderListView,
  type UnbindResult,
} from "./gateway-client";
export { DEFAULT_RETRY, backoffDelay, type RetryPolicy } from "./retry";
export { bucketOf, routeFor, RolloutConfig, type RoutePath } from "./rollout";
export {
  RolloutGateway,
  type FallbackEvent,
  type GatewayOperation,
  type LocalExecutor,
  type RolloutGatewayOptions,
  type RolloutOptions,
} from "./rollout-gateway";
export { createClient, type AppRouter } from "../trpc/client";
export type { ErrorCode } from "../core/errors";
export type { SessionRef, SessionView, ToolDescriptor, ToolList, ToolResult } from "../core/schemas";
export type { AgentConfigView, MintedToken, TokenInfo, TokenListView } from "../tenants/tenant-schemas";
