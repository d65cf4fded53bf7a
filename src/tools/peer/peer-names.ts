/**
 * LLM names for the tools of peers — a session's device, an agent's dial-in providers — through the one
 * naming module (tools/naming.ts). One scope per device and per agent: a provider's tools are
 * `<provider>__<tool>`, a device's are its own names made safe. Pure.
 */
import type { ToolDescriptor, ToolSource } from "../../core/schemas";
import { assignNames, sanitizeName, shorten, type Assignment, type NamingOptions, type StoredNames } from "../naming";
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

export function namePeerTools(previous: StoredNames | undefined, groups: readonly PeerToolGroup[], options: NamingOptions): PeerNaming {
  const requests = groups.flatMap((group) =>
    group.tools.map((tool) => {
      const safe = sanitizeName(tool.name, options);
      const name = shorten(group.prefix === undefined ? safe.name : `${group.prefix}__${safe.name}`);
      return { key: keyOf(group.peer, tool.name), candidates: [name], distance: safe.changes };
    }),
  );
  const assignment = assignNames(previous, requests);
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

/**
 * What the LLM sees of a peer tool. A name romanized from another script keeps the original at the start of
 * its description, so the model (and the user reading a transcript) still knows what it is.
 */
export function describePeerTool(named: NamedPeerTool, source: ToolSource, options: NamingOptions): ToolDescriptor {
  const { tool } = named;
  const description = sanitizeName(tool.name, options).transliterated ? `[${tool.name}] ${tool.description}`.trim() : tool.description;
  return { name: named.name, description, input_schema: tool.inputSchema, source };
}
