/**
 * LLM names of external tools, through the one naming module (tools/naming.ts), in one scope per session.
 *
 * Rule:
 *  1. `mcp_<tool>` (as today's voice server names them, spec §3), the tool name made safe.
 *  2. When two or more servers' tools want the same name at once, *every* one of them is qualified as
 *     `mcp_<prefix>_<tool>` (prefix = the server's `prefix`, else its name) — no server silently wins.
 *  3. If a qualified name still clashes, the clashing names get `_<8 hex>` of their server and tool.
 *  4. Names are at most 64 characters (first 55 + `_` + 8 hex digits of the full name), with single underscores
 *     only: `__` is the dial-in providers' separator.
 *  5. A tool keeps its name while it exists: a server that later lists a colliding tool gets the qualified
 *     name for it, the tool named first keeps `mcp_<tool>`; names of tools that left stay reserved.
 */
import { assignNames, sanitizeName, shorten, singleUnderscores, type Assignment, type NamingOptions, type StoredNames } from "../../tools/naming";

export interface NamingInput {
  server: string;
  prefix: string;
  /** Upstream tool names, already filtered by allow/deny. */
  tools: readonly string[];
}

export interface NamedTool {
  server: string;
  tool: string;
  name: string;
}

export interface Naming {
  assignment: Assignment;
  /** Every tool with its LLM name, in input order (servers in config order, tools in upstream order). */
  tools: NamedTool[];
  /** Base names that were claimed by more than one tool at once, with who claimed them (for a one-time log). */
  collisions: { name: string; claimants: { server: string; tool: string }[] }[];
}

const keyOf = (server: string, tool: string) => `${server}\u0000${tool}`;

export function nameExternalTools(previous: StoredNames | undefined, inputs: readonly NamingInput[], options: NamingOptions): Naming {
  const entries: { server: string; tool: string }[] = [];
  const requests = [];
  for (const input of inputs) {
    const seen = new Set<string>();
    for (const tool of input.tools) {
      if (seen.has(tool)) continue; // a server listing one tool twice is answered once
      seen.add(tool);
      const safe = sanitizeName(tool, options).name;
      entries.push({ server: input.server, tool });
      // Every claimant of a tie is qualified (distance 0 for all): no server wins by listing order.
      // Single underscores only (`mcp_a__b` would be a provider's name, `mcp` its tool's `a_b`).
      const candidates = [`mcp_${safe}`, `mcp_${input.prefix}_${safe}`].map((name) => shorten(singleUnderscores(name)));
      requests.push({ key: keyOf(input.server, tool), candidates, distance: 0 });
    }
  }
  const assignment = assignNames(previous, requests);
  const claimants = new Map(entries.map((entry) => [keyOf(entry.server, entry.tool), entry]));
  return {
    assignment,
    tools: entries.map((entry) => ({ ...entry, name: assignment.byKey.get(keyOf(entry.server, entry.tool))! })),
    collisions: assignment.collisions.map((collision) => ({
      name: collision.name,
      claimants: collision.keys.map((key) => claimants.get(key)!).map(({ server, tool }) => ({ server, tool })),
    })),
  };
}
