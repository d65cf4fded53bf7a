/**
 * Every route of the Worker, in document order: each module's definitions (spec + handler), and this
 * document's own route. The app mounts them (app.ts) and the OpenAPI document is generated from them.
 */
import { z } from "zod";
import { agentRoutes } from "./agent-routes";
import { deviceRoutes } from "./device-routes";
import { endpointRoutes } from "./endpoint-routes";
import { mcpRoutes } from "./mcp-routes";
import { metricsRoutes } from "./metrics-routes";
import { buildOpenApiDocument, type OpenApiDocument } from "./openapi/document";
import { route, type RouteDefinition } from "./openapi/spec";
import { opsRoutes } from "./ops-routes";
import { restRoutes } from "./rest";
import { serverRoutes } from "./server-routes";
import { tenantRoutes } from "./tenant-routes";
import { trpcRoutes } from "./trpc-routes";

/** The document itself is described loosely: it is validated by a real OpenAPI 3.1 validator in the tests. */
const OpenApiDocumentShape = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });

const documentRoute = route(
  {
    method: "get",
    path: "/api/v1/openapi.json",
    operationId: "getOpenApi",
    summary: "This OpenAPI 3.1 document",
    tags: ["ops"],
    agents: true,
    response: { description: "The document", schema: OpenApiDocumentShape },
    errors: [],
  },
  async (c) => c.json(openApiDocument(new URL(c.req.url).origin)),
);

export const ROUTE_DEFINITIONS: readonly RouteDefinition[] = [
  ...opsRoutes,
  documentRoute,
  ...metricsRoutes,
  ...restRoutes,
  ...serverRoutes,
  ...agentRoutes,
  ...tenantRoutes,
  ...endpointRoutes,
  ...deviceRoutes,
  ...mcpRoutes,
  ...trpcRoutes,
];

/** The specs alone (tests, the document). */
export const ROUTES = ROUTE_DEFINITIONS.map((definition) => definition.spec);

const documents = new Map<string, OpenApiDocument>();

/** The document, its `servers` entry naming the origin it is served from; built once per origin and isolate. */
export function openApiDocument(origin = "http://127.0.0.1:8787"): OpenApiDocument {
  let document = documents.get(origin);
  if (!document) {
    if (documents.size > 8) documents.clear();
    document = buildOpenApiDocument(ROUTES, [{ url: origin, description: "This deployment" }]);
    documents.set(origin, document);
  }
  return document;
}
