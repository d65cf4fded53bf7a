/**
 * Component names of the OpenAPI document for schemas used in several places (so a generated client gets one
 * type for each); the rest are named after their operation. The schemas are the routes' own, imported here.
 */
import type { z } from "zod";
import {
  BindSessionBody,
  BindSessionInput,
  BindSessionResponse,
  UnbindSessionResponse,
  DeviceFramesBody,
  ExecuteToolBody,
  ExecuteToolInput,
  FramesOutcome,
  HandleMessageInput,
  RelayStatus,
  SessionRef,
  SessionView,
  ToolDescriptor,
  ToolList,
  ToolResult,
} from "../../core/schemas";
import { ExternalServerState } from "../../sources/external";
import { MintEndpointBody, MintEndpointResponse, ProviderList } from "../../sources/dial-in/endpoint-schemas";
import { ErrorBody } from "../error-response";
import { JsonRpcMessage } from "../mcp-routes";
import { HealthReport, ReadinessReport, UnhealthyReport } from "../ops-routes";
import { ServerList } from "../server-routes";
import { TrpcErrorBody } from "../trpc-routes";

/** Response schemas nested in several bodies; each must be in {@link NAMED_SCHEMAS}. */
export const SHARED_RESPONSE_SCHEMAS: readonly z.ZodType[] = [ErrorBody, TrpcErrorBody, SessionView, RelayStatus, ToolDescriptor, ToolList, ToolResult, ExternalServerState];

export const NAMED_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ["ErrorBody", ErrorBody],
  ["TrpcErrorBody", TrpcErrorBody],
  ["BindSessionBody", BindSessionBody],
  ["BindSessionInput", BindSessionInput],
  ["ExecuteToolBody", ExecuteToolBody],
  ["ExecuteToolInput", ExecuteToolInput],
  ["SessionRef", SessionRef],
  ["SessionView", SessionView],
  ["RelayStatus", RelayStatus],
  ["ToolDescriptor", ToolDescriptor],
  ["ToolList", ToolList],
  ["ToolResult", ToolResult],
  ["BindSessionResponse", BindSessionResponse],
  ["UnbindSessionResponse", UnbindSessionResponse],
  ["HealthReport", HealthReport],
  ["UnhealthyReport", UnhealthyReport],
  ["ReadinessReport", ReadinessReport],
  ["ExternalServerState", ExternalServerState],
  ["ServerList", ServerList],
  ["DeviceFramesBody", DeviceFramesBody],
  ["HandleMessageInput", HandleMessageInput],
  ["FramesOutcome", FramesOutcome],
  ["JsonRpcMessage", JsonRpcMessage],
  ["MintEndpointBody", MintEndpointBody],
  ["MintEndpointResponse", MintEndpointResponse],
  ["ProviderList", ProviderList],
];
