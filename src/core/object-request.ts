/**
 * What the Worker tells a Durable Object about a request it hands over (a WebSocket upgrade, an SSE stream,
 * an MCP exchange): one typed value in one header, written by the Worker and read by the object with the same
 * schema. The Worker always sets it, so a value a client sent along is never trusted.
 */
import { z } from "zod";

export const ObjectRequest = z.discriminatedUnion("kind", [
  /** The device relay of a session, as a WebSocket; `agent_scope`: the caller is confined to that agent. */
  z.object({ kind: z.literal("relay"), agent_scope: z.string().optional() }),
  /** The device relay of a session, as server-sent events. */
  z.object({ kind: z.literal("relay-events"), agent_scope: z.string().optional() }),
  /**
   * A notification stream of an MCP endpoint (the exchanges themselves are served by the Worker): the session's
   * own, or with `shared` that of the shared `/mcp` endpoint of an agent ("" = none), held by the object `name`.
   */
  z.object({ kind: z.literal("mcp"), shared: z.object({ agent_id: z.string(), name: z.string() }).optional(), agent_scope: z.string().optional() }),
  /** A dial-in tool provider of an agent, with the name its token or `?name=` gave it. */
  z.object({ kind: z.literal("provider"), agent_id: z.string(), provider: z.string().nullable() }),
  /** A consumer of an agent's tools (xiaozhi-esp32-server's `/call/` connection). */
  z.object({ kind: z.literal("consumer"), agent_id: z.string() }),
]);
export type ObjectRequest = z.infer<typeof ObjectRequest>;

const HEADER = "x-xiaozhi-object-request";

/** The request as the object receives it. */
export function forObject(request: Request, call: ObjectRequest): Request {
  const forwarded = new Request(request);
  forwarded.headers.set(HEADER, JSON.stringify(call));
  return forwarded;
}

/** What the Worker said about `request`; undefined when it came another way (or was tampered with). */
export function objectRequestOf(request: Request): ObjectRequest | undefined {
  try {
    return ObjectRequest.safeParse(JSON.parse(request.headers.get(HEADER) ?? "null")).data;
  } catch {
    return undefined;
  }
}
