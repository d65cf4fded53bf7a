/**
 * LLM names for the tools of peers — a session's device, an agent's dial-in providers — through the one
 * naming module (tools/naming.ts). One scope per device and per agent: a provider's tools are
 * `<provider>__<tool>`, a device's are its own names made safe. Pure.
 */
import type { ToolDescriptor, ToolSource } from "../../core/schemas";
import { assignNames, describeNamed, sanitizeName, shorten, singleUnderscores, type Assignment, type NamingOptions, type StoredNames } from "../naming";
import type { PeerTool } from "./jsonrpc";

export interface PeerToolGroup {
  /** The peer's identity in the scope ("" for a session's one device). */
  peer: string;
  /** Put before every tool name as `<prefix>__` (a provider's name); none for a device. */
  prefix?: string;
  tools: readonly PeerTool[];
}

export interface NamedPeerTool {
  name: string;
  peer: string;
  tool: PeerTool;
}

export interface PeerNaming {
  assignment: Assignment;
  /** Every tool with its name, in group order then peer order. */
  tools: NamedPeerTool[];
  byName: ReadonlyMap<string, NamedPeerTool>;
}

const keyOf = (peer: string, tool: string) => (peer === "" ? tool : `${peer}\u0000${tool}`);

/**
 * A device names its own tools, and could pick names of the other sources' namespaces: `local_*` (local tools),
 * `mcp_*` (external servers), `*__*` (dial-in providers). The catalogue gives a contested name to the configured
 * source, so such a device tool would be dropped — or, with a name handed out before that source listed it, the
 * name the LLM was given for the device's tool would run the other source's. Moved out instead: `__` runs
 * become `_`, and `local_`/`mcp_` names get `device_` before them (`local_exit` → `device_local_exit`).
 */
export function outsideOtherNamespaces(name: string): string {
  const single = singleUnderscores(name);
  return /^(local|mcp)_/.test(single) ? `device_${single}` : single;
}

export function namePeerTools(previous: StoredNames | undefined, groups: readonly PeerToolGroup[], options: NamingOptions): PeerNaming {
  const requests = groups.flatMap((group) =>
    group.tools.map((tool) => {
      const safe = sanitizeName(tool.name, options);
      if (group.prefix !== undefined) return { key: keyOf(group.peer, tool.name), candidates: [shorten(`${group.prefix}__${safe.name}`)], distance: safe.changes };
      const own = shorten(outsideOtherNamespaces(safe.name));
      return { key: keyOf(group.peer, tool.name), candidates: [own], distance: safe.changes + (own === shorten(safe.name) ? 0 : 1) };
    }),
  );
  // A name stored before this rule existed may lie in another source's namespace: it is not kept.
  const unprefixed = groups.length > 0 && groups.every((group) => group.prefix === undefined);
  const kept = previous && unprefixed ? withoutForeignNames(previous) : previous;
  const assignment = assignNames(kept, requests);
  const tools: NamedPeerTool[] = [];
  const byName = new Map<string, NamedPeerTool>();
  for (const group of groups) {
    for (const tool of group.tools) {
      const name = assignment.byKey.get(keyOf(group.peer, tool.name));
      if (name === undefined || byName.has(name)) continue;
      const named = { name, peer: group.peer, tool };
      tools.push(named);
      byName.set(name, named);
    }
  }
  return { assignment, tools, byName };
}

function withoutForeignNames(names: StoredNames): StoredNames {
  const own = ([, name]: [string, string]) => outsideOtherNamespaces(name) === name;
  const live = names.live.filter(own);
  const retired = names.retired.filter(own);
  return live.length === names.live.length && retired.length === names.retired.length ? names : { live, retired };
}

/** What the LLM sees of a peer tool (a romanized name keeps its original in the description). */
export function describePeerTool(named: NamedPeerTool, source: ToolSource, options: NamingOptions): ToolDescriptor {
  const { tool } = named;
  return { name: named.name, description: describeNamed(tool.name, tool.description, options), input_schema: tool.inputSchema, source };
}
