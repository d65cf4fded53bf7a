/**
 * The device relay over HTTP: the gateway attaches a WebSocket (`/device`) or an SSE stream
 * (`/device/events`) to receive frames for the device, and posts the device's frames to `/messages` when it
 * cannot hold a WebSocket. Everything protocol-related happens in the session's Durable Object.
 */
import { z } from "zod";
import { AppException, appError, unwrap } from "../core/errors";
import { DeviceFramesBody, FramesOutcome } from "../core/schemas";
import { relayToSession } from "../session/session-directory";
import { scopeOf } from "./tenancy";
import { EXAMPLE_FRAME, EXAMPLE_SESSION } from "./examples";
import { route } from "./openapi/spec";
import { SessionParams } from "./request";

export const deviceRoutes = [
  route(
    {
      method: "get",
      path: "/api/v1/mcp/sessions/{sessionId}/device",
      operationId: "attachDeviceRelay",
      summary: "Attach the device relay as a WebSocket (Upgrade: websocket)",
      description:
        "The gateway opens this WebSocket after bind and relays, both ways and unchanged, the text frames " +
        "`{\"session_id\",\"type\":\"mcp\",\"payload\":{JSON-RPC}}` it exchanges with the device. The session then " +
        "runs the device handshake (initialize, tools/list) itself. A new relay replaces the previous one " +
        "(closed with 4001); unbind and expiry close it with 4000. Needs a bound session.",
      tags: ["device"],
      agents: true,
      params: SessionParams,
      response: { status: 101, description: "Switching Protocols: the relay WebSocket" },
      errors: ["session_not_found"],
      examples: { params: { sessionId: EXAMPLE_SESSION } },
    },
    async (c, { params }) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new AppException(appError("invalid_request", "Expected a WebSocket upgrade (Upgrade: websocket)"));
      }
      return relayToSession(c.env.SESSIONS, params.sessionId, c.req.raw, { kind: "relay", agent_scope: scopeOf(c) });
    },
  ),
  route(
    {
      method: "get",
      path: "/api/v1/mcp/sessions/{sessionId}/device/events",
      operationId: "attachDeviceEvents",
      summary: "Attach the device relay as server-sent events (for gateways without WebSockets)",
      description:
        "Frames for the device arrive as `event: mcp` with an integer `id` and the envelope JSON as `data`; " +
        "the device's replies go to POST …/messages. Reconnect with `Last-Event-ID` to resume without loss " +
        "(a bounded outbox is kept). Comment lines (`: ping`, every second) keep the stream alive and let a gone " +
        "gateway be noticed quickly.",
      tags: ["device"],
      agents: true,
      params: SessionParams,
      headers: z.object({ "Last-Event-ID": z.string().regex(/^\d+$/).optional().describe("Resume after this event id") }),
      response: { contentType: "text/event-stream", description: "The SSE stream", schema: z.string() },
      errors: ["session_not_found"],
      examples: {
        params: { sessionId: EXAMPLE_SESSION },
        response:
          ": relay open\n\nid: 1\nevent: mcp\ndata: " +
          JSON.stringify({
            session_id: EXAMPLE_SESSION,
            type: "mcp",
            payload: {
              jsonrpc: "2.0",
              id: 1,
              method: "initialize",
              params: {
                protocolVersion: "2024-11-05",
                capabilities: { vision: { url: "", token: "" } },
                clientInfo: { name: "XiaozhiClient", version: "1.0.0" },
              },
            },
          }) +
          "\n\n",
      },
    },
    async (c, { params }) => relayToSession(c.env.SESSIONS, params.sessionId, c.req.raw, { kind: "relay-events", agent_scope: scopeOf(c) }),
  ),
  route(
    {
      method: "post",
      path: "/api/v1/mcp/sessions/{sessionId}/messages",
      operationId: "postDeviceFrames",
      summary: "Relay the device's frames over HTTP: one envelope, or {frames:[…]}",
      description: "Each frame is handled as if it came over the relay WebSocket; a bad frame is counted as dropped, never fatal.",
      tags: ["device"],
      agents: true,
      params: SessionParams,
      body: DeviceFramesBody,
      response: { description: "How many frames were accepted and dropped", schema: FramesOutcome },
      errors: ["session_not_found"],
      examples: { params: { sessionId: EXAMPLE_SESSION }, body: EXAMPLE_FRAME, response: { success: true, result: { accepted: 1, dropped: 0 } } },
    },
    async (c, { params, body }) => {
      const frames = "frames" in body && Array.isArray(body.frames) ? body.frames : [body];
      return unwrap(await c.get("service").handleDeviceFrames({ session_id: params.sessionId, frames }));
    },
  ),
];
