/** Publishes a zod input schema as the JSON Schema an LLM sees in `input_schema`. */
import { z } from "zod";

export function toInputSchema(schema: z.ZodType): Record<string, z.core.util.JSONType> {
  const { $schema: _drop, ...jsonSchema } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return jsonSchema as Record<string, z.core.util.JSONType>;
}
