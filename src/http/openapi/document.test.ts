/**
 * The document against a real OpenAPI 3.1 validator, and every example against both its zod schema and the
 * JSON Schema generated from it. Runs in Node: the validator reads its meta-schemas from disk (and compiles
 * them with Ajv, which the Workers runtime would refuse), so it cannot run inside workerd.
 */
import { Validator as JsonSchemaValidator, type Schema } from "@cfworker/json-schema";
import { Validator as OpenApiValidator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ERROR_CODES, HTTP_STATUS } from "../../core/errors";
import { ToolResult } from "../../core/schemas";
import { openApiDocument, ROUTES } from "../routes";
import { buildOpenApiDocument } from "./document";
import { defineRoute, errorStatuses, type AnyRouteSpec } from "./spec";

type JsonObject = Record<string, unknown>;

const doc = openApiDocument();

/** A JSON Schema validator for one component or inline schema, with every component resolvable. */
function validatorFor(schema: unknown): JsonSchemaValidator {
  const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll("#/components/schemas/", "#/$defs/")) as Schema;
  return new JsonSchemaValidator({ ...rewrite(schema), $defs: rewrite(doc.components.schemas) } as Schema, "2020-12", false);
}

function operationOf(route: AnyRouteSpec): JsonObject {
  const operation = doc.paths[route.path]?.[route.method];
  if (!operation) throw new Error(`missing ${route.method} ${route.path}`);
  return operation;
}

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new OpenApiValidator().validate(structuredClone(doc) as unknown as JsonObject);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it("is checked by a validator that does reject broken documents", async () => {
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, JsonObject>> };
    const operation = broken.paths["/api/v1/mcp/tools"]?.get as JsonObject;
    operation.responses = { "200": { content: { "application/json": { schema: { $ref: "#/components/schemas/Nope" } } } } };
    const result = await new OpenApiValidator().validate(broken as unknown as JsonObject);
    expect(result.valid).toBe(false);
  });

  it("has unique operation ids and bearer auth everywhere except the probes and the self-authenticated endpoint routes", () => {
    const ids = ROUTES.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const route of ROUTES) {
      const operation = operationOf(route);
      if (["/healthz", "/readyz", "/api/v1/mcp/endpoint"].includes(route.path) || route.path.startsWith("/mcp_endpoint/")) expect(operation.security).toEqual([]);
      else if (route.tags.includes("mcp")) expect(operation.security).toEqual([{ bearerAuth: [] }, { tokenQuery: [] }]);
      else expect(operation.security, route.path).toBeUndefined(); // inherits the document's bearerAuth
    }
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("describes errors with the ErrorBody schema, whose code is the enum of ERROR_CODES", () => {
    const error = (doc.components.schemas.ErrorBody?.properties?.error ?? {}) as { properties?: { code?: { enum?: unknown } } };
    expect(error.properties?.code?.enum).toEqual([...ERROR_CODES]);
    for (const route of ROUTES) {
      const responses = operationOf(route).responses as Record<string, { "x-error-codes"?: string[] }>;
      for (const [status, codes] of errorStatuses(route)) {
        expect(responses[String(status)]?.["x-error-codes"], `${route.operationId} ${status}`).toEqual(codes);
        for (const code of codes) expect(HTTP_STATUS[code]).toBe(status);
      }
    }
  });

  it("documents 429 with Retry-After on every route the per-agent limits count (binds and tool calls)", () => {
    const limited = ["bindSession", "executeTool", "trpcBindSession", "trpcExecuteTool"];
    for (const id of limited) {
      const route = ROUTES.find((candidate) => candidate.operationId === id);
      if (!route) throw new Error(`no route ${id}`);
      const responses = operationOf(route).responses as Record<string, JsonObject>;
      expect(responses["429"]?.["x-error-codes"], id).toContain("rate_limited");
      expect(responses["429"]?.headers, id).toEqual({ "Retry-After": expect.objectContaining({ schema: { type: "integer", minimum: 0 } }) });
    }
    // No other status carries the header.
    for (const route of ROUTES) {
      for (const [status, response] of Object.entries(operationOf(route).responses as Record<string, JsonObject>)) {
        if (status !== "429") expect(response.headers, `${route.operationId} ${status}`).toBeUndefined();
      }
    }
  });

  it("publishes z.json() as an unconstrained schema, never as a dangling zod reference", () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain("__shared");
    expect(text).not.toContain("$defs");
    const result = (doc.components.schemas.ToolResult?.properties ?? {}) as Record<string, unknown>;
    expect(result.result).toEqual({ description: "Any JSON value" });
  });

  it("keeps unknown keys out of strict request bodies and allows new fields in responses", () => {
    expect(doc.components.schemas.BindSessionBody?.additionalProperties).toBe(false);
    expect(doc.components.schemas.SessionView?.additionalProperties).toBeUndefined();
    // Defaults make request fields optional (io: "input"); responses list every field as required.
    expect(doc.components.schemas.BindSessionBody?.required).toEqual(["device_id"]);
    expect(doc.components.schemas.ToolResult?.required).toEqual(["success", "action", "result"]);
  });

  it("refuses a table with two schemas under one component name or a duplicate route", () => {
    const first = ROUTES[0] as AnyRouteSpec;
    expect(() => buildOpenApiDocument([first, first])).toThrow(/Duplicate/);
    const clash = defineRoute({
      method: "post",
      path: "/x",
      operationId: "x",
      summary: "x",
      tags: ["ops"],
      body: z.object({ a: z.string() }),
      response: { description: "x", schema: z.object({ b: z.string() }) },
      errors: [],
    });
    const other = { ...clash, path: "/y" as const, method: "put" as const, body: ToolResult.extend({}) };
    expect(() => buildOpenApiDocument([clash, { ...other, operationId: "x" }])).toThrow(/component name XRequest/);
  });
});

describe("examples", () => {
  const cases = ROUTES.flatMap((route) => {
    const examples = route.examples ?? {};
    const operation = () => operationOf(route);
    const out: { name: string; check: () => void }[] = [];
    const both = (label: string, schema: z.ZodType, value: unknown, jsonSchema: () => unknown, io: "input" | "output") => {
      out.push({
        name: `${route.operationId} ${label}`,
        check: () => {
          const parsed = schema.safeParse(value);
          expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
          if (io === "output") expect(parsed.data).toEqual(value); // a response example is exactly what is sent
          const result = validatorFor(jsonSchema()).validate(value);
          expect(result.errors).toEqual([]);
        },
      });
    };
    if (route.params && examples.params !== undefined) {
      both("params", route.params, examples.params, () => objectOfParameters(operation(), "path"), "input");
    }
    if (route.query && examples.query !== undefined) {
      both("query", route.query, examples.query, () => objectOfParameters(operation(), "query"), "input");
    }
    if (route.body && examples.body !== undefined) {
      const content = () => (operation().requestBody as { content: Record<string, { schema: unknown }> }).content["application/json"]?.schema;
      both("body", route.body, examples.body, content, "input");
    }
    if (route.response.schema && examples.response !== undefined) {
      const content = () =>
        ((operation().responses as Record<string, { content: Record<string, { schema: unknown }> }>)[String(route.response.status ?? 200)]
          ?.content[route.response.contentType ?? "application/json"]?.schema);
      both("response", route.response.schema, examples.response, content, "output");
    }
    return out;
  });

  it("exist for every REST and tRPC operation", () => {
    const withoutExamples = ROUTES.filter((route) => route.response.schema && route.examples?.response === undefined).map((r) => r.operationId);
    expect(withoutExamples).toEqual(["getOpenApi"]);
  });

  it.each(cases)("$name validates against its zod schema and the published JSON Schema", ({ check }) => check());
});

/** Path or query parameters as one object schema, to validate an example object against. */
function objectOfParameters(operation: JsonObject, where: "path" | "query"): JsonObject {
  const parameters = (operation.parameters as JsonObject[]).filter((parameter) => parameter.in === where);
  const properties = Object.fromEntries(
    parameters.map((parameter) => {
      const content = parameter.content as Record<string, { schema: unknown }> | undefined;
      return [parameter.name as string, content ? content["application/json"]?.schema : parameter.schema];
    }),
  );
  const required = parameters.filter((parameter) => parameter.required).map((parameter) => parameter.name as string);
  return { type: "object", properties, required };
}
