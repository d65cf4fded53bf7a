/**
 * Validates tool arguments against the upstream's own JSON Schema before anything is sent, so a bad call is
 * a 400 here rather than a round trip. `@cfworker/json-schema` interprets schemas (no code generation, which
 * the Workers runtime forbids). Pure; compiled validators are memoised by the caller's instance, not here.
 */
import { Validator, type Schema, type SchemaDraft } from "@cfworker/json-schema";
import { fail, ok, type Result } from "../../core/errors";

export interface ArgumentIssue {
  path: string;
  message: string;
}

export type ArgumentCheck = (args: Record<string, unknown>) => Result<void>;

/**
 * Compiles a checker for one tool's input schema. A schema this validator cannot compile (a remote `$ref`,
 * say) yields a checker that accepts everything: the upstream still validates, and a tool never becomes
 * uncallable because of our validator.
 */
export function compileArgumentCheck(toolName: string, inputSchema: Record<string, unknown>): ArgumentCheck {
  let validator: Validator;
  try {
    // The validator annotates the schema object it is given: hand it a copy, never the published schema.
    validator = new Validator(structuredClone(inputSchema) as Schema, draftOf(inputSchema), false);
  } catch {
    return () => ok(undefined);
  }
  return (args) => {
    let outcome: ReturnType<Validator["validate"]>;
    try {
      outcome = validator.validate(args);
    } catch {
      return ok(undefined);
    }
    if (outcome.valid) return ok(undefined);
    const issues = leafIssues(outcome.errors);
    const summary = issues
      .slice(0, 5)
      .map((issue) => `${issue.path || "(arguments)"}: ${issue.message}`)
      .join("; ");
    return fail("invalid_request", `Invalid arguments for ${toolName}: ${summary}`, { issues });
  };
}

/** The dialect the schema declares; MCP's default (2025-11-25) is 2020-12. */
function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const declared = typeof schema.$schema === "string" ? schema.$schema : "";
  if (declared.includes("draft-04")) return "4";
  if (declared.includes("draft-06") || declared.includes("draft-07")) return "7";
  if (declared.includes("2019-09")) return "2019-09";
  return "2020-12";
}

/**
 * cfworker reports a chain per failure ("properties" → "type"); the deepest entries say what is wrong.
 * Instance locations come as `#/a/b`; shown as `a.b`.
 */
function leafIssues(errors: readonly { keyword: string; instanceLocation: string; error: string }[]): ArgumentIssue[] {
  const wrappers = new Set(["properties", "items", "prefixItems", "allOf", "$ref", "additionalProperties", "unevaluatedProperties"]);
  const leaves = errors.filter((error) => !wrappers.has(error.keyword));
  const chosen = leaves.length > 0 ? leaves : errors;
  const seen = new Set<string>();
  const issues: ArgumentIssue[] = [];
  for (const error of chosen) {
    const path = error.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean).join(".");
    // A `false` schema is how additionalProperties:false rejects a key: say so in words.
    const message = error.keyword === "false" ? "is not an accepted argument" : error.error.replace(/\.$/, "");
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
}
