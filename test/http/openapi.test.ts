/**
 * The OpenAPI document against the app as it really is: every route registered on the Hono app is documented
 * (and nothing else), every tRPC procedure is documented with the right method, every example validates, and
 * the document is served behind the bearer token. A failure here names the table entry to add in
 * its route module (src/http/openapi/spec.ts explains how).
 */
import { inspectRoutes } from "hono/dev";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app";
import { z } from "zod";
import { openApiDocument, ROUTE_DEFINITIONS, ROUTES } from "../../src/http/routes";
import { appRouter } from "../../src/trpc/router";
import { call } from "../support/api";

const doc = openApiDocument();
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Registered routes; `use` middleware is registered as method ALL with a (c, next) handler. */
const registered = inspectRoutes(app)
  .filter((route) => !(route.method === "ALL" && route.isMiddleware))
  .map((route) => ({ method: route.method.toLowerCase(), path: route.path }));

const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((method) => item[method]).map((method) => ({ method, path })),
);

/** Hono's `/a/:id{[0-9]+}/b` → OpenAPI's `/a/{id}/b`; a trailing `*` matches any rest of the path. */
function matches(route: { method: string; path: string }, operation: { method: string; path: string }): boolean {
  if (route.method !== "all" && route.method !== operation.method) return false;
  // A path and the same path with a trailing slash are one resource (documented once, as `aliases`).
  const openApiPath = route.path.replace(/:(\w+)(\{[^}]*\})?\??/g, "{$1}").replace(/(.)\/$/, "$1");
  if (openApiPath.endsWith("/*")) return operation.path.startsWith(openApiPath.slice(0, -1));
  return openApiPath === operation.path;
}

describe("OpenAPI coverage of the app", () => {
  it("found the app's routes", () => {
    expect(registered.length).toBeGreaterThanOrEqual(8);
    expect(registered).toContainEqual({ method: "get", path: "/healthz" });
  });

  it("documents every route registered on the Hono app", () => {
    const missing = registered.filter((route) => !documented.some((operation) => matches(route, operation)));
    expect(missing, "define each of these with route({...}, handler) in its module (src/http/openapi/spec.ts)").toEqual([]);
  });

  it("documents nothing that is not a route", () => {
    const stale = documented.filter((operation) => !registered.some((route) => matches(route, operation)));
    expect(stale, "these table entries match no route of the app").toEqual([]);
  });

  it("documents every tRPC procedure: queries as GET ?input=<JSON>, mutations as POST", () => {
    const procedures = Object.entries(appRouter._def.procedures as Record<string, { _def: { type: string } }>).map(
      ([name, procedure]) => ({ path: `/trpc/${name}`, method: procedure._def.type === "query" ? "get" : "post" }),
    );
    const trpcDocumented = documented.filter((operation) => operation.path.startsWith("/trpc/"));
    expect(trpcDocumented.sort((a, b) => a.path.localeCompare(b.path))).toEqual(
      procedures.sort((a, b) => a.path.localeCompare(b.path)),
    );
  });
});

describe("OpenAPI schemas are the validating schemas", () => {
  it("documents each tRPC procedure with the very input schema the router validates with", () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { inputs: z.ZodType[] } }>;
    for (const spec of ROUTES.filter((route) => route.protocol === "trpc")) {
      const name = spec.path.slice("/trpc/".length);
      const input = procedures[name]!._def.inputs[0]!;
      if (spec.body) expect(spec.body, name).toBe(input);
      else {
        const documented = (spec.query!.shape as { input: z.ZodType }).input;
        const { description: _text, ...schema } = z.toJSONSchema(documented, { io: "input" }) as Record<string, unknown>;
        expect(schema, name).toEqual(z.toJSONSchema(input, { io: "input" }));
      }
    }
  });

  it("parses every REST route's input with its documented schemas (routes are mounted from their specs)", () => {
    for (const definition of ROUTE_DEFINITIONS.filter((entry) => entry.spec.protocol !== "trpc")) expect(definition.handler, definition.spec.operationId).toBeDefined();
  });
});

describe("OpenAPI examples", () => {
  const cases = ROUTES.flatMap((route) =>
    (
      [
        ["params", route.params, route.examples?.params],
        ["query", route.query, route.examples?.query],
        ["body", route.body, route.examples?.body],
        ["response", route.response.schema, route.examples?.response],
      ] as const
    )
      .filter(([, schema, example]) => schema !== undefined && example !== undefined)
      .map(([part, schema, example]) => ({ name: `${route.operationId} ${part}`, schema, example })),
  );

  it("cover every route's body and JSON response", () => {
    for (const route of ROUTES) {
      if (route.body) expect(route.examples?.body, route.operationId).toBeDefined();
      if (route.response.schema && route.operationId !== "getOpenApi") expect(route.examples?.response, route.operationId).toBeDefined();
    }
  });

  it.each(cases)("$name validates against its zod schema", ({ schema, example }) => {
    const parsed = schema?.safeParse(example);
    expect(parsed?.success ? [] : parsed?.error.issues).toEqual([]);
  });
});

describe("GET /api/v1/openapi.json", () => {
  it("serves the generated document", async () => {
    const response = await call("/api/v1/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    // The document served names the origin it is served from in `servers`.
    expect(response.body).toEqual(JSON.parse(JSON.stringify(openApiDocument("http://service.test"))));
  });

  it("needs the bearer token like the rest of /api", async () => {
    const response = await call("/api/v1/openapi.json", { token: null });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthorized");
  });
});
