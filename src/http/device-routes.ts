/**
 * The device relay over HTTP: the gateway attaches a WebSocket (`/device`) or an SSE stream
 * (`/device/events`) to receive frames for the device, and posts the device's frames to `/messages` when it
 * cannot hold a WebSocket. Everything protocol-related happens in the session's Durable Object.
 */
import { Hono } from "hono";
import { AppException, appError } from "../core/errors";
import { DeviceFramesBody, SessionId } from "../core/schemas";
import { relayToSession } from "../session/session-directory";
import type { AppEnv } from "./app-env";
import { parseInput, readJson } from "./request";
import { unwrap } from "../core/errors";

export const deviceRoutes = new Hono<AppEnv>()
  .get("/sessions/:sessionId/device", async (c) => {
    const sessionId = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppException(appError("invalid_request", "Expected a WebSocket upgrade (Upgrade: websocket)"));
    }
    return relayToSession(c.env.SESSIONS, sessionId, c.req.raw, { kind: "relay" });
  })
  .get("/sessions/:sessionId/device/events", async (c) => {
    const sessionId = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    return relayToSession(c.env.SESSIONS, sessionId, c.req.raw, { kind: "relay-events" });
  })
  .post("/sessions/:sessionId/messages", async (c) => {
    const session_id = parseInput(SessionId, c.req.param("sessionId"), "sessionId");
    const body = parseInput(DeviceFramesBody, await readJson(c), "body");
    const frames = "frames" in body && Array.isArray(body.frames) ? body.frames : [body];
    return c.json(unwrap(await c.get("service").handleDeviceFrames({ session_id, frames })));
  });
