/**
 * The service as every transport sees it: plain data in, {@link Result} out. REST, tRPC and later the MCP
 * endpoint are thin adapters over this interface; the Worker implements it over the session Durable Objects.
 */
import type { Result } from "./errors";
import type { BindSessionInput, ExecuteToolInput, FramesInput, FramesOutcome, SessionRef, SessionView, ToolList, ToolResult } from "./schemas";

export interface McpService {
  bindSession(input: BindSessionInput): Promise<Result<SessionView>>;
  getSession(input: SessionRef): Promise<Result<SessionView>>;
  unbindSession(input: SessionRef): Promise<Result<{ session_id: string; deleted: true }>>;
  getTools(input: SessionRef): Promise<Result<ToolList>>;
  executeTool(input: ExecuteToolInput): Promise<Result<ToolResult>>;
  /** Frames the gateway received from the device, relayed over HTTP instead of the relay WebSocket. */
  handleDeviceFrames(input: FramesInput): Promise<Result<FramesOutcome>>;
}
