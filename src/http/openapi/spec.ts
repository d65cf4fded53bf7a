/**
 * Routes are defined once: a {@link RouteSpec} (path, schemas, examples, the errors it can answer) and the
 * handler that serves it, side by side in the route's own module. {@link mount} registers the handler on the
 * app from the spec — its params, query and body are parsed with the spec's own schemas — and the OpenAPI
 * document (document.ts) is generated from the same specs. A path or a schema is never written twice.
 *
 * ## Adding a route
 * In the module of its area, next to its siblings:
 * ```ts
 * route(
 *   {
 *     method: "post",
 *     path: "/api/v1/mcp/widgets/{widgetId}/poke", // OpenAPI form `{param}`, not Hono's `:param`
 *     operationId: "pokeWidget",                    // unique; a generated client's method name
 *     summary: "Poke a widget",
 *     tags: ["tools"],
 *     params: z.object({ widgetId: WidgetId }),     // optional; likewise `query`
 *     body: PokeBody,                               // optional: parsed (io:"input") before the handler runs
 *     response: { description: "Poked", schema: PokeResult }, // the 200 body (io:"output"): the handler's type
 *     errors: ["session_not_found"],                // codes the handler itself can answer (see below)
 *     examples: { params: { widgetId: "w1" }, body: { force: 1 }, response: { ok: true } },
 *   },
 *   async (c, { params, body }) => poke(params.widgetId, body), // returns the response schema's type

 * ),
 * ```
 * and add the module's list to src/http/routes.ts if it is a new module. Then
 * `npx vitest run test/http src/http/openapi`: examples must validate against the schemas (and the REST ones
 * are replayed against the worker in test/http/examples.test.ts when listed there).
 * - Reuse the schemas of src/core/schemas.ts (or the module's own); never restate a shape.
 * - `errors` lists codes of src/core/errors.ts; the document groups them by HTTP status. Added automatically:
 *   `unauthorized` + `config_invalid` (bearer/config middleware) unless `public`, `invalid_request` with
 *   params/query/headers/body, `payload_too_large` with a body (unless `oversizedBody` says otherwise), `internal` always.
 * - Not JSON? `response: { status: 101, description }` documents a WebSocket upgrade (no schema);
 *   `response: { contentType: "text/event-stream", schema: z.string(), description }` an SSE stream (likewise
 *   `text/plain; version=0.0.4` for Prometheus text). Such handlers answer a `Response` themselves, as does a
 *   handler answering another status (`otherResponses`, e.g. `/readyz`'s 503 report).
 * - `agents: true` lets agent tokens call the route; the core (sessions) or the handler (an `{agentId}` path)
 *   must confine them to their agent. Without it only service tokens pass.
 * - `public: true` only for routes outside /api, /trpc and /mcp; `protocol: "trpc"` for /trpc procedures
 *   (documented here, served by tRPC's own adapter); `tokenInQuery: true` where `?token=` is accepted too.
 * - `parse` says what {@link mount} parses for the handler (default: every schema the spec has). A route that
 *   reads its input its own way (the MCP SDK parses JSON-RPC; a WebSocket route checks its token) documents the
 *   wire format and turns parsing off for that part.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppException, appError, ERROR_CODES, HTTP_STATUS, type ErrorCode } from "../../core/errors";
import type { AppEnv } from "../app-env";
import { parseInput, readJson } from "../request";

type Method = "get" | "post" | "put" | "patch" | "delete";
export type Tag = "sessions" | "tools" | "ops" | "trpc" | "servers" | "device" | "mcp" | "providers" | "agents";

export const TAGS: Record<Tag, string> = {
  sessions: "Bind a conversation's context to a session, read it, unbind it",
  tools: "The LLM-facing tool list of a session, and tool execution",
  device: "Relay of the device's MCP frames (type:\"mcp\") through the session",
  servers: "External MCP servers",
  mcp: "The service as an MCP server (Streamable HTTP) for generic MCP clients",
  providers: "Dial-in tool providers (MCP 接入点): an agent's providers connect over WebSocket",
  agents: "Agents as tenants: an agent's own configuration and its tokens (service tokens only)",
  ops: "Health, readiness and this document",
  trpc: "The same operations over tRPC v11 (plain JSON, no transformer); queries are GET ?input=<JSON>",
};

export interface RouteSpec<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  R extends z.ZodType,
  H extends z.ZodObject = z.ZodObject,
> {
  method: Method;
  /** OpenAPI form: `/api/v1/mcp/sessions/{sessionId}`. */
  path: `/${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly Tag[];
  /** No bearer token (only /healthz and /readyz: everything under /api and /trpc is authenticated). */
  public?: boolean;
  /** `trpc`: errors use tRPC's envelope; query parameters are JSON text (`?input=<JSON>`). */
  protocol?: "rest" | "trpc";
  params?: P;
  query?: Q;
  /** Request headers the route reads (not Authorization: that is the security scheme). */
  headers?: H;
  body?: B;
  response: {
    status?: 200 | 101;
    description: string;
    schema?: R;
    /** Default `application/json` (the schema becomes a component); anything else is described inline. */
    contentType?: string;
  };
  /** Codes the handler can answer besides the implicit ones (see the header of this file). */
  errors: readonly ErrorCode[];
  /** Non-error responses with another status, e.g. `/readyz`'s 503 report. */
  otherResponses?: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
  /** MCP endpoints also accept the token as `?token=` (clients that cannot set headers). */
  tokenInQuery?: boolean;
  /**
   * Agent tokens may call it too, confined to their own agent (the core or the handler scopes them); default:
   * service tokens only, and {@link mount} answers an agent token 403.
   */
  agents?: boolean;
  examples?: {
    params?: z.input<P>;
    query?: z.input<Q>;
    body?: z.input<B>;
    response?: z.output<R>;
  };
  /** What {@link mount} parses for the handler; default: every part the spec has a schema for. */
  parse?: { params?: boolean; query?: boolean; body?: boolean };
  /**
   * The handler also answers the methods no spec documents at this path (the MCP transport answers them 405
   * itself): mounted for every method once.
   */
  allMethods?: boolean;
  /**
   * How a body over the size limit is answered: `payload_too_large` (413) by default; `invalid_request` (400)
   * where the contract calls an oversized body invalid input (agent configs).
   */
  oversizedBody?: "payload_too_large" | "invalid_request";
  /** Paths served by the same handler but not documented apart (the same path with a trailing slash). */
  aliases?: readonly string[];
}

export type AnyRouteSpec = RouteSpec<z.ZodObject, z.ZodObject, z.ZodType, z.ZodType, z.ZodObject>;

/** Identity with inference: ties each route's examples to its own schemas at compile time. */
export function defineRoute<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType = z.ZodNever,
  R extends z.ZodType = z.ZodNever,
  H extends z.ZodObject = z.ZodObject,
>(spec: RouteSpec<P, Q, B, R, H>): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}


/** Every code a route can answer, grouped by HTTP status, in status order. */
export function errorStatuses(route: AnyRouteSpec): [number, ErrorCode[]][] {
  const codes = new Set<ErrorCode>(route.errors);
  if (!route.public) codes.add("unauthorized").add("forbidden").add("config_invalid");
  if (route.params || route.query || route.headers || route.body) codes.add("invalid_request");
  if (route.body) codes.add(route.oversizedBody ?? "payload_too_large");
  codes.add("internal");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of ERROR_CODES) {
    if (!codes.has(code)) continue;
    const status = HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return [...byStatus.entries()].sort(([a], [b]) => a - b);
}


/** What a handler gets: the parsed params, query and body of its request. */
export interface RouteInput<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

/** A JSON body of the documented response, or a Response the handler built itself. */
type Answer<R extends z.ZodType> = z.output<R> | Response;

export interface RouteDefinition {
  spec: AnyRouteSpec;
  /** Absent for routes served elsewhere (tRPC procedures: tRPC's own adapter serves `/trpc/*`). */
  handler?: (c: Context<AppEnv>, input: RouteInput<z.ZodObject, z.ZodObject, z.ZodType>) => Promise<unknown>;
}

/** A route: its spec and the handler that serves it, typed by the spec's schemas (inferred from the literal). */
export function route<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType = z.ZodNever,
  R extends z.ZodType = z.ZodNever,
  H extends z.ZodObject = z.ZodObject,
>(
  spec: RouteSpec<P, Q, B, R, H>,
  handler: (c: Context<AppEnv>, input: RouteInput<P, Q, B>) => Promise<Answer<R>>,
): RouteDefinition {
  return { spec: spec as unknown as AnyRouteSpec, handler: handler as RouteDefinition["handler"] };
}

/** A route documented here and served by another adapter (tRPC). */
export function documented(spec: AnyRouteSpec): RouteDefinition {
  return { spec };
}

/** Registers each defined handler at its spec's path and method, parsing its input with the spec's schemas. */
export function mount(app: Hono<AppEnv>, definitions: readonly RouteDefinition[]): void {
  const everyMethod = new Set<string>();
  for (const { spec, handler } of definitions) {
    if (!handler) continue;
    const path = spec.path.replace(/\{(\w+)\}/g, ":$1");
    if (spec.allMethods && everyMethod.has(path)) continue;
    if (spec.allMethods) everyMethod.add(path);
    const parse = { params: true, query: true, body: true, ...spec.parse };
    const methods = spec.allMethods ? ["ALL"] : [spec.method.toUpperCase()];
    app.on(methods, [path, ...(spec.aliases ?? [])], async (c) => {
      if (!spec.public && !spec.agents && c.get("principal")?.kind === "agent") {
        throw new AppException(appError("forbidden", "This route needs a service token; an agent token cannot use it"));
      }
      const input = {
        params: spec.params && parse.params ? parseInput(spec.params, c.req.param(), "") : {},
        query: spec.query && parse.query ? parseInput(spec.query, c.req.query(), "") : {},
        body: spec.body && parse.body ? parseInput(spec.body, await readJson(c), "body") : undefined,
      };
      const answer = await handler(c, input);
      return answer instanceof Response ? answer : c.json(answer as never);
    });
  }
}
