/**
 * LLM names of external tools. Pure and deterministic: the same servers (config order) with the same tool
 * lists give the same names on every run, whatever order the upstreams answer in.
 *
 * Rule:
 *  1. `mcp_<tool>` (as today's voice server names them, spec §3), with characters outside `[A-Za-z0-9_-]`
 *     replaced by `_`.
 *  2. When two or more tools would get the same name, *every* one of them is qualified as
 *     `mcp_<prefix>_<tool>` (prefix = the server's `prefix`, else its name) — no server silently wins.
 *  3. If a qualified name still clashes, the clashing names get `_<8 hex>` (FNV-1a of server and tool).
 *  4. A name longer than 64 characters (LLM APIs reject longer ones) keeps its first 55 characters and
 *     ends with `_<8 hex>` of the full name, so shortening is stable too.
 */
import { hash8, MAX_NAME_LENGTH, sanitizeName, shorten } from "../tool-names";

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
  /** Every tool with its LLM name, in input order (servers in config order, tools in upstream order). */
  tools: NamedTool[];
  /** Base names that were claimed by more than one tool, with who claimed them (for a one-time log). */
  collisions: { name: string; claimants: { server: string; tool: string }[] }[];
}

export function assignNames(inputs: readonly NamingInput[]): Naming {
  const entries: { server: string; prefix: string; tool: string; base: string }[] = [];
  for (const input of inputs) {
    const seen = new Set<string>();
    for (const tool of input.tools) {
      if (seen.has(tool)) continue; // a server listing one tool twice is answered once
      seen.add(tool);
      entries.push({ server: input.server, prefix: input.prefix, tool, base: `mcp_${sanitizeName(tool)}` });
    }
  }

  const byBase = groupBy(entries, (entry) => entry.base);
  const collisions: Naming["collisions"] = [];
  for (const [name, group] of byBase) {
    if (group.length > 1) collisions.push({ name, claimants: group.map(({ server, tool }) => ({ server, tool })) });
  }

  let names = entries.map((entry) =>
    (byBase.get(entry.base)?.length ?? 0) > 1 ? `mcp_${entry.prefix}_${sanitizeName(entry.tool)}` : entry.base,
  );
  // A qualified name can still meet another name (`a` + `b_x` vs `a_b` + `x`): suffix every clashing one.
  // The identity hash makes each distinct; the attempt number only matters for a (vanishingly rare) hash clash.
  for (let attempt = 0; attempt < 8 && hasDuplicates(names); attempt += 1) {
    const counts = countBy(names);
    names = names.map((name, i) => {
      if ((counts.get(name) ?? 0) < 2) return name;
      const entry = entries[i]!;
      return `${name}_${hash8(`${attempt}\u0000${entry.server}\u0000${entry.tool}`)}`;
    });
  }
  names = names.map(shorten);
  for (let attempt = 0; attempt < 8 && hasDuplicates(names); attempt += 1) {
    const counts = countBy(names);
    names = names.map((name, i) => {
      if ((counts.get(name) ?? 0) < 2) return name;
      const entry = entries[i]!;
      return `${name.slice(0, MAX_NAME_LENGTH - 9)}_${hash8(`late${attempt}\u0000${entry.server}\u0000${entry.tool}`)}`;
    });
  }

  return {
    tools: entries.map((entry, i) => ({ server: entry.server, tool: entry.tool, name: names[i]! })),
    collisions,
  };
}


function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function countBy(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function hasDuplicates(names: readonly string[]): boolean {
  return new Set(names).size !== names.length;
}
