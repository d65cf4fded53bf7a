/**
 * The OpenAPI 3.1 document of the service (`GET /api/v1/openapi.json`), generated from the route specs the
 * handlers are mounted from (spec.ts), so it cannot drift from them.
 */
import { z } from "zod";
import { VERSION } from "../../version";
import { errorStatuses, TAGS, type AnyRouteSpec, type Tag } from "./spec";
import { NAMED_SCHEMAS, SHARED_RESPONSE_SCHEMAS } from "./components";

type JsonSchema = z.core.JSONSchema.BaseSchema;
type JsonObject = { [key: string]: unknown };

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  servers: OpenApiServer[];
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonObject> };
}

export interface OpenApiServer {
  url: string;
  description: string;
}

const COMPONENT_REF = "#/components/schemas/";

/** Builds the document from a route table. */
export function buildOpenApiDocument(routes: readonly AnyRouteSpec[], servers: readonly OpenApiServer[] = []): OpenApiDocument {
  const names = componentNames(routes);
  const requestSchemas = componentSchemas(names.requests, "input");
  const responseSchemas = componentSchemas(names.responses, "output");
  for (const [name, schema] of Object.entries(responseSchemas)) {
    if (name in requestSchemas && JSON.stringify(requestSchemas[name]) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI component ${name} differs between request and response use`);
    }
  }
  const schemas = { ...requestSchemas, ...responseSchemas };

  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`Duplicate OpenAPI route ${route.method.toUpperCase()} ${route.path}`);
    item[route.method] = operation(route, names);
  }
  const usedTags = new Set(routes.flatMap((route) => route.tags));
  return {
    openapi: "3.1.0",
    info: {
      title: "xiaozhi MCP service",
      version: VERSION,
      description:
        "The tool service of the xiaozhi voice-assistant stack. Every error is `{error:{code,message,details?}}` " +
        "with a stable `code`; the HTTP status follows from the code. See docs/integration.md.",
    },
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    servers: servers.length > 0 ? [...servers] : [{ url: "http://127.0.0.1:8787", description: "npm start" }],
    tags: Object.entries(TAGS)
      .filter(([name]) => usedTags.has(name as Tag))
      .map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "One of the tokens in MCP_SERVICE_TOKEN, or an agent token (POST /api/v1/mcp/agents/{agentId}/tokens) where the operation allows it (`x-agent-tokens`)" },
        tokenQuery: { type: "apiKey", in: "query", name: "token", description: "The same token as ?token=, on the MCP endpoints only" },
      },
    },
  };
}

interface ComponentNames {
  requests: Map<z.ZodType, string>;
  responses: Map<z.ZodType, string>;
}

function componentNames(routes: readonly AnyRouteSpec[]): ComponentNames {
  const named = new Map(NAMED_SCHEMAS.map(([name, schema]) => [schema, name] as const));
  const requests = new Map<z.ZodType, string>();
  const responses = new Map<z.ZodType, string>();
  const nameOf = (schema: z.ZodType, fallback: string) => named.get(schema) ?? fallback;
  const title = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);
  for (const route of routes) {
    if (route.body) requests.set(route.body, nameOf(route.body, `${title(route.operationId)}Request`));
    if (route.response.schema && (route.response.contentType ?? "application/json") === "application/json") {
      responses.set(route.response.schema, nameOf(route.response.schema, `${title(route.operationId)}Response`));
    }
    for (const [status, other] of Object.entries(route.otherResponses ?? {})) {
      if (other.schema) responses.set(other.schema, nameOf(other.schema, `${title(route.operationId)}Response${status}`));
    }
  }
  // Nested in several bodies: a component of their own, so generated clients get one type for each.
  for (const schema of SHARED_RESPONSE_SCHEMAS) if (!responses.has(schema)) responses.set(schema, nameOf(schema, ""));
  return { requests, responses };
}

/** Converts a set of named schemas at once, so nested named schemas become `$ref`s between components. */
function componentSchemas(named: Map<z.ZodType, string>, io: "input" | "output"): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  const ids = new Set<string>();
  for (const [schema, id] of named) {
    if (ids.has(id)) throw new Error(`OpenAPI component name ${id} is used by two different schemas`);
    ids.add(id);
    registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `${COMPONENT_REF}${id}`, override: publishable(io) });
  const shared = schemas.__shared?.$defs ?? {};
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    if (id === "__shared") continue;
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    out[id] = inlineShared(rest, shared, `${COMPONENT_REF}__shared#/$defs/`) as JsonSchema;
  }
  return out;
}

/** A schema converted on its own (path and query parameters), with zod's `$defs` inlined. */
function standalone(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { io, override: publishable(io) });
  return inlineShared(rest, $defs ?? {}, "#/$defs/") as JsonSchema;
}

/**
 * Adjusts zod's output for publication:
 * - `z.json()` is recursive; zod emits it as a self-referencing `$def` whose registry URI
 *   (`…/__shared#/$defs/…`) is no valid OpenAPI reference. It means "any JSON value", which is `{}` in JSON
 *   Schema and `json.RawMessage`/`interface{}` to a Go generator.
 * - Non-strict objects drop `additionalProperties:false`: a client must accept fields added later.
 *   Strict request bodies keep it, because the service refuses unknown keys there.
 */
const publishable =
  (io: "input" | "output") =>
  (ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void => {
    const def = ctx.zodSchema._zod.def;
    if (isJsonValue(ctx.zodSchema)) {
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonObject)[key];
      ctx.jsonSchema.description = "Any JSON value";
      return;
    }
    if (def.type === "object" && def.catchall === undefined) delete ctx.jsonSchema.additionalProperties;
    // zod bounds `.int()` by ±(2^53-1); that is JSON's safe range, not a rule of the API: leave it out.
    if (ctx.jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete ctx.jsonSchema.minimum;
    if (ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete ctx.jsonSchema.maximum;
    // A request field with a default may be left out. Generators read `default` as "always present"
    // (openapi-typescript makes such a field required), so in requests the default is said in words.
    if (io === "input" && "default" in ctx.jsonSchema) {
      const { default: fallback, ...rest } = ctx.jsonSchema;
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonObject)[key];
      Object.assign(ctx.jsonSchema, rest, { description: [rest.description, `Default: ${JSON.stringify(fallback)}.`].filter(Boolean).join(" ") });
    }
  };

const JSON_MEMBERS = ["array", "boolean", "null", "number", "record", "string"].join();

function isJsonValue(schema: z.core.$ZodTypes): boolean {
  const def = schema._zod.def;
  if (def.type !== "lazy") return false;
  const inner = (def.getter() as z.core.$ZodTypes)._zod.def;
  return inner.type === "union" && inner.options.map((option) => option._zod.def.type).sort().join() === JSON_MEMBERS;
}

function inlineShared(node: unknown, defs: Record<string, JsonSchema>, prefix: string): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineShared(item, defs, prefix));
  if (typeof node !== "object" || node === null) return node;
  const object = node as JsonObject;
  const ref = object.$ref;
  if (typeof ref === "string" && ref.startsWith(prefix)) {
    const target = defs[ref.slice(prefix.length)];
    if (!target) throw new Error(`Unresolvable zod reference ${ref}`);
    const { $ref: _ref, ...siblings } = object;
    return { ...(inlineShared(target, defs, prefix) as JsonObject), ...siblings };
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, inlineShared(value, defs, prefix)]));
}

/** The route's description, followed by who may call it. */
function describedAccess(route: AnyRouteSpec): string | undefined {
  if (route.public) return route.description;
  const access =
    route.agents === true || route.protocol === "trpc"
      ? "Service tokens and agent tokens (an agent token reaches its own agent only)."
      : "Service tokens only: an agent token is answered 403 `forbidden`.";
  return [route.description, access].filter(Boolean).join(" ");
}

function operation(route: AnyRouteSpec, names: ComponentNames): JsonObject {
  const trpc = route.protocol === "trpc";
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    ...(describedAccess(route) ? { description: describedAccess(route) } : {}),
    tags: [...route.tags],
    // Who may call it: a service token always; an agent token where the route allows it, confined to its agent.
    ...(route.public ? {} : { "x-agent-tokens": route.agents === true || route.protocol === "trpc" }),
    ...(route.public ? { security: [] } : {}),
    ...(route.tokenInQuery ? { security: [{ bearerAuth: [] }, { tokenQuery: [] }] } : {}),
  };
  const parameters = [
    ...parametersOf(route.params, "path", false, route.examples?.params),
    ...parametersOf(route.query, "query", trpc, route.examples?.query),
    ...parametersOf(route.headers, "header", false, undefined),
  ];
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) {
    op.requestBody = {
      required: true,
      content: { "application/json": withExample({ schema: refTo(route.body, names.requests) }, route.examples?.body) },
    };
  }
  op.responses = responsesOf(route, names);
  return op;
}

function parametersOf(schema: z.ZodObject | undefined, where: "path" | "query" | "header", json: boolean, example: unknown): JsonObject[] {
  if (!schema) return [];
  const converted = standalone(schema, "input");
  const required = new Set(converted.required ?? []);
  const examples = (example ?? {}) as JsonObject;
  return Object.entries(converted.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property as JsonSchema;
    const value = examples[name];
    const base: JsonObject = { name, in: where, required: where === "path" || required.has(name) };
    if (description) base.description = description;
    // tRPC queries carry their input as JSON text: OpenAPI says so with `content` instead of `schema`.
    if (json) return { ...base, content: { "application/json": withExample({ schema: propertySchema }, value) } };
    return { ...base, schema: propertySchema, ...(value === undefined ? {} : { example: value }) };
  });
}

function responsesOf(route: AnyRouteSpec, names: ComponentNames): JsonObject {
  const success = route.response;
  const responses: JsonObject = {};
  const contentType = success.contentType ?? "application/json";
  const media = success.schema
    ? {
        [contentType]: withExample(
          { schema: contentType === "application/json" ? refTo(success.schema, names.responses) : standalone(success.schema, "output") },
          route.examples?.response,
        ),
      }
    : undefined;
  responses[String(success.status ?? 200)] = { description: success.description, ...(media ? { content: media } : {}) };
  for (const [status, other] of Object.entries(route.otherResponses ?? {})) {
    responses[status] = other.schema
      ? { description: other.description, content: { "application/json": { schema: refTo(other.schema, names.responses) } } }
      : { description: other.description };
  }
  const errorSchema = { $ref: `${COMPONENT_REF}${route.protocol === "trpc" ? "TrpcErrorBody" : "ErrorBody"}` };
  for (const [status, codes] of errorStatuses(route)) {
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\``).join(", "),
      "x-error-codes": codes,
      ...(status === 429 ? { headers: { "Retry-After": RETRY_AFTER_HEADER } } : {}),
      content: { "application/json": { schema: errorSchema } },
    };
  }
  return responses;
}

/** Sent with a 429 whose limit says when to retry (the per-agent rate limits: the end of their window). */
const RETRY_AFTER_HEADER: JsonObject = {
  description: "Seconds to wait before retrying (RFC 9110), when the limit that refused the request says",
  schema: { type: "integer", minimum: 0 },
};

function refTo(schema: z.ZodType, names: Map<z.ZodType, string>): JsonObject {
  const name = names.get(schema);
  if (!name) throw new Error("OpenAPI schema without a component name");
  return { $ref: `${COMPONENT_REF}${name}` };
}

function withExample(media: JsonObject, example: unknown): JsonObject {
  return example === undefined ? media : { ...media, example };
}
